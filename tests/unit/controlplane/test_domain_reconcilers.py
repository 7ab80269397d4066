"""DomainMapping: webhook rules, status, and the claim rule (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.controlplane.reconcilers.domains import claim, orphaned_claims
from bulut.errors import InvalidResourceError, NotFoundError
from tests.unit.controlplane.factories import Namespace, service

NOW = "2026-01-01T00:00:03Z"


def mapping(domain: str = "shop.example.com", **ref: Any) -> dict[str, Any]:
    target = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders", **ref}
    return {
        "apiVersion": "serving.knative.dev/v1beta1",
        "kind": "DomainMapping",
        "metadata": {"name": domain, "namespace": "default"},
        "spec": {"ref": target},
    }


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (mapping("localhost"), "metadata.name"),
        (mapping("api.svc.cluster.local"), "metadata.name"),
        (mapping(namespace="other"), "spec.ref.namespace"),
        (mapping(name=""), "spec.ref.name"),
    ],
)
def test_an_invalid_domainmapping_is_rejected_naming_the_field(
    document: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        Namespace().apply(document)
    assert caught.value.field == field


def test_a_mapping_to_a_service_resolves_and_waits_for_its_claim() -> None:
    ns = Namespace().apply(service("orders"), mapping())
    status = ns.status("DomainMapping", "shop.example.com")
    assert status["url"] == "http://shop.example.com:8080" == status["address"]["url"]
    assert ns.condition("DomainMapping", "shop.example.com", "ReferenceResolved")[0] == "True"
    assert ns.condition("DomainMapping", "shop.example.com", "CertificateProvisioned")[:2] == (
        "True",
        "TLSNotEnabled",
    )
    assert ns.condition("DomainMapping", "shop.example.com")[0] == "Unknown"
    assert ns[("DomainMapping", "shop.example.com")]["spec"]["ref"]["namespace"] == "default"


def test_a_broker_is_not_a_domain_target() -> None:
    ns = Namespace().apply(mapping(apiVersion="eventing.knative.dev/v1", kind="Broker"))
    status, reason, _ = ns.condition("DomainMapping", "shop.example.com", "ReferenceResolved")
    assert (status, reason) == ("False", "ResolveFailed")


def test_the_claim_rule() -> None:
    ns = Namespace().apply(service("orders"), mapping())
    dm = ns[("DomainMapping", "shop.example.com")]
    held, create = claim(dm, {"shop.example.com": "default"}, False, now=NOW)
    assert not create and _condition(held, "Ready") == ("True", "")
    taken, _ = claim(dm, {"shop.example.com": "other"}, True, now=NOW)
    assert _condition(taken, "DomainClaimed") == ("False", "DomainAlreadyClaimed")
    missing, create = claim(dm, {}, False, now=NOW)
    assert not create and _condition(missing, "Ready") == ("False", "DomainAlreadyClaimed")
    auto, create = claim(dm, {}, True, now=NOW)
    assert create and _condition(auto, "DomainClaimed") == ("True", "")


def _condition(resource: dict[str, Any], type_: str) -> tuple[str, str]:
    for found in resource["status"]["conditions"]:
        if found["type"] == type_:
            return found["status"], found.get("reason", "")
    raise AssertionError(type_)


def owned_claim(domain: str, namespace: str, uid: str) -> dict[str, Any]:
    owner: dict[str, Any] = {"apiVersion": "serving.knative.dev/v1beta1", "kind": "DomainMapping"}
    owner |= {"name": domain, "uid": uid, "controller": True}
    return {
        "kind": "ClusterDomainClaim",
        "metadata": {"name": domain, "ownerReferences": [owner]},
        "spec": {"namespace": namespace},
    }


def test_a_claim_is_orphaned_when_the_mapping_that_created_it_is_gone() -> None:
    live = mapping("live.example.com")
    live["metadata"]["uid"] = "u-live"
    made_by_hand = {"kind": "ClusterDomainClaim", "metadata": {"name": "hand.example.com"}}
    made_by_hand["spec"] = {"namespace": "default"}
    claims = [
        owned_claim("live.example.com", "default", "u-live"),
        owned_claim("gone.example.com", "default", "u-gone"),
        owned_claim("live.example.com", "other", "u-live"),  # another namespace's mapping
        made_by_hand,
    ]
    orphans = orphaned_claims(claims, [live])
    assert [(o["metadata"]["name"], o["spec"]["namespace"]) for o in orphans] == [
        ("gone.example.com", "default"),
        ("live.example.com", "other"),
    ]


async def test_deleting_a_mapping_deletes_the_claim_it_auto_created_only(
    local_control_plane: Any,
) -> None:
    plane = local_control_plane
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-network", "namespace": "knative-serving"},
        "data": {"autocreate-cluster-domain-claims": "true"},
    }
    by_hand = {
        "apiVersion": "networking.internal.knative.dev/v1alpha1",
        "kind": "ClusterDomainClaim",
        "metadata": {"name": "kept.example.com"},
        "spec": {"namespace": "default"},
    }
    await plane.apply([config, by_hand, mapping("shop.example.com"), mapping("kept.example.com")])
    created = await plane.get("ClusterDomainClaim", "", "shop.example.com")
    stored = await plane.get("DomainMapping", "default", "shop.example.com")
    assert created["metadata"]["ownerReferences"][0]["uid"] == stored["metadata"]["uid"]

    await plane.delete("DomainMapping", "default", "shop.example.com")
    await plane.delete("DomainMapping", "default", "kept.example.com")

    with pytest.raises(NotFoundError):
        await plane.get("ClusterDomainClaim", "", "shop.example.com")
    assert (await plane.get("ClusterDomainClaim", "", "kept.example.com"))["spec"] == {
        "namespace": "default"
    }
