"""serving.knative.dev rules: each invalid resource is refused with the path that is wrong;
defaults are the ones Knative's webhook persists; update rules refuse what Knative refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bulut.apis.rules.serving import (
    check_revision_update,
    check_template_update,
    container_concurrency,
    default_revision,
    default_route,
    default_service,
    max_scale,
    validate_configuration,
    validate_revision,
    validate_route,
    validate_service,
)
from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.serving.autoscaler import decider_spec

SERVICE: dict[str, Any] = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {"name": "orders", "namespace": "default"},
    "spec": {"template": {"spec": {"containers": [{"image": "orders"}]}}},
}


def service_with(path: str, value: Any) -> dict[str, Any]:
    """SERVICE with one dotted path set (list indexes as numbers)."""
    document = copy.deepcopy(SERVICE)
    node: Any = document
    parts = path.split(".")
    for part in parts[:-1]:
        key: Any = int(part) if part.isdigit() else part
        if isinstance(node, dict) and key not in node:
            node[key] = {}
        node = node[key]
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    node[last] = value
    return document


TEMPLATE = "spec.template"
CONTAINER = "spec.template.spec.containers.0"

INVALID_SERVICES = [
    ("metadata.name", "Orders", "metadata.name"),
    ("metadata.name", "1orders", "metadata.name"),
    ("metadata.name", "a" * 64, "metadata.name"),
    ("metadata.namespace", "Bad_NS", "metadata.namespace"),
    (f"{TEMPLATE}.spec.containerConcurrency", 1001, "spec.template.spec.containerConcurrency"),
    (f"{TEMPLATE}.spec.containerConcurrency", -1, "spec.template.spec.containerConcurrency"),
    (f"{TEMPLATE}.spec.containerConcurrency", "10", "spec.template.spec.containerConcurrency"),
    (f"{TEMPLATE}.spec.timeoutSeconds", 601, "spec.template.spec.timeoutSeconds"),
    (f"{CONTAINER}.image", "", "spec.template.spec.containers[0].image"),
    (f"{CONTAINER}.name", "queue-proxy", "spec.template.spec.containers[0].name"),
    (
        f"{CONTAINER}.env",
        [{"name": "PORT", "value": "1"}],
        "spec.template.spec.containers[0].env[0].name",
    ),
    (f"{CONTAINER}.env", [{"name": "K_SERVICE"}], "spec.template.spec.containers[0].env[0].name"),
    (f"{CONTAINER}.env", [{"value": "x"}], "spec.template.spec.containers[0].env[0].name"),
    (
        f"{CONTAINER}.ports",
        [{"containerPort": 8012}],
        "spec.template.spec.containers[0].ports.containerPort",
    ),
    (
        f"{CONTAINER}.ports",
        [{"containerPort": 9091}],
        "spec.template.spec.containers[0].ports.containerPort",
    ),
    (
        f"{CONTAINER}.ports",
        [{"containerPort": 8080, "name": "grpc"}],
        "spec.template.spec.containers[0].ports",
    ),
    (
        f"{CONTAINER}.ports",
        [{"containerPort": 1}, {"containerPort": 2}],
        "spec.template.spec.containers[*].ports",
    ),
    (f"{TEMPLATE}.spec.containers", [], "spec.template.spec.containers"),
    (f"{TEMPLATE}.metadata.name", "other-00001", "spec.template.metadata.name"),
    (f"{TEMPLATE}.metadata.name", "orders_v1", "spec.template.metadata.name"),
    (f"{TEMPLATE}.metadata.generateName", "orders-", "spec.template.metadata.generateName"),
    ("spec.traffic", [{"percent": 90, "latestRevision": True}], "spec.traffic"),
    (
        "spec.traffic",
        [{"percent": 100, "configurationName": "orders"}],
        "spec.traffic[0].configurationName",
    ),
    (
        "spec.traffic",
        [{"percent": 100, "latestRevision": True, "revisionName": "orders-00001"}],
        "spec.traffic[0].latestRevision",
    ),
    ("spec.traffic", [{"percent": 100, "latestRevision": False}], "spec.traffic[0].latestRevision"),
    (
        "spec.traffic",
        [{"percent": 100, "latestRevision": True, "tag": "Bad"}],
        "spec.traffic[0].tag",
    ),
    (
        "spec.traffic",
        [
            {"percent": 50, "tag": "a", "latestRevision": True},
            {"percent": 50, "tag": "a", "revisionName": "orders-00001"},
        ],
        "spec.traffic[1].tag",
    ),
    (
        "spec.traffic",
        [{"percent": 100, "latestRevision": True, "url": "http://x"}],
        "spec.traffic[0].url",
    ),
    ("spec.traffic", [{"percent": 101, "latestRevision": True}], "spec.traffic[0].percent"),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/min-scale": "-1"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/min-scale",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/min-scale": "3", "autoscaling.knative.dev/max-scale": "2"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/max-scale",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/window": "5s"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/window",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/window": "soon"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/window",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/target": "0"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/target",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/target-utilization-percentage": "101"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/target-utilization-percentage",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/targetUtilizationPercentage": "0"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/targetUtilizationPercentage",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/panic-threshold-percentage": "100"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/panic-threshold-percentage",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/metric": "cpu"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/metric",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/activation-scale": "1"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/activation-scale",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/scale-down-delay": "2h"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/scale-down-delay",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/target-burst-capacity": "-2"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/target-burst-capacity",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/class": "custom.knative.dev"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/class",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/window": "6.5s"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/window",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/scaleDownDelay": "1500ms"},
        "spec.template.metadata.annotations.autoscaling.knative.dev/scaleDownDelay",
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/min-scale": 1},
        "spec.template.metadata.annotations.autoscaling.knative.dev/min-scale",
    ),
    (
        "spec.template.metadata.annotations",
        {"serving.knative.dev/progress-deadline": "0s"},
        "spec.template.metadata.annotations.serving.knative.dev/progress-deadline",
    ),
    ("spec.template", ["not", "a", "mapping"], "spec.template"),
]


@pytest.mark.parametrize(("path", "value", "field"), INVALID_SERVICES)
def test_invalid_service_is_refused_naming_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_service(service_with(path, value))
    assert caught.value.field == field
    assert caught.value.message.endswith(field)


VALID_SERVICES = [
    ("spec.traffic", [{"percent": 100, "latestRevision": True}]),
    (
        "spec.traffic",
        [
            {"percent": 60, "revisionName": "orders-00001", "tag": "stable"},
            {"percent": 40, "latestRevision": True, "tag": "next"},
        ],
    ),
    (
        "spec.traffic",
        [
            {"percent": 100, "latestRevision": True},
            {"percent": 0, "revisionName": "orders-00001", "tag": "old"},
        ],
    ),
    (f"{TEMPLATE}.spec.containerConcurrency", 1000),
    (f"{TEMPLATE}.spec.containerConcurrency", 0),
    (f"{TEMPLATE}.spec.timeoutSeconds", 600),
    (f"{CONTAINER}.ports", [{"containerPort": 8080, "name": "http1"}]),
    (f"{CONTAINER}.env", [{"name": "TARGET", "value": "x"}]),
    (f"{TEMPLATE}.metadata.name", "orders-blue"),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "0"},
    ),
    (
        "spec.template.metadata.annotations",
        {"autoscaling.knative.dev/window": "6s", "autoscaling.knative.dev/target": "0.01"},
    ),
    (
        "spec.template.metadata.annotations",
        {
            "autoscaling.knative.dev/minScale": "2",
            "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev",
            "autoscaling.knative.dev/metric": "cpu",
        },
    ),
    ("spec.template.metadata.annotations", {"autoscaling.knative.dev/target-burst-capacity": "-1"}),
    ("spec.template.metadata.annotations", {"autoscaling.knative.dev/window": "6000ms"}),
    ("spec.template.metadata.annotations", {"autoscaling.knative.dev/initial-scale": "0"}),
]


@pytest.mark.parametrize(("path", "value"), VALID_SERVICES)
def test_valid_service_passes(path: str, value: Any) -> None:
    validate_service(service_with(path, value))


ANNOTATION_PATH = "spec.template.metadata.annotations"
A = "autoscaling.knative.dev/"
ANNOTATION_MESSAGES = [
    ({A + "min-scale": "3", A + "max-scale": "2"}, "max-scale=2 is less than min-scale=3"),
    ({A + "window": "5s"}, "expected 6s <= 5s <= 3600s"),
    ({A + "window": "soon"}, "invalid value: soon"),
    ({A + "target": "0"}, "expected 0.01 <= 0"),
    ({A + "panic-threshold-percentage": "100"}, "expected 110 <= 100 <= 1000"),
    ({A + "activation-scale": "1"}, "expected 2 <= 1"),
    ({A + "target-burst-capacity": "-2"}, "expected 0 <= -2 or -1"),
    ({A + "metric": "cpu"}, "invalid value: cpu"),
]


@pytest.mark.parametrize(("annotations", "message"), ANNOTATION_MESSAGES)
def test_a_bad_autoscaling_annotation_is_refused_in_knatives_words(
    annotations: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_service(service_with(ANNOTATION_PATH, annotations))
    assert caught.value.message == f"{message}: {caught.value.field}"


# Where the webhook and the autoscaler used to disagree, or both disagreed with knative.md §1.2.
AUTOSCALER_AGREES = [
    ({A + "window": "6.5s"}, False),
    ({A + "window": "6000ms"}, True),
    ({A + "min-scale": "+3"}, True),
    ({A + "min-scale": "٣"}, False),
    ({A + "max-scale": "99999999999"}, False),
    ({A + "target": "nan"}, False),
    ({A + "target-burst-capacity": "nan"}, False),
    ({A + "class": "custom.knative.dev"}, False),
    ({A + "class": "hpa.autoscaling.knative.dev", A + "metric": "queue-depth"}, True),
    ({A + "class": "hpa.autoscaling.knative.dev", A + "metric-aggregation-algorithm": "x"}, True),
    ({A + "activation-scale": "2", A + "min-scale": "3"}, False),
    ({A + "activation-scale": "3", A + "max-scale": "2"}, False),
    ({A + "scale-down-delay": "1.5s"}, False),
    ({A + "scale-to-zero-pod-retention-period": "1500ms"}, True),
    ({"serving.knative.dev/progress-deadline": "0s"}, False),
]


@pytest.mark.parametrize(("annotations", "accepted"), AUTOSCALER_AGREES)
def test_the_webhook_and_the_autoscaler_accept_the_same_annotations(
    annotations: dict[str, str], accepted: bool
) -> None:
    config = AutoscalerConfig(allow_zero_initial_scale=True)
    if accepted:
        validate_service(service_with(ANNOTATION_PATH, annotations))
        decider_spec(config, annotations, 0)
        return
    with pytest.raises(InvalidResourceError) as webhook:
        validate_service(service_with(ANNOTATION_PATH, annotations))
    with pytest.raises(InvalidResourceError) as autoscaler:
        decider_spec(config, annotations, 0)
    key = (autoscaler.value.field or "").removeprefix("metadata.annotations.")
    assert webhook.value.field == f"{ANNOTATION_PATH}.{key}"


def test_a_revisions_own_autoscaling_annotations_are_validated() -> None:
    revision: dict[str, Any] = {
        "kind": "Revision",
        "metadata": {"name": "c-00001", "annotations": {A + "window": "5s"}},
        "spec": {"containers": [{"image": "x"}]},
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_revision(revision)
    assert caught.value.field == f"metadata.annotations.{A}window"
    revision["metadata"]["annotations"] = {A + "window": "6s", A + "initial-scale": "0"}
    validate_revision(revision)


def test_two_containers_need_exactly_one_serving_port() -> None:
    document = service_with(f"{TEMPLATE}.spec.containers", [{"image": "a"}, {"image": "b"}])
    with pytest.raises(InvalidResourceError) as caught:
        validate_service(document)
    assert caught.value.field == "spec.template.spec.containers[*].ports"
    document = service_with(
        f"{TEMPLATE}.spec.containers",
        [{"image": "a", "ports": [{"containerPort": 8080}]}, {"image": "b"}],
    )
    validate_service(document)


def test_route_traffic_needs_a_revision_or_configuration() -> None:
    route = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {"traffic": [{"percent": 100}]},
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_route(route)
    assert caught.value.field == "spec.traffic[0].revisionName, spec.traffic[0].configurationName"
    route["spec"] = {"traffic": [{"percent": 100, "configurationName": "c"}]}
    validate_route(route)


def test_configuration_and_revision_reuse_the_template_rules() -> None:
    config = {
        "kind": "Configuration",
        "metadata": {"name": "c"},
        "spec": copy.deepcopy(SERVICE["spec"]),
    }
    validate_configuration(config)
    revision = {
        "kind": "Revision",
        "metadata": {"name": "c-00001"},
        "spec": {"containers": [{"image": "x"}], "timeoutSeconds": 601},
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_revision(revision)
    assert caught.value.field == "spec.timeoutSeconds"


def test_the_webhook_bounds_only_timeout_seconds_by_max_revision_timeout() -> None:
    """Knative checks timeoutSeconds against max-revision-timeout-seconds, not the others."""
    validate_service(service_with(f"{TEMPLATE}.spec.responseStartTimeoutSeconds", 700))


def test_a_service_is_defaulted_as_knatives_webhook_persists_it() -> None:
    service = default_service(copy.deepcopy(SERVICE))
    spec = service["spec"]["template"]["spec"]
    assert spec["containerConcurrency"] == 0
    assert spec["timeoutSeconds"] == 300
    assert spec["enableServiceLinks"] is False
    assert spec["containers"][0]["name"] == "user-container"
    assert spec["containers"][0]["readinessProbe"] == {
        "tcpSocket": {"port": 0},
        "successThreshold": 1,
    }
    assert service["spec"]["traffic"] == [{"percent": 100, "latestRevision": True}]


def test_two_containers_are_named_by_index_and_only_the_serving_one_gets_a_probe() -> None:
    revision = default_revision(
        {
            "spec": {
                "containers": [{"image": "a", "ports": [{"containerPort": 8080}]}, {"image": "b"}]
            }
        }
    )
    first, second = revision["spec"]["containers"]
    assert (first["name"], second["name"]) == ("user-container-0", "user-container-1")
    assert "readinessProbe" in first
    assert "readinessProbe" not in second


def test_a_route_target_is_latest_unless_it_names_a_revision() -> None:
    route = default_route(
        {"spec": {"traffic": [{"percent": 50}, {"revisionName": "r", "percent": 50}]}}
    )
    assert [t["latestRevision"] for t in route["spec"]["traffic"]] == [True, False]


def test_a_revisions_spec_is_immutable() -> None:
    old = {"spec": {"containers": [{"image": "a"}]}}
    check_revision_update(old, copy.deepcopy(old))
    with pytest.raises(InvalidResourceError) as caught:
        check_revision_update(old, {"spec": {"containers": [{"image": "b"}]}})
    assert caught.value.field == "spec"


def test_a_template_may_not_change_under_the_same_revision_name() -> None:
    old = service_with("spec.template.metadata", {"name": "orders-v1"})
    changed = copy.deepcopy(old)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "orders:2"
    with pytest.raises(InvalidResourceError) as caught:
        check_template_update(old, changed)
    assert caught.value.field == "spec.template.metadata.name"
    changed["spec"]["template"]["metadata"]["name"] = "orders-v2"
    check_template_update(old, changed)


def test_containerconcurrency_falls_back_to_config_defaults() -> None:
    assert container_concurrency({"spec": {"containerConcurrency": 3}}, {}) == 3
    assert container_concurrency({"spec": {}}, {"container-concurrency": "5"}) == 5
    assert container_concurrency({}, {}) == 0


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({}, 0),
        ({"autoscaling.knative.dev/max-scale": "4"}, 4),
        ({"autoscaling.knative.dev/maxScale": "3"}, 3),
        ({"autoscaling.knative.dev/max-scale": "4", "autoscaling.knative.dev/maxScale": "3"}, 4),
        ({"autoscaling.knative.dev/max-scale": "many"}, 0),
    ],
)
def test_max_scale_reads_the_canonical_key_before_its_alias(
    annotations: dict[str, str], expected: int
) -> None:
    assert max_scale(annotations) == expected
