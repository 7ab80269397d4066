"""Broker, Trigger, PingSource and SinkBinding status: addresses, sinks and conditions.

Conditions and reasons follow knative/eventing's *_lifecycle.go (reference §3.1–3.7).
The local data plane is always there, so the conditions that describe cluster
machinery (ingress, filter, channel, deployment) are True.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bulut.edge.identity import Identity, broker_audience, for_resource
from bulut.manifests.feed import Resource

from ..addresses import Addressing, destination_audience, resolve_destination
from ..conditions import mark, mark_ready_from, mirror
from ..patching import clone
from .ownership import Objects

BROKER_DEPENDENTS = (
    "Addressable",
    "DeadLetterSinkResolved",
    "EventPoliciesReady",
    "FilterReady",
    "IngressReady",
    "TriggerChannelReady",
)
TRIGGER_DEPENDENTS = (
    "BrokerReady",
    "DeadLetterSinkResolved",
    "DependencyReady",
    "OIDCIdentityCreated",
    "SubscriberResolved",
    "SubscriptionReady",
)
OIDC_DISABLED = "authentication-oidc feature disabled"


def _identity(status: dict[str, Any], resource: Resource, addressing: Addressing, now: str) -> None:
    """``status.auth.serviceAccountName`` and ``OIDCIdentityCreated`` (Knative's OIDC
    ServiceAccount per sender); without OIDC, no identity and the condition says why."""
    if not addressing.oidc:
        status.pop("auth", None)
        mark(status, "OIDCIdentityCreated", "True", OIDC_DISABLED, now=now)
        return
    meta = resource["metadata"]
    sender: Identity = for_resource(
        str(resource.get("kind", "")),
        str(resource.get("apiVersion", "")),
        str(meta["namespace"]),
        str(meta["name"]),
    )
    status["auth"] = {"serviceAccountName": sender.service_account}
    mark(status, "OIDCIdentityCreated", "True", now=now)


def _audience(
    status: dict[str, Any],
    field_name: str,
    destination: dict[str, Any],
    uri: str | None,
    addressing: Addressing,
    objects: Objects,
    namespace: str,
) -> None:
    """``<field>Audience``: the destination's own ``audience``, else its ref's or its
    address's (OIDC on)."""
    audience = destination_audience(destination, namespace, objects, uri, addressing)
    if audience:
        status[field_name] = audience
    else:
        status.pop(field_name, None)


def _start(resource: Resource) -> tuple[Resource, dict[str, Any]]:
    result = clone(resource)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    return result, status


def _finish(
    result: Resource, status: dict[str, Any], dependents: Sequence[str], now: str
) -> Resource:
    mark_ready_from(status, list(dependents), now=now)
    result["status"] = status
    return result


def dead_letter_status(
    status: dict[str, Any],
    delivery: dict[str, Any] | None,
    namespace: str,
    objects: Objects,
    now: str,
) -> None:
    sink = (delivery or {}).get("deadLetterSink")
    if not sink:
        status.pop("deadLetterSinkUri", None)
        message = "No dead letter sink is configured."
        mark(
            status,
            "DeadLetterSinkResolved",
            "True",
            "DeadLetterSinkNotConfigured",
            message,
            now=now,
        )
        return
    uri, why = resolve_destination(sink, namespace, objects)
    if uri is None:
        status.pop("deadLetterSinkUri", None)
        reason = "Unable to get the dead letter sink's URI"
        mark(status, "DeadLetterSinkResolved", "False", reason, why, now=now)
        return
    status["deadLetterSinkUri"] = uri
    mark(status, "DeadLetterSinkResolved", "True", now=now)


def reconcile_broker(broker: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """Address ``http://<host>:<port>/<ns>/<name>`` and the broker's conditions."""
    now = addressing.now()
    result, status = _start(broker)
    meta = result["metadata"]
    url = addressing.broker_url(meta["name"], meta["namespace"])
    status["address"] = {"name": "http", "url": url}
    if addressing.oidc:
        status["address"]["audience"] = broker_audience(meta["namespace"], meta["name"])
    for type_ in ("Addressable", "FilterReady", "IngressReady", "TriggerChannelReady"):
        mark(status, type_, "True", now=now)
    message = 'Default authz mode is "allow-same-namespace"'
    mark(status, "EventPoliciesReady", "True", "DefaultAuthorizationMode", message, now=now)
    delivery = (result.get("spec") or {}).get("delivery")
    dead_letter_status(status, delivery, meta["namespace"], objects, now)
    return _finish(result, status, BROKER_DEPENDENTS, now)


def reconcile_trigger(trigger: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """subscriberUri, deadLetterSinkUri (trigger's delivery, else the broker's), conditions."""
    now = addressing.now()
    result, status = _start(trigger)
    meta, spec = result["metadata"], result.get("spec") or {}
    namespace = meta["namespace"]
    broker_name = str(spec.get("broker") or (spec.get("brokerRef") or {}).get("name", ""))
    broker = objects.get(("Broker", broker_name))
    if broker is None:
        message = f'Broker "{broker_name}" does not exist'
        mark(status, "BrokerReady", "False", "BrokerDoesNotExist", message, now=now)
    else:
        mirror(status, "BrokerReady", broker, now=now)
    uri, why = resolve_destination(spec.get("subscriber") or {}, namespace, objects)
    if uri is None:
        status.pop("subscriberUri", None)
        mark(
            status,
            "SubscriberResolved",
            "False",
            "Unable to get the Subscriber's URI",
            why,
            now=now,
        )
    else:
        status["subscriberUri"] = uri
        mark(status, "SubscriberResolved", "True", now=now)
    _audience(
        status,
        "subscriberAudience",
        spec.get("subscriber") or {},
        uri,
        addressing,
        objects,
        namespace,
    )
    delivery = spec.get("delivery") or ((broker or {}).get("spec") or {}).get("delivery")
    dead_letter_status(status, delivery, namespace, objects, now)
    dead_letter = (delivery or {}).get("deadLetterSink") or {}
    _audience(
        status,
        "deadLetterSinkAudience",
        dead_letter,
        status.get("deadLetterSinkUri"),
        addressing,
        objects,
        namespace,
    )
    mark(status, "SubscriptionReady", "True", now=now)
    mark(status, "DependencyReady", "True", now=now)
    _identity(status, result, addressing, now)
    return _finish(result, status, TRIGGER_DEPENDENTS, now)


def _sink(
    status: dict[str, Any],
    spec: dict[str, Any],
    namespace: str,
    objects: Objects,
    now: str,
    addressing: Addressing,
) -> None:
    uri, why = resolve_destination(spec.get("sink") or {}, namespace, objects)
    _audience(status, "sinkAudience", spec.get("sink") or {}, uri, addressing, objects, namespace)
    if uri is None:
        status.pop("sinkUri", None)
        mark(status, "SinkProvided", "False", "NotFound", why, now=now)
    else:
        status["sinkUri"] = uri
        mark(status, "SinkProvided", "True", now=now)


def reconcile_pingsource(source: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """sinkUri and SinkProvided/Deployed/OIDCIdentityCreated."""
    now = addressing.now()
    result, status = _start(source)
    namespace = result["metadata"]["namespace"]
    _sink(status, result.get("spec") or {}, namespace, objects, now, addressing)
    mark(status, "Deployed", "True", now=now)
    _identity(status, result, addressing, now)
    return _finish(result, status, ("Deployed", "OIDCIdentityCreated", "SinkProvided"), now)


def reconcile_sinkbinding(binding: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """sinkUri, SinkProvided and BindingAvailable (the subject must exist locally); with OIDC
    the binding's identity and the sink's audience (its subject's workloads post with them)."""
    now = addressing.now()
    result, status = _start(binding)
    spec = result.get("spec") or {}
    _sink(status, spec, result["metadata"]["namespace"], objects, now, addressing)
    if addressing.oidc:
        _identity(status, result, addressing, now)
    else:
        status.pop("auth", None)
    subject = spec.get("subject") or {}
    if subject.get("apiVersion") == "serving.knative.dev/v1" and subject.get("name"):
        if (subject.get("kind"), subject.get("name")) in objects:
            mark(status, "BindingAvailable", "True", now=now)
        else:
            message = f'{subject.get("kind")} "{subject.get("name")}" not found'
            mark(status, "BindingAvailable", "False", "SubjectMissing", message, now=now)
    else:
        message = "only Knative Service and Revision subjects run locally"
        mark(status, "BindingAvailable", "True", "SubjectNotLocal", message, now=now)
    return _finish(result, status, ("BindingAvailable", "SinkProvided"), now)
