"""EventPolicies → the grants the data plane's edge enforces (pure).

An EventPolicy applies to the receivers of its namespace that ``spec.to`` names: a ``ref``
(apiVersion, kind, name), or a ``selector`` (apiVersion, kind and a label selector); no
``to`` at all means every receiver of the namespace. Locally the receivers are Brokers
(their ingress is the data plane's ``/<ns>/<name>``). The allowed senders are the policy's
``status.from``: the subjects the control plane resolved from ``spec.from``
(:func:`bulut.controlplane.reconcilers.eventpolicies.reconcile_eventpolicy`). Several policies
on one receiver add up: a sender any of them names is let in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bulut.apis.selectors import label_selector, selector_text
from bulut.edge.identity import broker_audience

Resource = Mapping[str, Any]
BROKER_API_GROUP = "eventing.knative.dev"


def _namespace(obj: Resource) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _is_broker_target(target: Mapping[str, Any]) -> bool:
    """Whether a ``ref``/``selector`` target names Brokers (no apiVersion/kind: any kind)."""
    kind, api_version = target.get("kind"), str(target.get("apiVersion") or "")
    if kind is None and not api_version:
        return True
    return kind == "Broker" and api_version.split("/")[0] in ("", BROKER_API_GROUP)


def applies_to(policy: Resource, broker: Resource) -> bool:
    """Whether ``policy`` (an EventPolicy) applies to ``broker``."""
    if _namespace(policy) != _namespace(broker):
        return False
    targets = (policy.get("spec") or {}).get("to") or []
    if not targets:
        return True
    name = (broker.get("metadata") or {}).get("name")
    for target in targets:
        ref, selector = target.get("ref"), target.get("selector")
        if ref is not None and _is_broker_target(ref) and ref.get("name") == name:
            return True
        if selector is not None and _is_broker_target(selector):
            labels = {k: v for k, v in selector.items() if k in ("matchLabels", "matchExpressions")}
            if label_selector(selector_text(labels))(broker):
                return True
    return False


def grants(policies: Iterable[Resource], brokers: Iterable[Resource]) -> dict[str, list[str]]:
    """Receiver audience → the subject patterns the policies that apply to it allow."""
    found: dict[str, list[str]] = {}
    known = list(brokers)
    for policy in policies:
        allowed = [str(s) for s in (policy.get("status") or {}).get("from") or []]
        for broker in known:
            if applies_to(policy, broker):
                meta = broker.get("metadata") or {}
                audience = broker_audience(_namespace(broker), str(meta.get("name")))
                found.setdefault(audience, []).extend(allowed)
    return found
