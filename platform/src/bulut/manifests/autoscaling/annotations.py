"""Per-revision autoscaling annotations, parsed and validated once (reference/knative.md §1.2).

The control plane's webhook rules and the autoscaler's DeciderSpec both call
:func:`parse_annotations`, so a value one of them accepts is a value the other accepts, and
both read the same number out of it. Ranges follow Knative's ``annotation_validation.go``;
values are read with Go's syntax (:mod:`bulut.manifests.autoscaling.values`). The canonical
key is looked up before its legacy camelCase alias, and an error names the key as written:
``InvalidResourceError("<message>: <path>.<key>", field="<path>.<key>")``.

Two rules need ``config-autoscaler`` (``max-scale-limit`` and ``allow-zero-initial-scale``);
they apply only when a config is passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling.config import (
    HPA_CLASS,
    KPA_CLASS,
    PANIC_WINDOW_PERCENTAGE_MAX,
    PANIC_WINDOW_PERCENTAGE_MIN,
    TARGET_MIN,
    WINDOW_MAX,
    WINDOW_MIN,
    AutoscalerConfig,
    is_burst_capacity,
)
from bulut.manifests.autoscaling.values import (
    INT32_MAX,
    format_seconds,
    is_whole_seconds,
    parse_duration,
    parse_float,
    parse_int32,
    parse_integer,
)

PREFIX = "autoscaling.knative.dev/"
CLASS = PREFIX + "class"
METRIC = PREFIX + "metric"
TARGET = PREFIX + "target"
TARGET_UTILIZATION_PERCENTAGE = PREFIX + "target-utilization-percentage"
MIN_SCALE = PREFIX + "min-scale"
MAX_SCALE = PREFIX + "max-scale"
INITIAL_SCALE = PREFIX + "initial-scale"
ACTIVATION_SCALE = PREFIX + "activation-scale"
WINDOW = PREFIX + "window"
PANIC_WINDOW_PERCENTAGE = PREFIX + "panic-window-percentage"
PANIC_THRESHOLD_PERCENTAGE = PREFIX + "panic-threshold-percentage"
TARGET_BURST_CAPACITY = PREFIX + "target-burst-capacity"
SCALE_DOWN_DELAY = PREFIX + "scale-down-delay"
SCALE_TO_ZERO_POD_RETENTION_PERIOD = PREFIX + "scale-to-zero-pod-retention-period"
METRIC_AGGREGATION_ALGORITHM = PREFIX + "metric-aggregation-algorithm"
PROGRESS_DEADLINE = "serving.knative.dev/progress-deadline"

# canonical key -> legacy alias (S:pkg/apis/autoscaling/register.go)
ALIASES = {
    TARGET_UTILIZATION_PERCENTAGE: PREFIX + "targetUtilizationPercentage",
    MIN_SCALE: PREFIX + "minScale",
    MAX_SCALE: PREFIX + "maxScale",
    INITIAL_SCALE: PREFIX + "initialScale",
    PANIC_WINDOW_PERCENTAGE: PREFIX + "panicWindowPercentage",
    PANIC_THRESHOLD_PERCENTAGE: PREFIX + "panicThresholdPercentage",
    TARGET_BURST_CAPACITY: PREFIX + "targetBurstCapacity",
    SCALE_DOWN_DELAY: PREFIX + "scaleDownDelay",
    SCALE_TO_ZERO_POD_RETENTION_PERIOD: PREFIX + "scaleToZeroPodRetentionPeriod",
    METRIC_AGGREGATION_ALGORITHM: PREFIX + "metricAggregationAlgorithm",
}

CONCURRENCY = "concurrency"
RPS = "rps"
KPA_METRICS = (CONCURRENCY, RPS)
LINEAR = "linear"
WEIGHTED_EXPONENTIAL = "weighted-exponential"
ALGORITHMS = {
    LINEAR: LINEAR,
    WEIGHTED_EXPONENTIAL: WEIGHTED_EXPONENTIAL,
    "weightedExponential": WEIGHTED_EXPONENTIAL,
}
TARGET_UTILIZATION_PERCENTAGE_MIN = 1.0
TARGET_UTILIZATION_PERCENTAGE_MAX = 100.0
PANIC_THRESHOLD_PERCENTAGE_MIN = 110.0
PANIC_THRESHOLD_PERCENTAGE_MAX = 1000.0
ACTIVATION_SCALE_MIN = 2
SCALE_DOWN_DELAY_MAX = WINDOW_MAX  # Knative caps both delays at the longest window
POD_RETENTION_PERIOD_MAX = WINDOW_MAX


@dataclass(frozen=True)
class AutoscalingAnnotations:
    """One revision's autoscaling annotations as values; ``None`` where a key is absent.

    Durations are seconds. ``metric_aggregation_algorithm`` is normalized
    (``weightedExponential`` → ``weighted-exponential``) when it is one Knative knows.
    """

    autoscaler_class: str = KPA_CLASS
    metric: str | None = None
    target: float | None = None
    target_utilization_percentage: float | None = None
    min_scale: int | None = None
    max_scale: int | None = None
    initial_scale: int | None = None
    activation_scale: int | None = None
    window: float | None = None
    panic_window_percentage: float | None = None
    panic_threshold_percentage: float | None = None
    target_burst_capacity: float | None = None
    scale_down_delay: float | None = None
    scale_to_zero_pod_retention_period: float | None = None
    metric_aggregation_algorithm: str | None = None
    progress_deadline: float | None = None

    @property
    def is_kpa(self) -> bool:
        """Whether the revision is scaled by the KPA (the class when none is set)."""
        return self.autoscaler_class == KPA_CLASS


def parse_annotations(
    annotations: Mapping[str, object],
    config: AutoscalerConfig | None = None,
    *,
    path: str = "metadata.annotations",
) -> AutoscalingAnnotations:
    """Every autoscaling annotation of a revision, validated like Knative's webhook.

    ``path`` is where the annotations live (``spec.template.metadata.annotations`` for a
    Service). With ``config``, ``max-scale`` must respect ``max-scale-limit`` and
    ``initial-scale: "0"`` needs ``allow-zero-initial-scale``; without it those two rules
    are left to whoever knows the cluster's config. Raises :class:`InvalidResourceError`
    naming ``<path>.<key>`` for the first value Knative would reject, checked in the order
    of Knative's ``ValidateAnnotations``.
    """
    read = _Reader(annotations, path)
    autoscaler_class = _autoscaler_class(read)
    min_scale, max_scale, activation_scale = _scale_bounds(read, config)
    panic_window_percentage = read.number_in(
        PANIC_WINDOW_PERCENTAGE, PANIC_WINDOW_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX
    )
    panic_threshold_percentage = read.number_in(
        PANIC_THRESHOLD_PERCENTAGE, PANIC_THRESHOLD_PERCENTAGE_MIN, PANIC_THRESHOLD_PERCENTAGE_MAX
    )
    target = read.number_in(TARGET, TARGET_MIN, None)
    utilization = read.number_in(
        TARGET_UTILIZATION_PERCENTAGE,
        TARGET_UTILIZATION_PERCENTAGE_MIN,
        TARGET_UTILIZATION_PERCENTAGE_MAX,
    )
    burst = _burst_capacity(read)
    window = read.duration_in(WINDOW, WINDOW_MIN, WINDOW_MAX, whole=True)
    retention = read.duration_in(
        SCALE_TO_ZERO_POD_RETENTION_PERIOD, 0.0, POD_RETENTION_PERIOD_MAX, whole=False
    )
    delay = read.duration_in(SCALE_DOWN_DELAY, 0.0, SCALE_DOWN_DELAY_MAX, whole=True)
    metric = _metric(read, autoscaler_class)
    algorithm = _algorithm(read, autoscaler_class)
    initial_scale = _initial_scale(read, config)
    return AutoscalingAnnotations(
        autoscaler_class=autoscaler_class,
        metric=metric,
        target=target,
        target_utilization_percentage=utilization,
        min_scale=min_scale,
        max_scale=max_scale,
        initial_scale=initial_scale,
        activation_scale=activation_scale,
        window=window,
        panic_window_percentage=panic_window_percentage,
        panic_threshold_percentage=panic_threshold_percentage,
        target_burst_capacity=burst,
        scale_down_delay=delay,
        scale_to_zero_pod_retention_period=retention,
        metric_aggregation_algorithm=algorithm,
        progress_deadline=_progress_deadline(read),
    )


class _Reader:
    """Typed lookups in one annotation map; every error names ``<path>.<key as written>``."""

    def __init__(self, annotations: Mapping[str, object], path: str) -> None:
        self._annotations = annotations
        self._path = path

    def fail(self, key: str, message: str) -> NoReturn:
        """Raise the webhook-style error ``<message>: <path>.<key>``."""
        where = f"{self._path}.{key}"
        raise InvalidResourceError(f"{message}: {where}", field=where)

    def get(self, key: str) -> tuple[str, str] | None:
        """(key as written, value) for a canonical key, canonical before alias."""
        for name in (key, ALIASES.get(key)):
            if name is not None and name in self._annotations:
                value = self._annotations[name]
                if not isinstance(value, str):
                    self.fail(name, f"expected a string, got {type(value).__name__}")
                return name, value
        return None

    def integer(self, key: str) -> tuple[str, int] | None:
        """An int32 annotation (Go's ``strconv.ParseInt(v, 10, 32)``), or ``None`` when absent."""
        found = self.get(key)
        if found is None:
            return None
        name, raw = found
        value = parse_int32(raw)
        if value is None:
            self.fail(name, f"invalid value: {raw}")
        return name, value

    def count(self, key: str) -> tuple[str, int] | None:
        """A non-negative int32 annotation (Knative's ``getIntGE0``), or ``None`` when absent."""
        found = self.get(key)
        if found is None:
            return None
        name, raw = found
        value = parse_integer(raw)
        if value is None:
            self.fail(name, f"invalid value: {raw}")
        if not 0 <= value <= INT32_MAX:
            self.fail(name, f"expected 0 <= {raw} <= {INT32_MAX}")
        return name, value

    def number_in(self, key: str, low: float, high: float | None) -> float | None:
        """A finite float within [low, high] (no upper bound when high is None), or ``None``."""
        found = self.get(key)
        if found is None:
            return None
        name, raw = found
        value = parse_float(raw)
        if value is None:
            self.fail(name, f"invalid value: {raw}")
        if value < low or (high is not None and value > high):
            upper = "" if high is None else f" <= {high:g}"
            self.fail(name, f"expected {low:g} <= {raw}{upper}")
        return value

    def duration_in(self, key: str, low: float, high: float, *, whole: bool) -> float | None:
        """A Go duration within [low, high] seconds (whole seconds if asked), or ``None``."""
        found = self.get(key)
        if found is None:
            return None
        name, raw = found
        value = parse_duration(raw)
        if value is None:
            self.fail(name, f"invalid value: {raw}")
        if not low <= value <= high:
            self.fail(name, f"expected {format_seconds(low)} <= {raw} <= {format_seconds(high)}")
        if whole and not is_whole_seconds(value):
            self.fail(name, "must be specified with at most second precision")
        return value


def _autoscaler_class(read: _Reader) -> str:
    """KPA, HPA or any class outside ``knative.dev``; KPA when absent."""
    found = read.get(CLASS)
    if found is None:
        return KPA_CLASS
    key, value = found
    if value.endswith(".knative.dev") and value not in (KPA_CLASS, HPA_CLASS):
        read.fail(key, f"invalid value: {value}")
    return value


def _scale_bounds(
    read: _Reader, config: AutoscalerConfig | None
) -> tuple[int | None, int | None, int | None]:
    """(min-scale, max-scale, activation-scale): max ≥ min unless 0, within max-scale-limit,
    and 2 ≤ activation-scale, min-scale ≤ activation-scale ≤ max-scale."""
    low, high = read.count(MIN_SCALE), read.count(MAX_SCALE)
    min_scale = 0 if low is None else low[1]
    max_scale = 0 if high is None else high[1]
    if high is not None and max_scale != 0 and max_scale < min_scale:
        read.fail(high[0], f"max-scale={max_scale} is less than min-scale={min_scale}")
    limit = 0 if config is None else config.max_scale_limit
    if high is not None and limit > 0:
        if max_scale > limit:
            read.fail(high[0], f"expected 1 <= {max_scale} <= {limit}")
        if max_scale == 0:
            read.fail(high[0], f"max-scale=0 (unlimited), must be less than {limit}")
    ceiling = 0 if config is None else config.ceiling
    if ceiling > 0:
        if high is not None and max_scale > ceiling:
            read.fail(high[0], f"expected 1 <= {max_scale} <= {_ceiling_name(config, ceiling)}")
        if low is not None and min_scale > ceiling:
            read.fail(low[0], f"expected 0 <= {min_scale} <= {_ceiling_name(config, ceiling)}")
    activation = read.integer(ACTIVATION_SCALE)
    if activation is not None:
        key, value = activation
        if value < ACTIVATION_SCALE_MIN:
            read.fail(key, f"expected {ACTIVATION_SCALE_MIN} <= {value}")
        if value < min_scale:
            read.fail(key, f"min-scale={min_scale} is greater than activation-scale={value}")
        if max_scale != 0 and value > max_scale:
            read.fail(key, f"max-scale={max_scale} is less than activation-scale={value}")
    return (
        None if low is None else min_scale,
        None if high is None else max_scale,
        None if activation is None else activation[1],
    )


def _ceiling_name(config: AutoscalerConfig | None, ceiling: int) -> str:
    """How an error names the bound that applies: max-scale-limit or Bulut's ceiling."""
    if config is not None and config.max_scale_limit == ceiling:
        return f"{ceiling} (max-scale-limit)"
    return f"{ceiling} (the platform's ceiling, BULUT_MAX_SCALE)"


def _burst_capacity(read: _Reader) -> float | None:
    """``target-burst-capacity``: non-negative, or exactly -1 (unlimited)."""
    found = read.get(TARGET_BURST_CAPACITY)
    if found is None:
        return None
    key, raw = found
    value = parse_float(raw)
    if value is None:
        read.fail(key, f"invalid value: {raw}")
    if not is_burst_capacity(value):
        read.fail(key, f"expected 0 <= {raw} or -1")
    return value


def _metric(read: _Reader, autoscaler_class: str) -> str | None:
    """``concurrency`` or ``rps`` for the KPA; other classes (HPA: cpu, memory, custom) may
    name any metric."""
    found = read.get(METRIC)
    if found is None:
        return None
    key, value = found
    if autoscaler_class == KPA_CLASS and value not in KPA_METRICS:
        read.fail(key, f"invalid value: {value}")
    return value


def _algorithm(read: _Reader, autoscaler_class: str) -> str | None:
    """``linear`` or ``weighted-exponential`` (alias ``weightedExponential``), checked for the
    KPA only; an empty value counts as absent."""
    found = read.get(METRIC_AGGREGATION_ALGORITHM)
    if found is None or not found[1]:
        return None
    key, value = found
    if autoscaler_class == KPA_CLASS and value not in ALGORITHMS:
        read.fail(key, f"invalid value: {value}")
    return ALGORITHMS.get(value, value)


def _initial_scale(read: _Reader, config: AutoscalerConfig | None) -> int | None:
    """``initial-scale`` ≥ 0; 0 only when the config allows zero initial scale."""
    found = read.count(INITIAL_SCALE)
    if found is None:
        return None
    key, value = found
    if config is not None and 0 < config.ceiling < value:
        read.fail(key, f"expected 0 <= {value} <= {_ceiling_name(config, config.ceiling)}")
    if value == 0 and config is not None and not config.allow_zero_initial_scale:
        read.fail(
            key,
            "invalid value: 0: initial-scale=0 needs allow-zero-initial-scale: "
            '"true" in config-autoscaler',
        )
    return value


def _progress_deadline(read: _Reader) -> float | None:
    """``serving.knative.dev/progress-deadline``: a positive duration in whole seconds."""
    found = read.get(PROGRESS_DEADLINE)
    if found is None:
        return None
    key, raw = found
    value = parse_duration(raw)
    if value is None:
        read.fail(key, f"invalid value: {raw}")
    if value <= 0:
        read.fail(key, f"expected 0s < {raw}")
    if not is_whole_seconds(value):
        read.fail(key, "must be specified with at most second precision")
    return value
