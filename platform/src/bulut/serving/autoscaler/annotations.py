"""Revision autoscaling annotations: lookup with legacy aliases and webhook validation (§1.2).

Ranges follow Knative's ``annotation_validation.go``; every error names the annotation
key that was actually written (canonical or camelCase alias) as
``metadata.annotations.<key>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bulut.errors import InvalidResourceError
from bulut.serving.autoscaler.config import HPA_CLASS, KPA_CLASS, TARGET_MIN, AutoscalerConfig
from bulut.serving.autoscaler.values import (
    format_seconds,
    is_whole_seconds,
    parse_duration,
    parse_float,
    parse_int32,
)

PREFIX = "autoscaling.knative.dev/"
_ALIASES = {
    "target-utilization-percentage": "targetUtilizationPercentage",
    "min-scale": "minScale",
    "max-scale": "maxScale",
    "initial-scale": "initialScale",
    "panic-window-percentage": "panicWindowPercentage",
    "panic-threshold-percentage": "panicThresholdPercentage",
    "target-burst-capacity": "targetBurstCapacity",
    "scale-down-delay": "scaleDownDelay",
    "scale-to-zero-pod-retention-period": "scaleToZeroPodRetentionPeriod",
    "metric-aggregation-algorithm": "metricAggregationAlgorithm",
}
_FULL_KEYS = {"progress-deadline": "serving.knative.dev/progress-deadline"}
_ALGORITHMS = {
    "linear": "linear",
    "weighted-exponential": "weighted-exponential",
    "weightedExponential": "weighted-exponential",
}


class Annotations:
    """Typed, validated access to one revision's ``metadata.annotations``."""

    def __init__(self, annotations: Mapping[str, str]) -> None:
        self._annotations = annotations

    def lookup(self, name: str) -> tuple[str, str] | None:
        """(key as written, value) for a short name, canonical key before its alias."""
        candidates = [_FULL_KEYS.get(name, PREFIX + name)]
        if name in _ALIASES:
            candidates.append(PREFIX + _ALIASES[name])
        for key in candidates:
            if key in self._annotations:
                return key, self._annotations[key]
        return None

    def autoscaler_class(self) -> str:
        """The PodAutoscaler class (KPA when absent)."""
        found = self.lookup("class")
        return KPA_CLASS if found is None else found[1]

    def check_class(self) -> None:
        """Reject a ``*.knative.dev`` class that is neither KPA nor HPA."""
        found = self.lookup("class")
        if found and found[1].endswith(".knative.dev") and found[1] not in (KPA_CLASS, HPA_CLASS):
            raise _invalid(found[0], f"{found[1]!r} is not a known autoscaler class")

    def metric(self) -> str:
        """``concurrency`` or ``rps``; a non-KPA class is scaled on concurrency locally."""
        found = self.lookup("metric")
        autoscaler = self.autoscaler_class()
        if found is None:
            return "concurrency"
        valid = {KPA_CLASS: ("concurrency", "rps"), HPA_CLASS: ("cpu", "memory")}.get(autoscaler)
        if valid is not None and found[1] not in valid:
            raise _invalid(found[0], f"{found[1]!r} must be one of {', '.join(valid)}")
        return found[1] if autoscaler == KPA_CLASS else "concurrency"

    def algorithm(self) -> str:
        """``linear`` (default) or ``weighted-exponential``."""
        found = self.lookup("metric-aggregation-algorithm")
        if found is None:
            return "linear"
        if found[1] not in _ALGORITHMS:
            raise _invalid(found[0], f"{found[1]!r} must be linear or weighted-exponential")
        return _ALGORITHMS[found[1]]

    def float_in(self, name: str, low: float, high: float) -> float | None:
        """A float annotation within [low, high], or ``None`` when absent."""
        found = self.lookup(name)
        if found is None:
            return None
        value = parse_float(found[1])
        if value is None or not low <= value <= high:
            raise _invalid(found[0], f"{found[1]!r} must be a number in [{low:g}, {high:g}]")
        return value

    def target(self) -> float | None:
        """The ``target`` annotation (at least 0.01), or ``None``."""
        found = self.lookup("target")
        if found is None:
            return None
        value = parse_float(found[1])
        if value is None or value < TARGET_MIN:
            raise _invalid(found[0], f"target {found[1]} should be at least {TARGET_MIN}")
        return value

    def burst_capacity(self, default: float) -> float:
        """``target-burst-capacity``: non-negative or exactly -1."""
        found = self.lookup("target-burst-capacity")
        if found is None:
            return default
        value = parse_float(found[1])
        if value is None or (value < 0 and value != -1):
            raise _invalid(found[0], f"{found[1]!r} must be non-negative or -1 (unlimited)")
        return value

    def duration_in(
        self, name: str, low: float, high: float, *, whole: bool = False
    ) -> float | None:
        """A Go duration within [low, high] seconds (whole seconds if asked), or ``None``."""
        found = self.lookup(name)
        if found is None:
            return None
        value = parse_duration(found[1])
        span = f"[{format_seconds(low)}, {'∞' if math.isinf(high) else format_seconds(high)}]"
        if value is None or not low <= value <= high:
            raise _invalid(found[0], f"{found[1]!r} must be a duration in {span}")
        if whole and not is_whole_seconds(value):
            raise _invalid(
                found[0], f"{found[1]!r} must be specified with at most second precision"
            )
        return value

    def _int_ge0(self, name: str) -> tuple[str, int] | None:
        """(key, value) of a non-negative int32 annotation, or ``None`` when absent."""
        found = self.lookup(name)
        if found is None:
            return None
        value = parse_int32(found[1])
        if value is None or value < 0:
            raise _invalid(found[0], f"{found[1]!r} must be an integer in [0, 2147483647]")
        return found[0], value

    def scale_bounds(self, config: AutoscalerConfig) -> tuple[int, int]:
        """(min-scale, max-scale) with config defaults; checks max ≥ min and max-scale-limit."""
        low, high = self._int_ge0("min-scale"), self._int_ge0("max-scale")
        min_scale = config.min_scale if low is None else low[1]
        max_scale = config.max_scale if high is None else high[1]
        if high is not None and low is not None and high[1] != 0 and high[1] < low[1]:
            raise _invalid(high[0], f"maxScale={high[1]} is less than minScale={low[1]}")
        limit = config.max_scale_limit
        if high is not None and limit > 0 and (high[1] == 0 or high[1] > limit):
            raise _invalid(high[0], f"{high[1]} must be in [1, {limit}] (max-scale-limit)")
        return min_scale, max_scale

    def initial_scale(self, config: AutoscalerConfig) -> int | None:
        """``initial-scale``; 0 only when allow-zero-initial-scale is true."""
        found = self._int_ge0("initial-scale")
        if found is None:
            return None
        if found[1] == 0 and not config.allow_zero_initial_scale:
            raise _invalid(found[0], "0 needs allow-zero-initial-scale: true in config-autoscaler")
        return found[1]

    def activation_scale(self, min_scale: int, max_scale: int) -> int:
        """``activation-scale`` (1 when absent): at least 2, ≥ min-scale and ≤ max-scale."""
        found = self._int_ge0("activation-scale")
        if found is None:
            return 1
        key, value = found
        if value < 2 or value < min_scale or (max_scale > 0 and value > max_scale):
            upper = str(max_scale) if max_scale > 0 else "2147483647"
            raise _invalid(key, f"{value} must be in [{max(2, min_scale)}, {upper}]")
        return value


def _invalid(key: str, message: str) -> InvalidResourceError:
    """The error for one bad annotation."""
    return InvalidResourceError(f"{key}: {message}", field=f"metadata.annotations.{key}")
