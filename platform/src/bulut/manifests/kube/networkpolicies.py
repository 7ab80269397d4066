"""Whether a NetworkPolicy lets a peer reach a pod (ingress), decided without I/O.

Kubernetes' rules (networking.k8s.io/v1, as the API reference and the NetworkPolicy concept
page state them):

- a pod is *isolated for ingress* when a policy of its namespace selects it (``podSelector``)
  and lists ``Ingress`` in ``policyTypes`` (an absent ``policyTypes`` means Ingress, plus
  Egress when the policy has egress rules); a pod no policy isolates accepts everything;
- an isolated pod accepts a connection when *any* ingress rule of *any* policy selecting it
  admits it (policies add up, none subtracts);
- a rule admits a connection when one of its ``from`` peers matches (no ``from``: every
  peer) and one of its ``ports`` matches (no ``ports``: every port);
- a peer with ``podSelector`` alone matches pods of the policy's namespace; with
  ``namespaceSelector`` alone, every pod of the matching namespaces; with both, the matching
  pods of the matching namespaces. Every namespace carries ``kubernetes.io/metadata.name``.

What cannot be decided from the objects alone gives ``allowed=None`` with the reason:
``ipBlock`` peers (cluster and pod IPs do not exist locally), named ports (they resolve
against the container ports of the *target* pod, which the cluster's runtime adds, e.g.
queue-proxy's), and a ``podSelector`` on a peer whose pod labels are not known (a system pod
of the cluster, such as the ingress gateway's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .selectors import matches

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection: a pod's namespace and labels (None: not known)."""

    namespace: str
    labels: Mapping[str, str] | None = None
    namespace_labels: Mapping[str, str] = field(default_factory=dict)

    def ns_labels(self) -> dict[str, str]:
        """The namespace's labels, with the one Kubernetes always sets."""
        return {**self.namespace_labels, NAME_LABEL: self.namespace}


@dataclass(frozen=True)
class Verdict:
    """The answer for one connection, and the policies behind it."""

    allowed: bool | None
    isolating: tuple[str, ...] = ()
    admitting: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()

    def explain(self, target: str, peer: str) -> str:
        """One sentence a user can act on."""
        if self.allowed is None:
            return f"whether {peer} may reach {target} cannot be decided locally: " + "; ".join(
                self.undecided
            )
        if self.allowed:
            if not self.isolating:
                return f"{target} is not isolated for ingress: {peer} may reach it"
            return f"{peer} may reach {target}: admitted by {', '.join(self.admitting)}"
        return (
            f"NetworkPolicy refuses {peer} -> {target}: {', '.join(self.isolating)} isolate "
            "it for ingress and no ingress rule admits this peer (add a rule whose `from` "
            "selects it)"
        )


def _types(policy: Mapping[str, Any]) -> set[str]:
    spec = policy.get("spec") or {}
    listed = spec.get("policyTypes")
    if listed:
        return {str(t) for t in listed}
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


def _and(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: Iterable[bool | None]) -> bool | None:
    found: bool | None = False
    for value in values:
        if value is True:
            return True
        if value is None:
            found = None
    return found


def _peer_matches(
    peer_rule: Mapping[str, Any], policy_namespace: str, peer: Endpoint, why: list[str]
) -> bool | None:
    if "ipBlock" in peer_rule:
        why.append("an ipBlock peer (no cluster IPs locally)")
        return None
    pods = peer_rule.get("podSelector")
    namespaces = peer_rule.get("namespaceSelector")
    if namespaces is None:
        in_namespace: bool = peer.namespace == policy_namespace
    else:
        in_namespace = matches(namespaces, peer.ns_labels())
    if not in_namespace:
        return False
    if pods is None or pods == {}:
        return True
    if peer.labels is None:
        why.append(f"a podSelector on pods of {peer.namespace} whose labels are not known here")
        return None
    return matches(pods, peer.labels)


def _port_matches(ports: list[Any], port: int, why: list[str]) -> bool | None:
    if not ports:
        return True
    results: list[bool | None] = []
    for entry in ports:
        if str(entry.get("protocol", "TCP")) != "TCP":
            results.append(False)
            continue
        number = entry.get("port")
        if number is None:
            results.append(True)
        elif isinstance(number, int):
            end = entry.get("endPort")
            results.append(number <= port <= end if isinstance(end, int) else number == port)
        else:
            why.append(f"the named port {number!r} (names resolve against the pod's containers)")
            results.append(None)
    return _or(results)


def ingress_verdict(
    policies: Iterable[Mapping[str, Any]], target: Endpoint, peer: Endpoint, port: int
) -> Verdict:
    """Whether ``peer`` may open a TCP connection to ``port`` of ``target`` (pod labels known)."""
    labels = target.labels or {}
    isolating: list[str] = []
    admitting: list[str] = []
    undecided: list[str] = []
    results: list[bool | None] = []
    for policy in policies:
        meta = policy.get("metadata") or {}
        if (meta.get("namespace") or target.namespace) != target.namespace:
            continue
        spec = policy.get("spec") or {}
        if "Ingress" not in _types(policy) or not matches(spec.get("podSelector") or {}, labels):
            continue
        name = f"{target.namespace}/{meta.get('name')}"
        isolating.append(name)
        for rule in spec.get("ingress") or []:
            why: list[str] = []
            peers = rule.get("from") or []
            source = (
                _or(_peer_matches(p, target.namespace, peer, why) for p in peers) if peers else True
            )
            result = _and(source, _port_matches(rule.get("ports") or [], port, why))
            if result is True:
                admitting.append(name)
            elif result is None:
                undecided.extend(f"{name}: {reason}" for reason in why)
            results.append(result)
    if not isolating:
        return Verdict(True)
    allowed = _or(results)
    return Verdict(
        allowed,
        tuple(isolating),
        tuple(dict.fromkeys(admitting)),
        tuple(dict.fromkeys(undecided)) if allowed is None else (),
    )
