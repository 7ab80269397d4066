"""The per-revision DeciderSpec: config-autoscaler merged with revision annotations (§1.2, §1.3).

Mirrors Knative's ``MakeDecider``, ``ResolveMetricTarget``, ``GetInitialScale`` and
``ScaleBounds``. The annotations are read by :func:`bulut.manifests.autoscaling.parse_annotations`,
the same parser the control plane's webhook rules use, with this cluster's config.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling.annotations import (
    CONCURRENCY,
    LINEAR,
    RPS,
    WEIGHTED_EXPONENTIAL,
    AutoscalingAnnotations,
    parse_annotations,
)
from bulut.manifests.autoscaling.config import TARGET_MIN, AutoscalerConfig

__all__ = [
    "CONCURRENCY",
    "DEFAULT_PROGRESS_DEADLINE",
    "LINEAR",
    "RPS",
    "WEIGHTED_EXPONENTIAL",
    "DeciderSpec",
    "decider_spec",
    "panic_window",
]

DEFAULT_PROGRESS_DEADLINE = 600.0
_T = TypeVar("_T")


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

    def within(self, ceiling: int) -> DeciderSpec:
        """This spec with initial-, min- and max-scale at most ``ceiling`` (0: unchanged).

        The data plane's guard for revisions admitted before a ceiling existed (or fed
        without admission): ``max-scale: 0`` (unlimited) becomes the ceiling.
        """
        if ceiling <= 0:
            return self
        return replace(
            self,
            initial_scale=min(self.initial_scale, ceiling),
            min_scale=min(self.min_scale, ceiling),
            max_scale=min(self.max_scale or ceiling, ceiling),
        )


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
    value Knative's webhook would reject under ``config``.
    """
    notes = parse_annotations(annotations, config)
    # Only the KPA reads the metric and algorithm; another class is scaled on concurrency here.
    metric = (notes.metric or CONCURRENCY) if notes.is_kpa else CONCURRENCY
    algorithm = notes.metric_aggregation_algorithm
    total, utilization = _capacity(config, notes, metric, container_concurrency)
    stable_window = _or(notes.window, config.stable_window)
    min_scale = _or(notes.min_scale, config.min_scale)
    max_scale = _or(notes.max_scale, config.max_scale)
    return DeciderSpec(
        target=max(TARGET_MIN, total * utilization),
        total=total,
        utilization=utilization,
        target_burst_capacity=_or(notes.target_burst_capacity, config.target_burst_capacity),
        activator_capacity=config.activator_capacity,
        panic_threshold=_or(notes.panic_threshold_percentage, config.panic_threshold_percentage)
        / 100.0,
        stable_window=stable_window,
        panic_window=panic_window(
            stable_window, _or(notes.panic_window_percentage, config.panic_window_percentage)
        ),
        max_scale_up_rate=config.max_scale_up_rate,
        max_scale_down_rate=config.max_scale_down_rate,
        scale_down_delay=_or(notes.scale_down_delay, config.scale_down_delay),
        activation_scale=_or(notes.activation_scale, 1),
        initial_scale=_or(notes.initial_scale, config.initial_scale),
        min_scale=min_scale,
        max_scale=max_scale,
        metric=metric,
        algorithm=algorithm if algorithm == WEIGHTED_EXPONENTIAL else LINEAR,
        reachable=reachable,
        enable_scale_to_zero=config.enable_scale_to_zero,
        scale_to_zero_grace_period=config.scale_to_zero_grace_period,
        scale_to_zero_pod_retention_period=_or(
            notes.scale_to_zero_pod_retention_period, config.scale_to_zero_pod_retention_period
        ),
        progress_deadline=_or(notes.progress_deadline, progress_deadline),
        container_concurrency=container_concurrency,
    )


def _or(value: _T | None, default: _T) -> _T:
    """The annotation's value, or the config default when the annotation is absent."""
    return default if value is None else value


def _capacity(
    config: AutoscalerConfig,
    notes: AutoscalingAnnotations,
    metric: str,
    container_concurrency: int,
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
    if notes.target is not None:
        total = notes.target
        if metric == CONCURRENCY and container_concurrency > 0:
            total = min(notes.target, float(container_concurrency))
    if notes.target_utilization_percentage is not None:
        utilization = notes.target_utilization_percentage / 100.0
    return total, utilization
