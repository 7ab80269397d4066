"""config-autoscaler parsing: Knative's code defaults and validate() rules (§1.1)."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling.config import AutoscalerConfig


def test_an_empty_configmap_gives_knative_code_defaults() -> None:
    config = AutoscalerConfig.from_configmap({})
    assert config == AutoscalerConfig()
    assert (config.target_burst_capacity, config.stable_window, config.initial_scale) == (
        211.0,
        60.0,
        1,
    )
    assert config.container_concurrency_target_fraction == 0.7


def test_every_key_is_read() -> None:
    data = {
        "container-concurrency-target-percentage": "80",
        "container-concurrency-target-default": "10",
        "requests-per-second-target-default": "150",
        "target-burst-capacity": "-1",
        "stable-window": "6s",
        "panic-window-percentage": "50",
        "panic-threshold-percentage": "300",
        "max-scale-up-rate": "3",
        "max-scale-down-rate": "4",
        "enable-scale-to-zero": "false",
        "scale-to-zero-grace-period": "1m",
        "scale-to-zero-pod-retention-period": "1m30s",
        "pod-autoscaler-class": "hpa.autoscaling.knative.dev",
        "activator-capacity": "50",
        "initial-scale": "0",
        "allow-zero-initial-scale": "true",
        "min-scale": "1",
        "max-scale": "5",
        "max-scale-limit": "10",
        "scale-down-delay": "15s",
    }
    assert AutoscalerConfig.from_configmap(data) == AutoscalerConfig(
        container_concurrency_target_fraction=0.8,
        container_concurrency_target_default=10.0,
        requests_per_second_target_default=150.0,
        target_burst_capacity=-1.0,
        stable_window=6.0,
        panic_window_percentage=50.0,
        panic_threshold_percentage=300.0,
        max_scale_up_rate=3.0,
        max_scale_down_rate=4.0,
        enable_scale_to_zero=False,
        scale_to_zero_grace_period=60.0,
        scale_to_zero_pod_retention_period=90.0,
        pod_autoscaler_class="hpa.autoscaling.knative.dev",
        activator_capacity=50.0,
        initial_scale=0,
        allow_zero_initial_scale=True,
        min_scale=1,
        max_scale=5,
        max_scale_limit=10,
        scale_down_delay=15.0,
    )


def test_a_percentage_up_to_one_is_taken_as_a_fraction() -> None:
    config = AutoscalerConfig.from_configmap({"container-concurrency-target-percentage": "0.5"})
    assert config.container_concurrency_target_fraction == 0.5


INVALID = [
    ("stable-window", "5s", "[6s, 3600s]"),
    ("stable-window", "61m", "[6s, 3600s]"),
    ("stable-window", "6500ms", "second precision"),
    ("stable-window", "60", "duration"),
    ("scale-down-delay", "-1s", "non-negative"),
    ("scale-down-delay", "1.5s", "second precision"),
    ("scale-to-zero-grace-period", "0s", "positive"),
    ("scale-to-zero-pod-retention-period", "-1s", "negative"),
    ("target-burst-capacity", "-2", "-1 (for unlimited)"),
    ("container-concurrency-target-percentage", "101", "(0, 100]"),
    ("container-concurrency-target-percentage", "0", "(0, 100]"),
    ("container-concurrency-target-default", "0.01", "can't be less than 0.01"),
    ("requests-per-second-target-default", "0", "at least 0.01"),
    ("activator-capacity", "0.5", "at least 1"),
    ("max-scale-up-rate", "1", "greater than 1.0"),
    ("max-scale-down-rate", "1.0", "greater than 1.0"),
    ("panic-window-percentage", "0.5", "[1, 100]"),
    ("panic-window-percentage", "101", "[1, 100]"),
    ("initial-scale", "0", "allow-zero-initial-scale"),
    ("initial-scale", "-1", "at least 0"),
    ("min-scale", "-1", "[0, max-scale]"),
    ("max-scale", "-1", "max-scale-limit"),
    ("max-scale-limit", "-1", "at least 0"),
    ("enable-scale-to-zero", "yes", "boolean"),
    ("max-scale", "1.5", "integer"),
]


@pytest.mark.parametrize(("key", "value", "hint"), INVALID, ids=[f"{k}={v}" for k, v, _ in INVALID])
def test_invalid_values_name_the_key_and_range(key: str, value: str, hint: str) -> None:
    with pytest.raises(InvalidResourceError) as error:
        AutoscalerConfig.from_configmap({key: value})
    assert error.value.field == f"data.{key}"
    assert hint in error.value.message


def test_max_scale_must_be_set_within_max_scale_limit() -> None:
    with pytest.raises(InvalidResourceError) as error:
        AutoscalerConfig.from_configmap({"max-scale-limit": "10", "max-scale": "0"})
    assert error.value.field == "data.max-scale"
    with pytest.raises(InvalidResourceError):
        AutoscalerConfig.from_configmap({"max-scale-limit": "10", "max-scale": "11"})
