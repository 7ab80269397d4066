"""Autoscaling annotations: one parser for the webhook rules and the autoscaler (§1.2)."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling import AutoscalerConfig, AutoscalingAnnotations, parse_annotations

A = "autoscaling.knative.dev/"
KPA = "kpa.autoscaling.knative.dev"
HPA = "hpa.autoscaling.knative.dev"
DEADLINE = "serving.knative.dev/progress-deadline"

VALID: list[tuple[dict[str, str], str, object]] = [
    ({A + "class": KPA}, "autoscaler_class", KPA),
    ({A + "class": HPA}, "autoscaler_class", HPA),
    ({A + "class": "custom.example.com"}, "autoscaler_class", "custom.example.com"),
    ({A + "metric": "concurrency"}, "metric", "concurrency"),
    ({A + "metric": "rps"}, "metric", "rps"),
    ({A + "class": HPA, A + "metric": "cpu"}, "metric", "cpu"),
    ({A + "class": HPA, A + "metric": "memory"}, "metric", "memory"),
    ({A + "class": HPA, A + "metric": "queue-depth"}, "metric", "queue-depth"),
    ({A + "target": "0.01"}, "target", 0.01),
    ({A + "target": "150"}, "target", 150.0),
    ({A + "target-utilization-percentage": "1"}, "target_utilization_percentage", 1.0),
    ({A + "targetUtilizationPercentage": "100"}, "target_utilization_percentage", 100.0),
    ({A + "min-scale": "0"}, "min_scale", 0),
    ({A + "minScale": "+2"}, "min_scale", 2),
    ({A + "max-scale": "0"}, "max_scale", 0),
    ({A + "maxScale": "2147483647"}, "max_scale", 2147483647),
    ({A + "min-scale": "1", A + "max-scale": "0"}, "max_scale", 0),
    ({A + "min-scale": "3", A + "max-scale": "3"}, "max_scale", 3),
    ({A + "initial-scale": "0"}, "initial_scale", 0),
    ({A + "initialScale": "5"}, "initial_scale", 5),
    ({A + "activation-scale": "2"}, "activation_scale", 2),
    (
        {A + "activation-scale": "3", A + "min-scale": "3", A + "max-scale": "3"},
        "activation_scale",
        3,
    ),
    ({A + "window": "6s"}, "window", 6.0),
    ({A + "window": "6000ms"}, "window", 6.0),
    ({A + "window": "1h"}, "window", 3600.0),
    ({A + "window": "1m30s"}, "window", 90.0),
    ({A + "panic-window-percentage": "1"}, "panic_window_percentage", 1.0),
    ({A + "panicWindowPercentage": "100"}, "panic_window_percentage", 100.0),
    ({A + "panic-threshold-percentage": "110"}, "panic_threshold_percentage", 110.0),
    ({A + "panicThresholdPercentage": "1000"}, "panic_threshold_percentage", 1000.0),
    ({A + "target-burst-capacity": "0"}, "target_burst_capacity", 0.0),
    ({A + "targetBurstCapacity": "-1"}, "target_burst_capacity", -1.0),
    ({A + "target-burst-capacity": "211.5"}, "target_burst_capacity", 211.5),
    ({A + "scale-down-delay": "0"}, "scale_down_delay", 0.0),
    ({A + "scaleDownDelay": "1h"}, "scale_down_delay", 3600.0),
    ({A + "scale-to-zero-pod-retention-period": "0s"}, "scale_to_zero_pod_retention_period", 0.0),
    ({A + "scale-to-zero-pod-retention-period": "1.5s"}, "scale_to_zero_pod_retention_period", 1.5),
    ({A + "scaleToZeroPodRetentionPeriod": "1h"}, "scale_to_zero_pod_retention_period", 3600.0),
    ({A + "metric-aggregation-algorithm": "linear"}, "metric_aggregation_algorithm", "linear"),
    (
        {A + "metric-aggregation-algorithm": "weighted-exponential"},
        "metric_aggregation_algorithm",
        "weighted-exponential",
    ),
    (
        {A + "metricAggregationAlgorithm": "weightedExponential"},
        "metric_aggregation_algorithm",
        "weighted-exponential",
    ),
    ({A + "metric-aggregation-algorithm": ""}, "metric_aggregation_algorithm", None),
    (
        {A + "class": HPA, A + "metric-aggregation-algorithm": "median"},
        "metric_aggregation_algorithm",
        "median",
    ),
    ({DEADLINE: "30s"}, "progress_deadline", 30.0),
    ({DEADLINE: "1h"}, "progress_deadline", 3600.0),
]


@pytest.mark.parametrize(
    ("annotations", "attribute", "expected"),
    VALID,
    ids=[",".join(f"{k.rsplit('/', 1)[-1]}={v}" for k, v in a.items()) for a, _, _ in VALID],
)
def test_valid_annotations_are_read_as_values(
    annotations: dict[str, str], attribute: str, expected: object
) -> None:
    assert getattr(parse_annotations(annotations), attribute) == expected


def test_no_annotations_means_the_kpa_and_nothing_set() -> None:
    parsed = parse_annotations({})
    assert parsed == AutoscalingAnnotations()
    assert parsed.is_kpa


INVALID: list[tuple[dict[str, str], str, str]] = [
    ({A + "class": "foo.knative.dev"}, "class", "invalid value: foo.knative.dev"),
    ({A + "metric": "cpu"}, "metric", "invalid value: cpu"),
    ({A + "class": KPA, A + "metric": "memory"}, "metric", "invalid value: memory"),
    ({A + "metric": ""}, "metric", "invalid value: "),
    ({A + "target": "0"}, "target", "expected 0.01 <= 0"),
    ({A + "target": "0.001"}, "target", "expected 0.01 <= 0.001"),
    ({A + "target": "nan"}, "target", "invalid value: nan"),
    ({A + "target": " 5"}, "target", "invalid value:  5"),
    (
        {A + "target-utilization-percentage": "101"},
        "target-utilization-percentage",
        "expected 1 <= 101 <= 100",
    ),
    (
        {A + "targetUtilizationPercentage": "0"},
        "targetUtilizationPercentage",
        "expected 1 <= 0 <= 100",
    ),
    ({A + "min-scale": "-1"}, "min-scale", "expected 0 <= -1 <= 2147483647"),
    ({A + "min-scale": "1.5"}, "min-scale", "invalid value: 1.5"),
    ({A + "min-scale": " 3"}, "min-scale", "invalid value:  3"),
    ({A + "min-scale": "٣"}, "min-scale", "invalid value: ٣"),
    ({A + "maxScale": "x"}, "maxScale", "invalid value: x"),
    ({A + "max-scale": "2147483648"}, "max-scale", "expected 0 <= 2147483648 <= 2147483647"),
    (
        {A + "min-scale": "3", A + "max-scale": "2"},
        "max-scale",
        "max-scale=2 is less than min-scale=3",
    ),
    (
        {A + "minScale": "3", A + "maxScale": "2"},
        "maxScale",
        "max-scale=2 is less than min-scale=3",
    ),
    ({A + "initial-scale": "-1"}, "initial-scale", "expected 0 <= -1 <= 2147483647"),
    ({A + "initialScale": "one"}, "initialScale", "invalid value: one"),
    ({A + "activation-scale": "1"}, "activation-scale", "expected 2 <= 1"),
    ({A + "activation-scale": "x"}, "activation-scale", "invalid value: x"),
    (
        {A + "activation-scale": "2", A + "min-scale": "3"},
        "activation-scale",
        "min-scale=3 is greater than activation-scale=2",
    ),
    (
        {A + "activation-scale": "5", A + "max-scale": "4"},
        "activation-scale",
        "max-scale=4 is less than activation-scale=5",
    ),
    ({A + "window": "5s"}, "window", "expected 6s <= 5s <= 3600s"),
    ({A + "window": "1h1s"}, "window", "expected 6s <= 1h1s <= 3600s"),
    ({A + "window": "6500ms"}, "window", "must be specified with at most second precision"),
    ({A + "window": "6.5s"}, "window", "must be specified with at most second precision"),
    ({A + "window": "60"}, "window", "invalid value: 60"),
    ({A + "window": "soon"}, "window", "invalid value: soon"),
    (
        {A + "panic-window-percentage": "0.5"},
        "panic-window-percentage",
        "expected 1 <= 0.5 <= 100",
    ),
    ({A + "panicWindowPercentage": "101"}, "panicWindowPercentage", "expected 1 <= 101 <= 100"),
    (
        {A + "panic-threshold-percentage": "109"},
        "panic-threshold-percentage",
        "expected 110 <= 109 <= 1000",
    ),
    (
        {A + "panicThresholdPercentage": "1001"},
        "panicThresholdPercentage",
        "expected 110 <= 1001 <= 1000",
    ),
    ({A + "target-burst-capacity": "-2"}, "target-burst-capacity", "expected 0 <= -2 or -1"),
    ({A + "targetBurstCapacity": "nan"}, "targetBurstCapacity", "invalid value: nan"),
    ({A + "scale-down-delay": "-1s"}, "scale-down-delay", "expected 0s <= -1s <= 3600s"),
    ({A + "scaleDownDelay": "2h"}, "scaleDownDelay", "expected 0s <= 2h <= 3600s"),
    (
        {A + "scale-down-delay": "1500ms"},
        "scale-down-delay",
        "must be specified with at most second precision",
    ),
    (
        {A + "scale-to-zero-pod-retention-period": "-1s"},
        "scale-to-zero-pod-retention-period",
        "expected 0s <= -1s <= 3600s",
    ),
    (
        {A + "scaleToZeroPodRetentionPeriod": "1h1s"},
        "scaleToZeroPodRetentionPeriod",
        "expected 0s <= 1h1s <= 3600s",
    ),
    (
        {A + "metric-aggregation-algorithm": "median"},
        "metric-aggregation-algorithm",
        "invalid value: median",
    ),
    (
        {A + "class": KPA, A + "metricAggregationAlgorithm": "median"},
        "metricAggregationAlgorithm",
        "invalid value: median",
    ),
    ({DEADLINE: "0s"}, DEADLINE, "expected 0s < 0s"),
    ({DEADLINE: "1500ms"}, DEADLINE, "must be specified with at most second precision"),
    ({DEADLINE: "600"}, DEADLINE, "invalid value: 600"),
]


@pytest.mark.parametrize(
    ("annotations", "key", "message"),
    INVALID,
    ids=[",".join(f"{k.rsplit('/', 1)[-1]}={v}" for k, v in a.items()) for a, _, _ in INVALID],
)
def test_invalid_annotations_are_refused_naming_the_key_as_written(
    annotations: dict[str, str], key: str, message: str
) -> None:
    full = key if "/" in key else A + key
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations(annotations)
    assert error.value.field == f"metadata.annotations.{full}"
    assert error.value.message == f"{message}: metadata.annotations.{full}"


def test_errors_name_the_path_the_annotations_live_at() -> None:
    path = "spec.template.metadata.annotations"
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + "window": "5s"}, path=path)
    assert error.value.field == f"{path}.{A}window"
    assert error.value.message == f"expected 6s <= 5s <= 3600s: {path}.{A}window"


@pytest.mark.parametrize(
    ("canonical", "alias", "attribute", "value", "expected"),
    [
        ("min-scale", "minScale", "min_scale", "2", 2),
        ("max-scale", "maxScale", "max_scale", "7", 7),
        ("initial-scale", "initialScale", "initial_scale", "3", 3),
        (
            "target-utilization-percentage",
            "targetUtilizationPercentage",
            "target_utilization_percentage",
            "50",
            50.0,
        ),
        ("panic-window-percentage", "panicWindowPercentage", "panic_window_percentage", "20", 20.0),
        (
            "panic-threshold-percentage",
            "panicThresholdPercentage",
            "panic_threshold_percentage",
            "300",
            300.0,
        ),
        ("target-burst-capacity", "targetBurstCapacity", "target_burst_capacity", "-1", -1.0),
        ("scale-down-delay", "scaleDownDelay", "scale_down_delay", "1m", 60.0),
        (
            "scale-to-zero-pod-retention-period",
            "scaleToZeroPodRetentionPeriod",
            "scale_to_zero_pod_retention_period",
            "5s",
            5.0,
        ),
        (
            "metric-aggregation-algorithm",
            "metricAggregationAlgorithm",
            "metric_aggregation_algorithm",
            "linear",
            "linear",
        ),
    ],
)
def test_the_canonical_key_wins_over_a_legacy_alias(
    canonical: str, alias: str, attribute: str, value: str, expected: object
) -> None:
    assert getattr(parse_annotations({A + alias: value}), attribute) == expected
    both = {A + canonical: value, A + alias: "garbage"}
    assert getattr(parse_annotations(both), attribute) == expected


def test_a_value_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + "min-scale": 1})
    assert error.value.field == f"metadata.annotations.{A}min-scale"
    assert error.value.message.startswith("expected a string, got int")


def test_other_annotations_are_ignored() -> None:
    parsed = parse_annotations({"example.com/anything": "x", A + "unknown-key": "y"})
    assert parsed == AutoscalingAnnotations()


def test_without_a_config_zero_initial_scale_and_unlimited_max_scale_are_allowed() -> None:
    parsed = parse_annotations({A + "initial-scale": "0", A + "max-scale": "0"})
    assert (parsed.initial_scale, parsed.max_scale) == (0, 0)


def test_zero_initial_scale_needs_the_cluster_to_allow_it() -> None:
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + "initialScale": "0"}, AutoscalerConfig())
    assert error.value.field == f"metadata.annotations.{A}initialScale"
    assert "allow-zero-initial-scale" in error.value.message
    allowed = AutoscalerConfig(allow_zero_initial_scale=True)
    assert parse_annotations({A + "initialScale": "0"}, allowed).initial_scale == 0


@pytest.mark.parametrize(
    ("max_scale", "message"),
    [
        ("11", "expected 1 <= 11 <= 10"),
        ("0", "max-scale=0 (unlimited), must be less than 10"),
    ],
)
def test_max_scale_limit_refuses_larger_and_unlimited_max_scale(
    max_scale: str, message: str
) -> None:
    limited = AutoscalerConfig(max_scale=5, max_scale_limit=10)
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + "max-scale": max_scale}, limited)
    assert error.value.message == f"{message}: metadata.annotations.{A}max-scale"
    assert parse_annotations({A + "max-scale": "10"}, limited).max_scale == 10
    assert parse_annotations({}, limited).max_scale is None


def test_the_first_broken_rule_in_knatives_order_is_reported() -> None:
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + "window": "1s", A + "class": "x.knative.dev", A + "target": "0"})
    assert error.value.field == f"metadata.annotations.{A}class"
