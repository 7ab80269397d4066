"""Domain claims across namespaces: ClusterDomainClaims and DomainMappings (knative-kinds §8.2).

A ClusterDomainClaim (cluster-scoped, named after a domain) says which namespace may map
that domain. After each write the control plane settles every DomainMapping's claim:
``DomainClaimed`` True when its namespace holds the claim, else False
``DomainAlreadyClaimed``; with ``autocreate-cluster-domain-claims: "true"`` in
``knative-serving/config-network`` a missing claim is created for the mapping's namespace.
"""

from __future__ import annotations

from bulut.manifests.feed import ResourceEvent

from . import kinds
from .addresses import Addressing
from .reconcilers.domains import claim
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
    """Decide every DomainMapping's claim; create claims where autocreate says so."""
    mappings = tx.find("DomainMapping", None)
    if not mappings:
        return []
    claims = {
        str(c["metadata"]["name"]): str((c.get("spec") or {}).get("namespace") or "")
        for c in tx.find(CLAIM, None)
    }
    autocreate = autocreates(tx)
    now = addressing.now()
    events: list[ResourceEvent] = []
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
                created[(CLAIM, domain)] = _new_claim(domain, namespace, addressing)
        if created:
            events += tx.write("", {}, created)
        events += tx.write(namespace, before, after)
    return events


def _new_claim(domain: str, namespace: str, addressing: Addressing) -> dict[str, object]:
    return {
        "apiVersion": kinds.BY_KEY[CLAIM].api_version,
        "kind": CLAIM,
        "metadata": {
            "name": domain,
            "uid": addressing.new_uid(),
            "generation": 1,
            "creationTimestamp": addressing.now(),
        },
        "spec": {"namespace": namespace},
    }
