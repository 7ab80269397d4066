"""`config-autoscaler`: every key with Knative's code defaults and validation (§1.1).

The ranges it shares with the revision annotations (stable window, panic window
percentage, target minimum) are defined here once and used by both parsers.

Durations are float seconds. ``container-concurrency-target-percentage`` is stored as the
fraction Knative computes from it (values above 1 are divided by 100). The RPS target
utilization is not a ConfigMap key in Knative: it is fixed at 0.7 unless a revision sets
``target-utilization-percentage``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling.values import (
    format_seconds,
    is_whole_seconds,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int32,
)

KPA_CLASS = "kpa.autoscaling.knative.dev"
HPA_CLASS = "hpa.autoscaling.knative.dev"
TARGET_MIN = 0.01
WINDOW_MIN = 6.0
WINDOW_MAX = 3600.0
PANIC_WINDOW_PERCENTAGE_MIN = 1.0
PANIC_WINDOW_PERCENTAGE_MAX = 100.0
UNLIMITED_BURST_CAPACITY = -1.0


def is_burst_capacity(value: float) -> bool:
    """Whether a target-burst-capacity is valid: non-negative, or exactly -1 (unlimited)."""
    return value >= 0 or value == UNLIMITED_BURST_CAPACITY


@dataclass(frozen=True)
class AutoscalerConfig:
    """The `config-autoscaler` ConfigMap of namespace knative-serving, parsed and validated."""

    container_concurrency_target_fraction: float = 0.7
    container_concurrency_target_default: float = 100.0
    requests_per_second_target_default: float = 200.0
    target_utilization: float = 0.7
    target_burst_capacity: float = 211.0
    stable_window: float = 60.0
    panic_window_percentage: float = 10.0
    panic_threshold_percentage: float = 200.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    enable_scale_to_zero: bool = True
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    pod_autoscaler_class: str = KPA_CLASS
    activator_capacity: float = 100.0
    initial_scale: int = 1
    allow_zero_initial_scale: bool = False
    min_scale: int = 0
    max_scale: int = 0
    max_scale_limit: int = 0
    scale_down_delay: float = 0.0
    # Bulut's own ceiling per revision (BULUT_MAX_SCALE), not a config-autoscaler key:
    # like max-scale-limit it bounds max-, min- and initial-scale, but max-scale: "0"
    # (unlimited) stays allowed and means "up to the ceiling".
    scale_ceiling: int = 0

    @property
    def ceiling(self) -> int:
        """The lowest positive bound of ``max_scale_limit`` and ``scale_ceiling`` (0: none)."""
        bounds = [b for b in (self.max_scale_limit, self.scale_ceiling) if b > 0]
        return min(bounds) if bounds else 0

    @classmethod
    def from_configmap(cls, data: Mapping[str, str]) -> AutoscalerConfig:
        """Parse ``ConfigMap.data`` like Knative's ``NewConfigFromMap``; unknown keys are ignored.

        Raises :class:`InvalidResourceError` with ``field="data.<key>"`` naming the key
        and its valid range.
        """
        values: dict[str, Any] = {}
        for key, (attribute, parse, kind) in _KEYS.items():
            if key not in data:
                continue
            parsed = parse(data[key])
            if parsed is None:
                raise _invalid(key, f"{data[key]!r} is not a valid {kind}")
            values[attribute] = parsed
        fraction = values.get("container_concurrency_target_fraction")
        if isinstance(fraction, float) and fraction > 1.0:
            values["container_concurrency_target_fraction"] = fraction / 100.0
        config = replace(cls(), **values)
        config.validate()
        return config

    def validate(self) -> None:
        """Knative's ``validate()`` rules, raising on the first key that breaks one."""
        for key, broken, message in self._rules():
            if broken:
                raise _invalid(key, message)

    def _rules(self) -> list[tuple[str, bool, str]]:
        """(key, rule broken?, message naming the valid range), in Knative's order."""
        target = (
            self.container_concurrency_target_fraction * self.container_concurrency_target_default
        )
        min_max_scale = 1 if self.max_scale_limit > 0 else 0
        return [
            (
                "scale-to-zero-grace-period",
                self.scale_to_zero_grace_period <= 0,
                f"scale-to-zero-grace-period must be positive, was "
                f"{format_seconds(self.scale_to_zero_grace_period)}",
            ),
            (
                "scale-down-delay",
                self.scale_down_delay < 0 or not is_whole_seconds(self.scale_down_delay),
                f"scale-down-delay = {format_seconds(self.scale_down_delay)}, must be a "
                "non-negative duration with at most second precision",
            ),
            (
                "scale-to-zero-pod-retention-period",
                self.scale_to_zero_pod_retention_period < 0,
                "scale-to-zero-pod-retention-period cannot be negative, was "
                f"{format_seconds(self.scale_to_zero_pod_retention_period)}",
            ),
            (
                "target-burst-capacity",
                not is_burst_capacity(self.target_burst_capacity),
                "target-burst-capacity must be either non-negative or -1 (for unlimited), "
                f"was {self.target_burst_capacity:g}",
            ),
            (
                "container-concurrency-target-percentage",
                not 0 < self.container_concurrency_target_fraction <= 1,
                "container-concurrency-target-percentage = "
                f"{self.container_concurrency_target_fraction * 100:g} is outside of valid "
                "range of (0, 100]",
            ),
            (
                "container-concurrency-target-default",
                target < TARGET_MIN,
                "container-concurrency-target-percentage and container-concurrency-target-default "
                f"yield target concurrency of {target:g}, can't be less than {TARGET_MIN}",
            ),
            (
                "requests-per-second-target-default",
                self.requests_per_second_target_default < TARGET_MIN,
                f"requests-per-second-target-default must be at least {TARGET_MIN}, was "
                f"{self.requests_per_second_target_default:g}",
            ),
            (
                "activator-capacity",
                self.activator_capacity < 1,
                f"activator-capacity = {self.activator_capacity:g}, must be at least 1",
            ),
            (
                "max-scale-up-rate",
                self.max_scale_up_rate <= 1.0,
                f"max-scale-up-rate = {self.max_scale_up_rate:g}, must be greater than 1.0",
            ),
            (
                "max-scale-down-rate",
                self.max_scale_down_rate <= 1.0,
                f"max-scale-down-rate = {self.max_scale_down_rate:g}, must be greater than 1.0",
            ),
            (
                "stable-window",
                not WINDOW_MIN <= self.stable_window <= WINDOW_MAX
                or not is_whole_seconds(self.stable_window),
                f"stable-window = {format_seconds(self.stable_window)}, must be in [6s, 3600s] "
                "range with at most second precision",
            ),
            (
                "panic-window-percentage",
                not PANIC_WINDOW_PERCENTAGE_MIN
                <= self.panic_window_percentage
                <= PANIC_WINDOW_PERCENTAGE_MAX,
                f"panic-window-percentage = {self.panic_window_percentage:g}, must be in "
                "[1, 100] interval",
            ),
            (
                "initial-scale",
                self.initial_scale < 0
                or (self.initial_scale == 0 and not self.allow_zero_initial_scale),
                f"initial-scale = {self.initial_scale}, must be at least 0 (or at least 1 when "
                "allow-zero-initial-scale is false)",
            ),
            (
                "min-scale",
                self.min_scale < 0 or (self.max_scale > 0 and self.min_scale > self.max_scale),
                f"min-scale = {self.min_scale}, must be in [0, max-scale] range",
            ),
            (
                "max-scale",
                self.max_scale < min_max_scale
                or (self.max_scale_limit > 0 and self.max_scale > self.max_scale_limit),
                f"max-scale = {self.max_scale}, must be in [{min_max_scale}, "
                f"max-scale-limit({self.max_scale_limit})] range",
            ),
            (
                "max-scale-limit",
                self.max_scale_limit < 0,
                f"max-scale-limit = {self.max_scale_limit}, must be at least 0",
            ),
        ]


def _invalid(key: str, message: str) -> InvalidResourceError:
    """The error for one bad key of config-autoscaler."""
    return InvalidResourceError(f"config-autoscaler: {message}", field=f"data.{key}")


_Parser = Callable[[str], object]
_KEYS: dict[str, tuple[str, _Parser, str]] = {
    "pod-autoscaler-class": ("pod_autoscaler_class", lambda text: text, "string"),
    "enable-scale-to-zero": ("enable_scale_to_zero", parse_bool, "boolean"),
    "allow-zero-initial-scale": ("allow_zero_initial_scale", parse_bool, "boolean"),
    "max-scale-up-rate": ("max_scale_up_rate", parse_float, "number"),
    "max-scale-down-rate": ("max_scale_down_rate", parse_float, "number"),
    "container-concurrency-target-percentage": (
        "container_concurrency_target_fraction",
        parse_float,
        "number",
    ),
    "container-concurrency-target-default": (
        "container_concurrency_target_default",
        parse_float,
        "number",
    ),
    "requests-per-second-target-default": (
        "requests_per_second_target_default",
        parse_float,
        "number",
    ),
    "target-burst-capacity": ("target_burst_capacity", parse_float, "number"),
    "panic-window-percentage": ("panic_window_percentage", parse_float, "number"),
    "activator-capacity": ("activator_capacity", parse_float, "number"),
    "panic-threshold-percentage": ("panic_threshold_percentage", parse_float, "number"),
    "initial-scale": ("initial_scale", parse_int32, "integer"),
    "min-scale": ("min_scale", parse_int32, "integer"),
    "max-scale": ("max_scale", parse_int32, "integer"),
    "max-scale-limit": ("max_scale_limit", parse_int32, "integer"),
    "stable-window": ("stable_window", parse_duration, "duration such as 60s"),
    "scale-down-delay": ("scale_down_delay", parse_duration, "duration such as 0s"),
    "scale-to-zero-grace-period": (
        "scale_to_zero_grace_period",
        parse_duration,
        "duration such as 30s",
    ),
    "scale-to-zero-pod-retention-period": (
        "scale_to_zero_pod_retention_period",
        parse_duration,
        "duration such as 0s",
    ),
}
