"""decider_spec: config merged with revision annotations, like MakeDecider/ResolveMetricTarget."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.serving.autoscaler.decider import DeciderSpec, decider_spec, panic_window

A = "autoscaling.knative.dev/"
DEFAULT = AutoscalerConfig()


@pytest.mark.parametrize(
    ("annotations", "cc", "target", "total"),
    [
        ({}, 0, 70.0, 100.0),
        ({}, 10, 7.0, 10.0),
        ({}, 1, 0.7, 1.0),
        ({A + "target": "50"}, 0, 35.0, 50.0),
        ({A + "target": "50"}, 10, 7.0, 10.0),
        ({A + "target": "5"}, 10, 3.5, 5.0),
        ({A + "target-utilization-percentage": "50"}, 0, 50.0, 100.0),
        ({A + "targetUtilizationPercentage": "100"}, 10, 10.0, 10.0),
        ({A + "metric": "rps"}, 10, 140.0, 200.0),
        ({A + "metric": "rps", A + "target": "150"}, 10, 105.0, 150.0),
        ({A + "target": "0.01", A + "target-utilization-percentage": "1"}, 0, 0.01, 0.01),
    ],
)
def test_target_is_capacity_times_utilization(
    annotations: dict[str, str], cc: int, target: float, total: float
) -> None:
    spec = decider_spec(DEFAULT, annotations, cc)
    assert spec.target == pytest.approx(target)
    assert spec.total == total


def test_defaults_match_the_config() -> None:
    assert decider_spec(DEFAULT, {}, 0) == DeciderSpec()


@pytest.mark.parametrize(
    ("stable", "percentage", "panic"),
    [(60, 10, 6), (6, 10, 1), (6, 1, 1), (15, 10, 2), (25, 10, 3), (3600, 100, 3600)],
)
def test_panic_window_is_rounded_to_whole_seconds(
    stable: int, percentage: float, panic: int
) -> None:
    assert panic_window(stable, percentage) == panic


def test_every_annotation_is_honoured() -> None:
    spec = decider_spec(
        AutoscalerConfig(allow_zero_initial_scale=True),
        {
            A + "window": "6s",
            A + "panic-window-percentage": "50",
            A + "panic-threshold-percentage": "150",
            A + "target-burst-capacity": "0",
            A + "scale-down-delay": "10s",
            A + "scale-to-zero-pod-retention-period": "1m",
            A + "min-scale": "1",
            A + "max-scale": "4",
            A + "initial-scale": "0",
            A + "activation-scale": "3",
            A + "metric-aggregation-algorithm": "weightedExponential",
            "serving.knative.dev/progress-deadline": "30s",
        },
        0,
        reachable=False,
    )
    assert (spec.stable_window, spec.panic_window, spec.panic_threshold) == (6.0, 3.0, 1.5)
    assert (spec.target_burst_capacity, spec.scale_down_delay) == (0.0, 10.0)
    assert spec.scale_to_zero_pod_retention_period == 60.0
    assert (spec.min_scale, spec.max_scale, spec.initial_scale) == (1, 4, 0)
    assert (spec.activation_scale, spec.algorithm, spec.progress_deadline) == (
        3,
        "weighted-exponential",
        30.0,
    )
    assert (spec.reachable, spec.lower_bound) == (False, 0)


@pytest.mark.parametrize(
    ("canonical", "alias", "value", "attribute", "expected"),
    [
        ("min-scale", "minScale", "2", "min_scale", 2),
        ("max-scale", "maxScale", "7", "max_scale", 7),
        ("initial-scale", "initialScale", "3", "initial_scale", 3),
        ("panic-threshold-percentage", "panicThresholdPercentage", "300", "panic_threshold", 3.0),
        ("target-burst-capacity", "targetBurstCapacity", "-1", "target_burst_capacity", -1.0),
        ("scale-down-delay", "scaleDownDelay", "1m", "scale_down_delay", 60.0),
        (
            "scale-to-zero-pod-retention-period",
            "scaleToZeroPodRetentionPeriod",
            "5s",
            "scale_to_zero_pod_retention_period",
            5.0,
        ),
    ],
)
def test_legacy_aliases_work_and_canonical_keys_win(
    canonical: str, alias: str, value: str, attribute: str, expected: float
) -> None:
    assert getattr(decider_spec(DEFAULT, {A + alias: value}, 0), attribute) == expected
    both = {A + canonical: value, A + alias: "garbage"}
    assert getattr(decider_spec(DEFAULT, both, 0), attribute) == expected


INVALID = [
    (A + "window", "5s"),
    (A + "window", "1h1s"),
    (A + "window", "6500ms"),
    (A + "panic-window-percentage", "0.5"),
    (A + "panicWindowPercentage", "101"),
    (A + "panic-threshold-percentage", "109"),
    (A + "panic-threshold-percentage", "1001"),
    (A + "target", "0.001"),
    (A + "target-utilization-percentage", "0"),
    (A + "target-burst-capacity", "-2"),
    (A + "scale-down-delay", "1h1s"),
    (A + "scale-down-delay", "1500ms"),
    (A + "scale-to-zero-pod-retention-period", "-1s"),
    (A + "min-scale", "-1"),
    (A + "maxScale", "x"),
    (A + "initial-scale", "0"),
    (A + "activation-scale", "1"),
    (A + "metric", "cpu"),
    (A + "metric-aggregation-algorithm", "median"),
    (A + "class", "foo.knative.dev"),
    ("serving.knative.dev/progress-deadline", "0s"),
]


@pytest.mark.parametrize(("key", "value"), INVALID, ids=[f"{k}={v}" for k, v in INVALID])
def test_out_of_range_annotations_name_the_key(key: str, value: str) -> None:
    with pytest.raises(InvalidResourceError) as error:
        decider_spec(DEFAULT, {key: value}, 0)
    assert error.value.field == f"metadata.annotations.{key}"


def test_max_scale_below_min_scale_is_rejected() -> None:
    with pytest.raises(InvalidResourceError) as error:
        decider_spec(DEFAULT, {A + "min-scale": "3", A + "max-scale": "2"}, 0)
    assert error.value.field == f"metadata.annotations.{A}max-scale"


def test_activation_scale_must_fit_the_scale_bounds() -> None:
    with pytest.raises(InvalidResourceError):
        decider_spec(DEFAULT, {A + "activation-scale": "5", A + "max-scale": "4"}, 0)
    with pytest.raises(InvalidResourceError):
        decider_spec(DEFAULT, {A + "activation-scale": "2", A + "min-scale": "3"}, 0)


def test_max_scale_limit_rejects_unlimited_and_larger_max_scale() -> None:
    limited = AutoscalerConfig(max_scale=5, max_scale_limit=10)
    assert decider_spec(limited, {}, 0).max_scale == 5
    for value in ("0", "11"):
        with pytest.raises(InvalidResourceError):
            decider_spec(limited, {A + "max-scale": value}, 0)


def test_hpa_class_is_accepted_and_scaled_on_concurrency_locally() -> None:
    spec = decider_spec(
        DEFAULT, {A + "class": "hpa.autoscaling.knative.dev", A + "metric": "cpu"}, 0
    )
    assert spec.metric == "concurrency"


def test_another_class_may_name_any_metric_and_is_scaled_linearly_on_concurrency() -> None:
    spec = decider_spec(
        DEFAULT,
        {
            A + "class": "hpa.autoscaling.knative.dev",
            A + "metric": "queue-depth",
            A + "metric-aggregation-algorithm": "median",
        },
        0,
    )
    assert (spec.metric, spec.algorithm) == ("concurrency", "linear")


def test_rps_is_the_kpa_metric_when_asked() -> None:
    assert decider_spec(DEFAULT, {A + "metric": "rps"}, 0).metric == "rps"


def test_activation_scale_is_checked_against_the_annotations_not_the_config_defaults() -> None:
    spec = decider_spec(AutoscalerConfig(min_scale=3), {A + "activation-scale": "2"}, 0)
    assert (spec.min_scale, spec.activation_scale) == (3, 2)


def test_zero_initial_scale_is_refused_unless_the_config_allows_it() -> None:
    with pytest.raises(InvalidResourceError) as error:
        decider_spec(DEFAULT, {A + "initial-scale": "0"}, 0)
    assert error.value.field == f"metadata.annotations.{A}initial-scale"
    allowed = AutoscalerConfig(allow_zero_initial_scale=True)
    assert decider_spec(allowed, {A + "initial-scale": "0"}, 0).initial_scale == 0


def test_negative_container_concurrency_is_rejected() -> None:
    with pytest.raises(InvalidResourceError) as error:
        decider_spec(DEFAULT, {}, -1)
    assert error.value.field == "spec.containerConcurrency"
