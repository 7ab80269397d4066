"""Autoscaling annotations on a revision template (reference/knative.md §1.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .common import fail

PREFIX = "autoscaling.knative.dev/"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")

# canonical key -> legacy alias
ALIASES = {
    "min-scale": "minScale",
    "max-scale": "maxScale",
    "initial-scale": "initialScale",
    "target-utilization-percentage": "targetUtilizationPercentage",
    "panic-window-percentage": "panicWindowPercentage",
    "panic-threshold-percentage": "panicThresholdPercentage",
    "target-burst-capacity": "targetBurstCapacity",
    "scale-down-delay": "scaleDownDelay",
    "scale-to-zero-pod-retention-period": "scaleToZeroPodRetentionPeriod",
    "metric-aggregation-algorithm": "metricAggregationAlgorithm",
}


def annotation(annotations: Mapping[str, str], key: str) -> tuple[str, str] | None:
    """(full key, value) of an autoscaling annotation, canonical key first, then alias."""
    for name in (key, ALIASES.get(key)):
        if name and PREFIX + name in annotations:
            return PREFIX + name, annotations[PREFIX + name]
    return None


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration like ``60s``, ``1m30s``, ``1h``; None if unparsable."""
    match = _DURATION.match(text.strip())
    if not match or not text.strip():
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _number(annotations: Mapping[str, str], key: str, path: str) -> tuple[str, float] | None:
    found = annotation(annotations, key)
    if found is None:
        return None
    full, raw = found
    try:
        return full, float(raw)
    except ValueError:
        fail(f"invalid value: {raw}", f"{path}.{full}")


def _check_range(
    annotations: Mapping[str, str], key: str, path: str, low: float, high: float | None = None
) -> float | None:
    found = _number(annotations, key, path)
    if found is None:
        return None
    full, value = found
    if value < low or (high is not None and value > high):
        bound = f"{low:g} <= {value:g} <= {high:g}" if high is not None else f"{low:g} <= {value:g}"
        fail(f"expected {bound}", f"{path}.{full}")
    return value


def _check_int(annotations: Mapping[str, str], key: str, path: str) -> int | None:
    found = annotation(annotations, key)
    if found is None:
        return None
    full, raw = found
    if not raw.strip().isdigit():
        fail(f"invalid value: {raw}", f"{path}.{full}")
    return int(raw)


def _check_duration(
    annotations: Mapping[str, str], key: str, path: str, low: float, high: float
) -> None:
    found = annotation(annotations, key)
    if found is None:
        return
    full, raw = found
    seconds = parse_duration(raw)
    if seconds is None:
        fail(f"invalid value: {raw}", f"{path}.{full}")
    if not low <= seconds <= high:
        fail(f"expected {low:g}s <= {raw} <= {high:g}s", f"{path}.{full}")


def validate_autoscaling(annotations: Mapping[str, str], path: str) -> None:
    """Ranges and types of the per-revision autoscaling annotations."""
    min_scale = _check_int(annotations, "min-scale", path)
    max_scale = _check_int(annotations, "max-scale", path)
    if min_scale is not None and max_scale and max_scale < min_scale:
        fail(
            f"max-scale={max_scale} is less than min-scale={min_scale}", f"{path}.{PREFIX}max-scale"
        )
    _check_int(annotations, "initial-scale", path)
    activation = _check_int(annotations, "activation-scale", path)
    if activation is not None and activation < 2:
        fail(f"expected 2 <= {activation}", f"{path}.{PREFIX}activation-scale")
    _check_range(annotations, "target", path, 0.01)
    _check_range(annotations, "target-utilization-percentage", path, 1, 100)
    _check_range(annotations, "panic-window-percentage", path, 1, 100)
    _check_range(annotations, "panic-threshold-percentage", path, 110, 1000)
    burst = _number(annotations, "target-burst-capacity", path)
    if burst is not None and burst[1] < 0 and burst[1] != -1:
        fail(f"expected 0 <= {burst[1]:g} or -1", f"{path}.{burst[0]}")
    _check_duration(annotations, "window", path, 6, 3600)
    _check_duration(annotations, "scale-down-delay", path, 0, 3600)
    _check_duration(annotations, "scale-to-zero-pod-retention-period", path, 0, 3600)
    metric = annotations.get(PREFIX + "metric")
    cls = annotations.get(PREFIX + "class", "kpa.autoscaling.knative.dev")
    if (
        metric is not None
        and cls == "kpa.autoscaling.knative.dev"
        and metric
        not in {
            "concurrency",
            "rps",
        }
    ):
        fail(f"invalid value: {metric}", f"{path}.{PREFIX}metric")
    algorithm = annotation(annotations, "metric-aggregation-algorithm")
    if algorithm and algorithm[1] not in {"linear", "weighted-exponential", "weightedExponential"}:
        fail(f"invalid value: {algorithm[1]}", f"{path}.{algorithm[0]}")
