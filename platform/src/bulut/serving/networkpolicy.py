"""NetworkPolicies on the local data plane: which revisions refuse the traffic they get.

Who connects to a function's pod on a cluster (Knative Serving behind Kourier, as OpenShift
Serverless runs it) is never the caller itself: every request for a Knative Service URL,
whether from outside, from another function calling ``http://<svc>.<ns>.svc.cluster.local``
directly, or from the broker delivering an event (the MT broker's filter in knative-eventing
sends to the subscriber's Knative URL too), reaches the pod from the ingress gateway
(namespace ``knative-serving-ingress``) or, while the revision has no spare capacity or is
scaled to zero, from the activator (``knative-serving``). OpenShift Serverless labels both
namespaces ``knative.openshift.io/system-namespace=true``. The local data plane plays both
parts, so it classifies every request it routes to a revision as coming from those two
peers, on queue-proxy's port 8012, and asks
:func:`~bulut.manifests.kube.networkpolicies.ingress_verdict`:

- both refused: the request is refused (403, naming the policies), where the cluster's
  gateway would never get a connection through;
- both admitted, or the pod not isolated: it goes on;
- anything else cannot be decided locally (the verdicts differ, so the cluster's answer
  depends on whether the activator is in the path; a rule uses an ``ipBlock``, a named port,
  or a ``podSelector`` on the gateway's or activator's pods): the request goes on and the
  reason is logged once per revision.

Not enforced locally: Egress policies (the data plane does not know which function opened a
connection: every instance connects from 127.0.0.1) and connections that bypass Knative's
data path (a pod's IP or a revision's private Service: they do not exist locally).

The verdicts are computed when a NetworkPolicy, Namespace or Revision changes, never per
request: the gateway looks up ``refusals`` only when it is not empty.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bulut.manifests.kube.networkpolicies import Endpoint, Verdict, ingress_verdict

logger = logging.getLogger(__name__)

SYSTEM_NAMESPACE_LABELS = {"knative.openshift.io/system-namespace": "true"}
INGRESS_GATEWAY = Endpoint("knative-serving-ingress", None, SYSTEM_NAMESPACE_LABELS)
ACTIVATOR = Endpoint("knative-serving", None, SYSTEM_NAMESPACE_LABELS)
QUEUE_PORT = 8012
PEERS = "the ingress gateway (knative-serving-ingress) and the activator (knative-serving)"
Key = tuple[str, str]


def pod_labels(revision: Mapping[str, Any]) -> dict[str, str]:
    """The labels a Revision's pods carry: the template's (on the Revision) and Knative's."""
    meta = revision.get("metadata") or {}
    name = str(meta.get("name", ""))
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    return {**labels, "serving.knative.dev/revision": name, "app": name}


def decide(
    policies: list[Mapping[str, Any]],
    namespace_labels: Mapping[str, str],
    namespace: str,
    labels: Mapping[str, str],
) -> tuple[bool | None, str]:
    """(allowed, why) for Knative's data path into one revision's pods."""
    target = Endpoint(namespace, labels, namespace_labels)
    verdicts: list[Verdict] = [
        ingress_verdict(policies, target, peer, QUEUE_PORT) for peer in (INGRESS_GATEWAY, ACTIVATOR)
    ]
    gateway, activator = verdicts
    subject = f"pods of {namespace}/{labels.get('serving.knative.dev/revision', '?')}"
    if gateway.allowed is False and activator.allowed is False:
        return False, gateway.explain(subject, PEERS)
    if gateway.allowed is True and activator.allowed is True:
        return True, ""
    if gateway.allowed is None or activator.allowed is None:
        undecided = gateway if gateway.allowed is None else activator
        return None, undecided.explain(subject, PEERS)
    return None, (
        f"whether {PEERS} may reach {subject} cannot be decided locally: the policies admit "
        "one and not the other, so the cluster's answer depends on whether the activator is "
        "in the path"
    )


class NetworkPolicies:
    """Follows NetworkPolicy, Namespace and Revision objects; keeps the refused revisions."""

    def __init__(self) -> None:
        self.refusals: dict[Key, str] = {}
        self._policies: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._namespaces: dict[str, dict[str, str]] = {}
        self._revisions: dict[Key, dict[str, str]] = {}
        self._logged: set[tuple[Key, str]] = set()

    def apply(self, kind: str, obj: Mapping[str, Any], deleted: bool) -> None:
        """One watch event of a followed kind."""
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name", ""))
        if kind == "NetworkPolicy":
            policies = self._policies.setdefault(namespace, {})
            if deleted:
                policies.pop(name, None)
            else:
                policies[name] = obj
            self._recompute(namespace)
        elif kind == "Namespace":
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            self._namespaces[name] = {} if deleted else labels
            self._recompute(name)
        elif kind == "Revision":
            key = (namespace, name)
            if deleted:
                self._revisions.pop(key, None)
                self.refusals.pop(key, None)
            else:
                self._revisions[key] = pod_labels(obj)
                self._decide(key)

    def _recompute(self, namespace: str) -> None:
        for key in [k for k in self._revisions if k[0] == namespace]:
            self._decide(key)

    def _decide(self, key: Key) -> None:
        namespace = key[0]
        policies = list(self._policies.get(namespace, {}).values())
        if not policies:
            self.refusals.pop(key, None)
            return
        labels = self._revisions[key]
        allowed, why = decide(policies, self._namespaces.get(namespace, {}), namespace, labels)
        if allowed is False:
            self.refusals[key] = why
            return
        self.refusals.pop(key, None)
        if allowed is None and (key, why) not in self._logged:
            self._logged.add((key, why))
            logger.warning("%s (the request goes on)", why)
