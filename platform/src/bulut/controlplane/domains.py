"""Domain claims across namespaces: ClusterDomainClaims and DomainMappings (knative-kinds §8.2).

A ClusterDomainClaim (cluster-scoped, named after a domain) says which namespace may map
that domain. After each write the control plane settles every DomainMapping's claim:
``DomainClaimed`` True when its namespace holds the claim, else False
``DomainAlreadyClaimed``; with ``autocreate-cluster-domain-claims: "true"`` in
``knative-serving/config-network`` a missing claim is created for the mapping's namespace,
owned by the mapping (a controller ownerReference, as Knative's ``MakeDomainClaim`` makes it),
and deleted with it: a claim whose owning DomainMapping is gone is deleted at the next settle.
A claim made by hand (no such ownerReference) stays.
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import ResourceEvent

from . import kinds
from .addresses import Addressing
from .reconcilers.domains import claim, orphaned_claims
from .reconcilers.ownership import Objects
from .store import Transaction

CONFIG_NETWORK = ("ConfigMap", "knative-serving", "config-network")
AUTOCREATE_KEY = "autocreate-cluster-domain-claims"
CLAIM = "ClusterDomainClaim"


def autocreates(tx: Transaction) -> bool:
    """``autocreate-cluster-domain-claims`` of the stored config-network (default false)."""
    configmap = tx.get(*CONFIG_NETWORK) or {}
    return str((configmap.get("data") or {}).get(AUTOCREATE_KEY, "false")).strip().lower() == "true"


def settle(tx: Transaction, addressing: Addressing) -> list[ResourceEvent]:
    """Decide every DomainMapping's claim; create claims where autocreate says so, delete
    the claims a deleted mapping had created."""
    mappings = tx.find("DomainMapping", None)
    stored = tx.find(CLAIM, None)
    orphans = orphaned_claims(stored, mappings)
    events: list[ResourceEvent] = []
    if orphans:
        events += tx.write("", {(CLAIM, c["metadata"]["name"]): c for c in orphans}, {})
    if not mappings:
        return events
    claims = {
        str(c["metadata"]["name"]): str((c.get("spec") or {}).get("namespace") or "")
        for c in stored
        if c not in orphans
    }
    autocreate = autocreates(tx)
    now = addressing.now()
    for namespace in sorted({str(m["metadata"]["namespace"]) for m in mappings}):
        before = tx.load_namespace(namespace)
        after: Objects = dict(before)
        created: Objects = {}
        for key, mapping in sorted(before.items()):
            if key[0] != "DomainMapping":
                continue
            decided, create = claim(mapping, claims, autocreate, now=now)
            after[key] = decided
            if create:
                domain = key[1]
                claims[domain] = namespace
                created[(CLAIM, domain)] = _new_claim(mapping, addressing)
        if created:
            events += tx.write("", {}, created)
        events += tx.write(namespace, before, after)
    return events


def _new_claim(mapping: dict[str, Any], addressing: Addressing) -> dict[str, object]:
    meta = mapping["metadata"]
    owner = {
        "apiVersion": mapping.get("apiVersion") or kinds.BY_KIND["DomainMapping"].api_version,
        "kind": "DomainMapping",
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": kinds.BY_KEY[CLAIM].api_version,
        "kind": CLAIM,
        "metadata": {
            "name": meta["name"],
            "uid": addressing.new_uid(),
            "generation": 1,
            "creationTimestamp": addressing.now(),
            "ownerReferences": [owner],
        },
        "spec": {"namespace": meta["namespace"]},
    }
