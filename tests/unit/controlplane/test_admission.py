"""Admission: defaults, generations, apply actions, update rules and ignored kinds."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest

from bulut.controlplane.admission import admit, in_document
from bulut.errors import ConflictError, InvalidResourceError, NotFoundError

from .factories import addressing, resource, service


def test_created_service_gets_uid_generation_and_knative_defaults() -> None:
    admitted = admit(service(), None, addressing=addressing())
    assert admitted.action == "created"
    meta = admitted.resource["metadata"]
    assert (meta["uid"], meta["generation"], meta["namespace"]) == ("uid-1", 1, "default")
    spec = admitted.resource["spec"]
    assert spec["traffic"] == [{"percent": 100, "latestRevision": True}]
    revision_spec = spec["template"]["spec"]
    assert revision_spec["timeoutSeconds"] == 300
    assert revision_spec["containerConcurrency"] == 0
    assert revision_spec["containers"][0]["name"] == "user-container"


def test_reapplying_the_same_document_is_unchanged() -> None:
    first = admit(service(), None, addressing=addressing()).resource
    again = admit(service(), first, addressing=addressing())
    assert again.action == "unchanged"
    assert again.resource == first


def test_a_spec_change_is_configured_and_bumps_generation() -> None:
    first = admit(service(), None, addressing=addressing()).resource
    changed = service()
    changed["spec"]["template"]["spec"]["containerConcurrency"] = 5
    admitted = admit(changed, first, addressing=addressing())
    assert admitted.action == "configured"
    assert admitted.resource["metadata"]["generation"] == 2
    assert admitted.resource["metadata"]["uid"] == first["metadata"]["uid"]


def test_a_stale_resource_version_is_a_conflict() -> None:
    first = admit(service(), None, addressing=addressing()).resource
    first["metadata"]["resourceVersion"] = "3"
    stale = service()
    stale["metadata"]["resourceVersion"] = "2"
    with pytest.raises(ConflictError):
        admit(stale, first, addressing=addressing())


def test_changing_a_template_without_changing_its_byo_name_is_refused() -> None:
    named = service()
    named["spec"]["template"]["metadata"] = {"name": "orders-blue"}
    first = admit(named, None, addressing=addressing()).resource
    changed = copy.deepcopy(named)
    changed["spec"]["template"]["spec"]["containerConcurrency"] = 3
    with pytest.raises(InvalidResourceError) as caught:
        admit(changed, first, addressing=addressing())
    assert caught.value.field == "spec.template.metadata.name"


def test_trigger_broker_is_immutable() -> None:
    spec = {"broker": "default", "subscriber": {"uri": "http://x"}}
    first = admit(
        resource("eventing.knative.dev/v1", "Trigger", "t", spec), None, addressing=addressing()
    )
    moved = resource("eventing.knative.dev/v1", "Trigger", "t", {**spec, "broker": "other"})
    with pytest.raises(InvalidResourceError) as caught:
        admit(moved, first.resource, addressing=addressing())
    assert caught.value.field == "spec.broker"


@pytest.mark.parametrize(
    ("api_version", "kind", "note"),
    [
        ("v1", "Secret", "ignored (cluster only)"),
        ("example.com/v1", "Widget", "ignored (unknown kind example.com/v1/Widget)"),
    ],
)
def test_cluster_only_and_unknown_kinds_are_ignored_with_a_note(
    api_version: str, kind: str, note: str
) -> None:
    document = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    admitted = admit(document, None, addressing=addressing())
    assert (admitted.info, admitted.action, admitted.note) == (None, "ignored", note)


CLASHING = [
    (
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {"selector": {"app": "orders"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        "Service.core",
    ),
    (
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {"to": {"kind": "Service", "name": "orders"}},
        },
        "Route.route.openshift.io",
    ),
    (
        {
            "apiVersion": "operators.coreos.com/v1alpha1",
            "kind": "Subscription",
            "metadata": {"name": "serverless-operator", "namespace": "openshift-serverless"},
            "spec": {
                "name": "serverless-operator",
                "source": "redhat-operators",
                "sourceNamespace": "openshift-marketplace",
                "channel": "stable-1.38",
            },
        },
        "Subscription.operators.coreos.com",
    ),
]


@pytest.mark.parametrize(("document", "key"), CLASHING)
def test_a_kind_whose_name_knative_uses_is_stored_under_its_group_as_not_reconciled(
    document: dict[str, object], key: str
) -> None:
    admitted = admit(document, None, addressing=addressing())
    assert (admitted.action, admitted.key[0], admitted.info is not None) == ("created", key, True)
    (condition,) = admitted.resource["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("Unknown", "NotReconciledLocally")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({**CLASHING[0][0], "spec": {"ports": [{"port": 0}]}}, "spec.ports[0].port"),
        ({**CLASHING[0][0], "spec": {"type": "Public"}}, "spec.type"),
        ({**CLASHING[1][0], "spec": {"host": "x"}}, "spec"),
        ({**CLASHING[2][0], "spec": {"name": "x", "source": "y"}}, "spec"),
        (
            {
                **CLASHING[2][0],
                "spec": {"name": "x", "source": "y", "sourceNamespace": "z", "channel": 1},
            },
            "spec.channel",
        ),
    ],
)
def test_those_kinds_are_checked_against_their_own_schemas(
    document: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        admit(document, None, addressing=addressing())
    assert caught.value.field == field


def test_a_knative_kind_with_the_wrong_api_version_is_refused() -> None:
    document = service()
    document["apiVersion"] = "serving.knative.dev/v1beta1"
    with pytest.raises(InvalidResourceError) as caught:
        admit(document, None, addressing=addressing())
    assert caught.value.field == "apiVersion"


def test_an_unknown_image_names_the_container_image_field() -> None:
    def check(image: str, annotations: Mapping[str, str]) -> None:
        raise NotFoundError(f"no function for image {image!r}")

    with pytest.raises(InvalidResourceError) as caught:
        admit(service("ghost"), None, addressing=addressing(), check_image=check)
    assert caught.value.field == "spec.template.spec.containers[0].image"
    assert "ghost" in caught.value.message


def test_the_image_check_sees_the_template_annotations() -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    document = service()
    document["spec"]["template"]["metadata"] = {
        "annotations": {"bulut.dev/function-path": "functions/orders"}
    }
    admit(
        document, None, addressing=addressing(), check_image=lambda i, a: seen.append((i, dict(a)))
    )
    assert seen == [("orders", {"bulut.dev/function-path": "functions/orders"})]


def test_errors_in_a_batch_name_the_document() -> None:
    error = InvalidResourceError("bad: spec.x", field="spec.x")
    located = in_document(error, 1, service())
    assert located.field == "documents[1].spec.x"
    assert located.message == "document 2 (Service orders): bad: spec.x"


NOT_RECONCILED = {
    "type": "Ready",
    "status": "Unknown",
    "reason": "NotReconciledLocally",
    "message": "Role acts only on a cluster: Bulut stores and validates it locally but does "
    "not reconcile it",
    "lastTransitionTime": "2026-01-01T00:00:00Z",
}


def role(**extra: object) -> dict[str, object]:
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": "shop"},
        "rules": rules,
        **extra,
    }


def test_a_cluster_only_kind_is_stored_saying_it_is_not_reconciled_locally() -> None:
    admitted = admit(role(), None, addressing=addressing())
    assert (admitted.info is not None, admitted.action, admitted.key) == (
        True,
        "created",
        ("Role", "shop", "reader"),
    )
    assert admitted.resource["status"] == {"conditions": [NOT_RECONCILED], "observedGeneration": 1}
    assert admitted.resource["rules"][0]["verbs"] == ["get"]


def test_reapplying_a_cluster_only_object_is_unchanged_and_keeps_its_condition() -> None:
    first = admit(role(), None, addressing=addressing()).resource
    again = admit(role(), first, addressing=addressing())
    assert again.action == "unchanged"
    changed = admit(
        role(rules=[{"verbs": ["list"], "resources": ["pods"]}]), first, addressing=addressing()
    )
    assert changed.action == "configured"
    assert changed.resource["status"]["conditions"] == [NOT_RECONCILED]
    assert changed.resource["status"]["observedGeneration"] == 2


def test_a_cluster_scoped_cluster_only_kind_has_no_namespace() -> None:
    document = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "ci", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "shop"}],
    }
    admitted = admit(document, None, addressing=addressing(), default_namespace="shop")
    assert admitted.key == ("ClusterRoleBinding", "", "ci")
    assert "namespace" not in admitted.resource["metadata"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (role(rules=[{"resources": ["pods"]}]), "rules[0]"),
        (
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "b"},
                "subjects": [],
            },
            "spec",
        ),
        (
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "orders"},
                "spec": {"minAvailable": [1]},
            },
            "spec.minAvailable",
        ),
        (
            {
                "apiVersion": "velero.io/v1",
                "kind": "Schedule",
                "metadata": {"name": "daily", "namespace": "velero"},
                "spec": {"schedule": "0 1 * * *", "template": {"ttl": 3}},
            },
            "spec.template.ttl",
        ),
        (
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Bad_Name"}},
            "metadata.name",
        ),
    ],
)
def test_a_cluster_only_object_is_checked_against_its_schema_naming_the_field(
    document: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        admit(document, None, addressing=addressing())
    assert caught.value.field == field
