"""The per-revision DeciderSpec: config-autoscaler merged with revision annotations (§1.2, §1.3).

Mirrors Knative's ``MakeDecider``, ``ResolveMetricTarget``, ``GetInitialScale`` and
``ScaleBounds``; annotations are validated like the serving webhook does
(``annotation_validation.go``), canonical keys first, then the legacy camelCase aliases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bulut.errors import InvalidResourceError
from bulut.serving.autoscaler.annotations import Annotations
from bulut.serving.autoscaler.config import TARGET_MIN, AutoscalerConfig

CONCURRENCY = "concurrency"
RPS = "rps"
LINEAR = "linear"
WEIGHTED_EXPONENTIAL = "weighted-exponential"
DEFAULT_PROGRESS_DEADLINE = 600.0


@dataclass(frozen=True)
class DeciderSpec:
    """Everything one revision's decider and scaler need, durations in seconds."""

    target: float = 70.0
    total: float = 100.0
    utilization: float = 0.7
    target_burst_capacity: float = 211.0
    activator_capacity: float = 100.0
    panic_threshold: float = 2.0
    stable_window: float = 60.0
    panic_window: float = 6.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    scale_down_delay: float = 0.0
    activation_scale: int = 1
    initial_scale: int = 1
    min_scale: int = 0
    max_scale: int = 0
    metric: str = CONCURRENCY
    algorithm: str = LINEAR
    reachable: bool = True
    enable_scale_to_zero: bool = True
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    progress_deadline: float = DEFAULT_PROGRESS_DEADLINE
    container_concurrency: int = 0

    @property
    def lower_bound(self) -> int:
        """min-scale, or 0 when the revision is not routed (``ScaleBounds``)."""
        return self.min_scale if self.reachable else 0


def panic_window(stable_window: float, percentage: float) -> float:
    """Stable window × percentage, rounded half away from zero to whole seconds, at least 1 s."""
    return max(1.0, float(math.floor(stable_window * percentage / 100.0 + 0.5)))


def decider_spec(
    config: AutoscalerConfig,
    annotations: Mapping[str, str],
    container_concurrency: int,
    *,
    reachable: bool = True,
    progress_deadline: float = DEFAULT_PROGRESS_DEADLINE,
) -> DeciderSpec:
    """The DeciderSpec of a revision, honouring every autoscaling annotation.

    Raises :class:`InvalidResourceError` with ``field="metadata.annotations.<key>"`` for a
    value Knative's webhook would reject.
    """
    notes = Annotations(annotations)
    notes.check_class()
    metric = notes.metric()
    total, utilization = _capacity(config, notes, metric, container_concurrency)
    stable = notes.duration_in("window", 6.0, 3600.0, whole=True)
    stable_window = config.stable_window if stable is None else stable
    panic_pct = notes.float_in("panic-window-percentage", 1.0, 100.0)
    threshold = notes.float_in("panic-threshold-percentage", 110.0, 1000.0)
    min_scale, max_scale = notes.scale_bounds(config)
    initial = notes.initial_scale(config)
    delay = notes.duration_in("scale-down-delay", 0.0, 3600.0, whole=True)
    retention = notes.duration_in("scale-to-zero-pod-retention-period", 0.0, 3600.0)
    deadline = notes.duration_in("progress-deadline", 1.0, math.inf, whole=True)
    return DeciderSpec(
        target=max(TARGET_MIN, total * utilization),
        total=total,
        utilization=utilization,
        target_burst_capacity=notes.burst_capacity(config.target_burst_capacity),
        activator_capacity=config.activator_capacity,
        panic_threshold=(config.panic_threshold_percentage if threshold is None else threshold)
        / 100.0,
        stable_window=stable_window,
        panic_window=panic_window(
            stable_window, config.panic_window_percentage if panic_pct is None else panic_pct
        ),
        max_scale_up_rate=config.max_scale_up_rate,
        max_scale_down_rate=config.max_scale_down_rate,
        scale_down_delay=config.scale_down_delay if delay is None else delay,
        activation_scale=notes.activation_scale(min_scale, max_scale),
        initial_scale=config.initial_scale if initial is None else initial,
        min_scale=min_scale,
        max_scale=max_scale,
        metric=metric,
        algorithm=notes.algorithm(),
        reachable=reachable,
        enable_scale_to_zero=config.enable_scale_to_zero,
        scale_to_zero_grace_period=config.scale_to_zero_grace_period,
        scale_to_zero_pod_retention_period=(
            config.scale_to_zero_pod_retention_period if retention is None else retention
        ),
        progress_deadline=progress_deadline if deadline is None else deadline,
        container_concurrency=container_concurrency,
    )


def _capacity(
    config: AutoscalerConfig, notes: Annotations, metric: str, container_concurrency: int
) -> tuple[float, float]:
    """(total per-instance capacity, utilization) as ``ResolveMetricTarget`` computes them."""
    if container_concurrency < 0:
        raise InvalidResourceError(
            f"containerConcurrency = {container_concurrency}, must be at least 0",
            field="spec.containerConcurrency",
        )
    if metric == RPS:
        total, utilization = config.requests_per_second_target_default, config.target_utilization
    else:
        total = float(container_concurrency) or config.container_concurrency_target_default
        utilization = config.container_concurrency_target_fraction
    target = notes.target()
    if target is not None:
        total = target
        if metric == CONCURRENCY and container_concurrency > 0:
            total = min(target, float(container_concurrency))
    percentage = notes.float_in("target-utilization-percentage", 1.0, 100.0)
    if percentage is not None:
        utilization = percentage / 100.0
    return total, utilization
