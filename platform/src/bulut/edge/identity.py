"""Who the platform's own senders are and whom their tokens are for (pure).

Knative's ``authentication-oidc`` feature gives every sender (Trigger, Subscription, source,
SinkBinding) a ServiceAccount of its own, ``<name>-oidc-<group>-<kind>`` (lower case, at most
63 characters), and every addressable an audience in ``status.address.audience``
(``eventing.knative.dev/broker/<ns>/<name>`` for a Broker). A sender asks for a token for the
target's audience and sends it as ``Authorization: Bearer``; the receiver accepts only tokens
for its own audience. Locally the same names are used; a Knative Service, which has no
audience on a cluster, gets ``serving.knative.dev/service/<ns>/<name>`` because the local data
plane checks every request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_NAME = 63
BROKER_GROUP = "eventing.knative.dev"
SERVICE_GROUP = "serving.knative.dev"
MESSAGING_GROUP = "messaging.knative.dev"


def child_name(parent: str, suffix: str) -> str:
    """``parent + suffix`` within 63 characters; a longer one keeps a hash of the whole name."""
    name = parent + suffix
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    keep = MAX_NAME - len(suffix) - len(digest)
    if keep > 0:
        return parent[:keep] + digest + suffix
    return name[: MAX_NAME - len(digest)] + digest


@dataclass(frozen=True, slots=True)
class Identity:
    """A sender: the ServiceAccount Knative would create for one resource."""

    namespace: str
    group: str
    kind: str
    name: str

    @property
    def service_account(self) -> str:
        """``<name>-oidc-<group>-<kind>``, lower case (``status.auth.serviceAccountName``)."""
        return child_name(self.name, f"-oidc-{self.group}-{self.kind}").lower()

    @property
    def subject(self) -> str:
        """The token's ``sub``: ``system:serviceaccount:<ns>:<service account>``."""
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def trigger(namespace: str, name: str) -> Identity:
    """A Trigger's identity (broker deliveries and their dead letters)."""
    return Identity(namespace, BROKER_GROUP, "Trigger", name)


def subscription(namespace: str, name: str) -> Identity:
    """A Subscription's identity (a channel's deliveries to its subscriber and reply)."""
    return Identity(namespace, MESSAGING_GROUP, "Subscription", name)


def ping_source(namespace: str, name: str) -> Identity:
    """A PingSource's identity."""
    return Identity(namespace, "sources.knative.dev", "PingSource", name)


def api_server_source(namespace: str, name: str) -> Identity:
    """An ApiServerSource's identity."""
    return Identity(namespace, "sources.knative.dev", "ApiServerSource", name)


def sink_binding(namespace: str, name: str) -> Identity:
    """A SinkBinding's identity (its subject's workloads post with it)."""
    return Identity(namespace, "sources.knative.dev", "SinkBinding", name)


def for_resource(resource_kind: str, api_version: str, namespace: str, name: str) -> Identity:
    """The identity of any sender kind (``apiVersion`` ``group/version``)."""
    group = api_version.rpartition("/")[0]
    return Identity(namespace, group, resource_kind, name)


def broker_audience(namespace: str, name: str) -> str:
    """A Broker's audience, as Knative writes it in ``status.address.audience``."""
    return f"{BROKER_GROUP}/broker/{namespace}/{name}"


def channel_audience(kind: str, namespace: str, name: str) -> str:
    """A channel's audience (``messaging.knative.dev/inmemorychannel/<ns>/<name>``, or the
    kind's), as Knative writes it in the channel's ``status.address.audience``."""
    return f"{MESSAGING_GROUP}/{kind.lower()}/{namespace}/{name}"


def service_audience(namespace: str, name: str) -> str:
    """A Knative Service's audience on the local data plane."""
    return f"{SERVICE_GROUP}/service/{namespace}/{name}"


def receiver_audience(host: str, path: str, domain: str) -> str | None:
    """The audience of whatever answers ``host`` + ``path`` on the data plane, or None.

    ``<svc>.<ns>.<domain>`` (any port) is a Service; otherwise ``/<ns>/<broker>`` is a Broker.
    """
    bare = host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()
    suffix = "." + domain.lower()
    if bare.endswith(suffix):
        labels = bare[: -len(suffix)].split(".")
        return service_audience(labels[1], labels[0]) if len(labels) == 2 else None
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    return broker_audience(segments[0], segments[1]) if len(segments) == 2 else None
