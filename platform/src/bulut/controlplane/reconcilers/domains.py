"""DomainMapping: URL, reference, claim and conditions (knative-kinds §8.2).

A DomainMapping's name is a domain; a request whose Host is that domain reaches the
referenced Knative Service or Route of the same namespace (the serving data plane routes
it, adding ``K-Original-Host``). Knative's targets resolve to ``{name}.{ns}.svc.cluster.
local`` without a path; locally that is a Service or a Route (a Broker's address has a
path and a core Service runs only on a cluster: ``ResolveFailed``). The claim rule needs
the cluster-scoped ClusterDomainClaims, so :func:`claim` is applied by the control plane
after the namespace's reconcile (:mod:`bulut.controlplane.domains`); until then
``DomainClaimed`` keeps what it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import find, mark, mark_ready_from
from ..patching import clone
from .ownership import Objects

DEPENDENTS = ("CertificateProvisioned", "DomainClaimed", "IngressReady", "ReferenceResolved")
TARGETS = {("serving.knative.dev/v1", "Service"), ("serving.knative.dev/v1", "Route")}


def _resolve(ref: Mapping[str, Any], namespace: str, objects: Objects) -> str:
    """Why the reference does not resolve to a host without a path ("" when it does)."""
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if (ref.get("namespace") or namespace) != namespace:
        return f"mismatched namespaces: the reference must be in namespace {namespace!r}"
    if (str(ref.get("apiVersion", "")), kind) not in TARGETS:
        return (
            f"{kind} {name!r} ({ref.get('apiVersion')}): a domain maps only to an Addressable "
            "whose address is {name}.{namespace}.svc.cluster.local without a path; locally a "
            "Knative Service or Route"
        )
    target = objects.get((kind, name))
    if target is None:
        return f'failed to get object {namespace}/{name}: {kind.lower()} "{name}" not found'
    if not (target.get("status") or {}).get("url"):
        return f"{kind} {namespace}/{name} does not have a URL yet"
    return ""


def reconcile_domainmapping(
    mapping: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """url/address, ReferenceResolved, IngressReady, CertificateProvisioned; Ready."""
    now = addressing.now()
    result = clone(mapping)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    meta, spec = result["metadata"], result.get("spec") or {}
    tls = bool((spec.get("tls") or {}).get("secretName"))
    url = addressing.domain_url(meta["name"], https=tls)
    status["url"] = url
    status["address"] = {"url": url}
    why = _resolve(spec.get("ref") or {}, meta["namespace"], objects)
    if why:
        mark(status, "ReferenceResolved", "False", "ResolveFailed", why, now=now)
        mark(status, "IngressReady", "Unknown", "IngressNotConfigured", "", now=now)
    else:
        mark(status, "ReferenceResolved", "True", now=now)
        mark(status, "IngressReady", "True", now=now)
    if tls:
        mark(status, "CertificateProvisioned", "True", "CertificateExternallyProvided", now=now)
    else:
        message = "autoTLS is not enabled"
        mark(status, "CertificateProvisioned", "True", "TLSNotEnabled", message, now=now)
    if find(status, "DomainClaimed") is None:
        mark(status, "DomainClaimed", "Unknown", "", "", now=now)
    mark_ready_from(status, DEPENDENTS, now=now)
    result["status"] = status
    return result


def claim(
    mapping: Resource, claims: Mapping[str, str], autocreate: bool, *, now: str
) -> tuple[Resource, bool]:
    """The mapping with ``DomainClaimed`` decided, and whether a claim must be created.

    ``claims`` maps each claimed domain to the namespace its ClusterDomainClaim names.
    """
    result = clone(mapping)
    status: dict[str, Any] = clone(result.get("status") or {})
    domain, namespace = result["metadata"]["name"], result["metadata"]["namespace"]
    owner = claims.get(domain)
    create = False
    if owner == namespace:
        mark(status, "DomainClaimed", "True", now=now)
    elif owner is None and autocreate:
        mark(status, "DomainClaimed", "True", now=now)
        create = True
    else:
        # Knative reports a missing claim with the same reason (and message) as a taken one.
        message = f"The domain name is already in use by another namespace: {domain}"
        if owner is None:
            message += f" (no ClusterDomainClaim found for domain {domain!r})"
        mark(status, "DomainClaimed", "False", "DomainAlreadyClaimed", message, now=now)
    mark_ready_from(status, DEPENDENTS, now=now)
    result["status"] = status
    return result, create


def orphaned_claims(claims: Sequence[Resource], mappings: Sequence[Resource]) -> list[Resource]:
    """The ClusterDomainClaims a DomainMapping auto-created (its controller ownerReference)
    whose mapping is gone: same name, in the claim's namespace, with the owner's uid."""
    alive = {
        (
            str(m["metadata"].get("namespace")),
            str(m["metadata"]["name"]),
            str(m["metadata"].get("uid")),
        )
        for m in mappings
    }
    orphans = []
    for found in claims:
        owners = [
            o
            for o in found["metadata"].get("ownerReferences") or []
            if o.get("kind") == "DomainMapping" and o.get("controller")
        ]
        namespace = str((found.get("spec") or {}).get("namespace") or "")
        if owners and all(
            (namespace, str(o.get("name")), str(o.get("uid"))) not in alive for o in owners
        ):
            orphans.append(found)
    return orphans
