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
        ("rbac.authorization.k8s.io/v1", "Role", "ignored (cluster only)"),
        ("policy/v1", "PodDisruptionBudget", "ignored (cluster only)"),
        ("route.openshift.io/v1", "Route", "ignored (cluster only)"),
        ("v1", "Service", "ignored (cluster only)"),
        ("example.com/v1", "Widget", "ignored (unknown kind example.com/v1/Widget)"),
    ],
)
def test_cluster_only_and_unknown_kinds_are_ignored_with_a_note(
    api_version: str, kind: str, note: str
) -> None:
    document = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    admitted = admit(document, None, addressing=addressing())
    assert (admitted.info, admitted.action, admitted.note) == (None, "ignored", note)


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
