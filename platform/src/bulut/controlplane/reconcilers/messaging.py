"""InMemoryChannel, Channel and Subscription: children, subscribers and status.

As knative/eventing's channel, inmemorychannel and subscription reconcilers (reference
knative-kinds §2-§3), level-based over one namespace:

- a ``Channel`` creates its backing channel of ``channelTemplate.kind`` under the same
  name (create-only, controlled by the Channel) and mirrors its address, subscribers,
  dead-letter sink and readiness;
- a ``Subscription`` resolves its subscriber, reply and dead-letter sink into
  ``status.physicalSubscription`` and is written into the backing channel's
  ``spec.subscribers`` (the Channel's own spec never gets subscribers) with its effective
  delivery; the channel's dispatcher marks it in ``status.subscribers``;
- an ``InMemoryChannel`` gets the address ``http://<name>-kn-channel.<ns>.<domain>``.

The local dispatcher is always there, so the conditions describing its Deployment,
Service and Endpoints are True.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bulut.apis.rules.messaging import KAFKA_DEFAULTS
from bulut.edge import identity
from bulut.edge.identity import channel_audience
from bulut.manifests.feed import Resource

from ..addresses import Addressing, destination_audience, resolve_destination
from ..conditions import find, mark, mark_ready_from
from ..patching import clone
from .eventing import OIDC_DISABLED, dead_letter_status
from .ownership import Objects, child_name, is_controlled_by, of_kind, owner_reference

IMC_API_VERSION = "messaging.knative.dev/v1"
IMC_KIND = "InMemoryChannel"
KAFKA_KIND = "KafkaChannel"
LOCAL_CHANNELS = {IMC_KIND: IMC_API_VERSION, KAFKA_KIND: "messaging.knative.dev/v1beta1"}
"""The channel kinds the local data plane serves (KafkaChannel from the durable log, ADR 0017)
and the apiVersion of each."""
CHANNEL_HOST_SUFFIX = "-kn-channel"
IMC_DEPENDENTS = (
    "Addressable",
    "ChannelServiceReady",
    "DeadLetterSinkResolved",
    "EndpointsReady",
    "EventPoliciesReady",
    "ServiceReady",
)
CHANNEL_DEPENDENTS = (
    "Addressable",
    "BackingChannelReady",
    "DeadLetterSinkResolved",
    "EventPoliciesReady",
)
SUBSCRIPTION_DEPENDENTS = (
    "AddedToChannel",
    "ChannelReady",
    "OIDCIdentityCreated",
    "ReferencesResolved",
)
OIDC_OFF_REASON = "OIDCDisabled"
OIDC_OFF_MESSAGE = 'Feature "authentication-oidc" must be enabled to support Authorization'
RETRY_FIELDS = ("retry", "backoffPolicy", "backoffDelay", "timeout", "retryAfterMax")


def start_status(resource: Resource) -> tuple[Resource, dict[str, Any]]:
    """A copy of ``resource`` and of its status, ``observedGeneration`` set."""
    result = clone(resource)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    return result, status


def mark_event_policies(status: dict[str, Any], now: str) -> None:
    """EventPoliciesReady while ``authentication-oidc`` is off (always, locally)."""
    mark(status, "EventPoliciesReady", "True", OIDC_OFF_REASON, OIDC_OFF_MESSAGE, now=now)


def channel_reference(channel: Mapping[str, Any]) -> dict[str, str]:
    """An ObjectReference/KReference to a channel: apiVersion, kind, name, namespace."""
    meta = channel["metadata"]
    return {
        "apiVersion": str(channel.get("apiVersion") or IMC_API_VERSION),
        "kind": str(channel.get("kind") or IMC_KIND),
        "name": str(meta["name"]),
        "namespace": str(meta.get("namespace") or "default"),
    }


def is_local_channel_template(template: Mapping[str, Any]) -> bool:
    """Whether the local data plane serves channels of this template (InMemoryChannel,
    KafkaChannel)."""
    kind = str(template.get("kind") or "")
    return kind in LOCAL_CHANNELS and template.get("apiVersion") == LOCAL_CHANNELS[kind]


def create_channel(
    objects: Objects,
    owner: Resource,
    name: str,
    template: Mapping[str, Any],
    addressing: Addressing,
    *,
    extra_spec: Mapping[str, Any] | None = None,
) -> Resource | None:
    """Create (never update) a controlled channel of ``template``; None when the name is
    someone else's or the template's kind is not served locally."""
    kind = str(template.get("kind") or IMC_KIND)
    current = objects.get((kind, name))
    if current is not None:
        return current if is_controlled_by(current, owner) else None
    if not is_local_channel_template(template):
        return None
    spec = clone(dict(template.get("spec") or {}))
    spec.update(clone(dict(extra_spec or {})))
    if kind == KAFKA_KIND:  # what the webhook defaults (the child is not admitted again)
        spec = {**KAFKA_DEFAULTS, **spec}
    channel: Resource = {
        "apiVersion": LOCAL_CHANNELS[kind],
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "uid": addressing.new_uid(),
            "generation": 1,
            "creationTimestamp": addressing.now(),
            "annotations": {"messaging.knative.dev/subscribable": "v1"},
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": spec,
    }
    objects[(kind, name)] = channel
    return channel


def channel_children(channel: Resource, objects: Objects, addressing: Addressing) -> None:
    """A Channel's backing channel: same name, spec = delivery + ``channelTemplate.spec``."""
    spec = channel.get("spec") or {}
    delivery = {"delivery": spec["delivery"]} if spec.get("delivery") else {}
    template = spec.get("channelTemplate") or {}
    create_channel(
        objects, channel, channel["metadata"]["name"], template, addressing, extra_spec=delivery
    )


def reconcile_imc(imc: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """Address, dead-letter sink and conditions of an InMemoryChannel."""
    now = addressing.now()
    result, status = start_status(imc)
    meta = result["metadata"]
    host = child_name(meta["name"], CHANNEL_HOST_SUFFIX)
    status["address"] = {"name": "http", "url": addressing.channel_url(host, meta["namespace"])}
    if addressing.oidc:  # authentication-oidc: senders need a token for this audience
        kind = str(result.get("kind") or IMC_KIND)
        status["address"]["audience"] = channel_audience(kind, meta["namespace"], meta["name"])
    for type_ in ("Addressable", "ChannelServiceReady", "EndpointsReady", "ServiceReady"):
        mark(status, type_, "True", now=now)
    mark(status, "DispatcherReady", "True", now=now)
    mark_event_policies(status, now)
    dead_letter_status(
        status, (result.get("spec") or {}).get("delivery"), meta["namespace"], objects, now
    )
    status["subscribers"] = [
        {
            "uid": entry.get("uid"),
            "observedGeneration": entry.get("generation"),
            "ready": "True",
        }
        for entry in (result.get("spec") or {}).get("subscribers") or ()
    ]
    if not status["subscribers"]:
        del status["subscribers"]
    mark_ready_from(status, list(IMC_DEPENDENTS), now=now)
    result["status"] = status
    return result


def reconcile_channel(channel: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """A Channel's status from its backing channel."""
    now = addressing.now()
    result, status = start_status(channel)
    meta = result["metadata"]
    template = (result.get("spec") or {}).get("channelTemplate") or {}
    backing = objects.get((str(template.get("kind") or IMC_KIND), meta["name"]))
    if backing is None or not is_controlled_by(backing, result):
        for key in ("address", "channel", "subscribers", "deadLetterSinkUri"):
            status.pop(key, None)
        if not is_local_channel_template(template):
            message = (
                f"the local data plane serves {' and '.join(LOCAL_CHANNELS)} channels only, "
                f"not {template.get('apiVersion')}/{template.get('kind')}"
            )
        else:
            message = (
                f'{template.get("kind")} "{meta["name"]}" exists and is not owned by this Channel'
            )
        mark(status, "BackingChannelReady", "False", "ChannelFailure", message, now=now)
        mark(
            status, "Addressable", "False", "EmptyHostname", "hostname is the empty string", now=now
        )
    else:
        backing_status = backing.get("status") or {}
        status["channel"] = channel_reference(backing)
        ready = find(backing_status, "Ready")
        if ready is None:
            mark(status, "BackingChannelReady", "Unknown", "BackingChannelNotConfigured", now=now)
        else:
            value = ready.get("status", "Unknown")
            mark(
                status,
                "BackingChannelReady",
                value if value in ("True", "False") else "Unknown",  # type: ignore[arg-type]
                ready.get("reason", ""),
                ready.get("message", ""),
                now=now,
            )
        address = backing_status.get("address")
        if address and address.get("url"):
            status["address"] = clone(address)
            mark(status, "Addressable", "True", now=now)
        else:
            status.pop("address", None)
            mark(
                status,
                "Addressable",
                "False",
                "EmptyHostname",
                "hostname is the empty string",
                now=now,
            )
        for key in ("subscribers", "deadLetterSinkUri"):
            if backing_status.get(key):
                status[key] = clone(backing_status[key])
            else:
                status.pop(key, None)
    if status.get("deadLetterSinkUri"):
        mark(status, "DeadLetterSinkResolved", "True", now=now)
    elif not ((result.get("spec") or {}).get("delivery") or {}).get("deadLetterSink"):
        message = "No dead letter sink is configured."
        mark(
            status,
            "DeadLetterSinkResolved",
            "True",
            "DeadLetterSinkNotConfigured",
            message,
            now=now,
        )
    else:
        message = "the backing channel has not resolved the dead letter sink"
        mark(
            status,
            "DeadLetterSinkResolved",
            "False",
            "Unable to get the dead letter sink's URI",
            message,
            now=now,
        )
    mark_event_policies(status, now)
    mark_ready_from(status, list(CHANNEL_DEPENDENTS), now=now)
    result["status"] = status
    return result


def backing_channel(
    subscription: Mapping[str, Any], objects: Objects
) -> tuple[Resource | None, str]:
    """The channel whose ``spec.subscribers`` a Subscription joins, or (None, why not)."""
    ref = (subscription.get("spec") or {}).get("channel") or {}
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    found = objects.get((kind, name))
    if found is None or str(found.get("apiVersion")) != str(ref.get("apiVersion")):
        return None, f'channel "{name}" ({ref.get("apiVersion")}, {kind}) not found'
    if kind in LOCAL_CHANNELS:
        return found, ""
    if kind == "Channel":
        status = found.get("status") or {}
        backing_ref = status.get("channel") or {}
        ready = find(status, "Ready") or {}
        backing = objects.get(
            (str(backing_ref.get("kind") or ""), str(backing_ref.get("name") or ""))
        )
        if ready.get("status") != "True" or backing is None:
            return None, "channel is not ready."
        return backing, ""
    return None, f"{kind} is not a channel the local data plane serves"


def effective_delivery(
    subscription: Mapping[str, Any], channel: Mapping[str, Any], dead_letter_uri: str | None
) -> dict[str, Any]:
    """The delivery written into the channel's entry (reference §3.2 step 4): the
    subscription's retry fields, or the channel's when the subscription has no delivery;
    the resolved dead-letter sink either way; ``format`` never."""
    own = (subscription.get("spec") or {}).get("delivery")
    source = own if own else (channel.get("spec") or {}).get("delivery") or {}
    delivery = {key: clone(source[key]) for key in RETRY_FIELDS if source.get(key) is not None}
    if dead_letter_uri:
        delivery["deadLetterSink"] = {"uri": dead_letter_uri}
    return delivery


def resolve_subscription(
    subscription: Resource, objects: Objects, addressing: Addressing
) -> tuple[Resource, Resource | None, dict[str, Any] | None]:
    """A Subscription with ReferencesResolved and physicalSubscription, its backing
    channel, and the entry to write into that channel (None when unresolved)."""
    now = addressing.now()
    result, status = start_status(subscription)
    meta, spec = result["metadata"], result.get("spec") or {}
    namespace = meta["namespace"]
    if addressing.oidc:
        sender = identity.subscription(namespace, meta["name"])
        status["auth"] = {"serviceAccountName": sender.service_account}
        mark(status, "OIDCIdentityCreated", "True", now=now)
    else:
        status.pop("auth", None)
        mark(status, "OIDCIdentityCreated", "True", OIDC_DISABLED, now=now)
    channel, why = backing_channel(result, objects)
    entry: dict[str, Any] | None = None
    if channel is None:
        mark(status, "ReferencesResolved", "Unknown", "ChannelReferenceFailed", why, now=now)
    else:
        physical: dict[str, Any] = {}
        failed: tuple[str, str] | None = None
        uri, why = resolve_destination(spec.get("subscriber") or {}, namespace, objects)
        if uri is None:
            failed = ("SubscriberResolveFailed", f"Failed to resolve spec.subscriber: {why}")
        else:
            physical["subscriberUri"] = uri
        if failed is None and spec.get("reply"):
            uri, why = resolve_destination(spec["reply"], namespace, objects)
            if uri is None:
                failed = ("ReplyResolveFailed", f"Failed to resolve spec.reply: {why}")
            else:
                physical["replyUri"] = uri
        own_dls = (spec.get("delivery") or {}).get("deadLetterSink")
        if failed is None and own_dls:
            uri, why = resolve_destination(own_dls, namespace, objects)
            if uri is None:
                failed = (
                    "DeadLetterSinkResolveFailed",
                    f"Failed to resolve spec.delivery.deadLetterSink: {why}",
                )
            else:
                physical["deadLetterSinkUri"] = uri
        elif failed is None and (channel.get("status") or {}).get("deadLetterSinkUri"):
            physical["deadLetterSinkUri"] = channel["status"]["deadLetterSinkUri"]
        if failed is not None:
            status.pop("physicalSubscription", None)
            mark(status, "ReferencesResolved", "False", failed[0], failed[1], now=now)
        else:
            _audiences(physical, spec, namespace, objects, addressing)
            status["physicalSubscription"] = physical
            mark(status, "ReferencesResolved", "True", now=now)
            entry = {
                "uid": meta["uid"],
                "generation": meta.get("generation", 1),
                "name": meta["name"],
                "subscriberUri": physical["subscriberUri"],
            }
            if physical.get("replyUri"):
                entry["replyUri"] = physical["replyUri"]
            for key in ("subscriberAudience", "replyAudience"):
                if physical.get(key):
                    entry[key] = physical[key]
            delivery = effective_delivery(result, channel, physical.get("deadLetterSinkUri"))
            if delivery.get("deadLetterSink") and physical.get("deadLetterSinkAudience"):
                delivery["deadLetterSink"]["audience"] = physical["deadLetterSinkAudience"]
            if delivery:
                entry["delivery"] = delivery
    result["status"] = status
    return result, channel, entry


def _audiences(
    physical: dict[str, Any],
    spec: Mapping[str, Any],
    namespace: str,
    objects: Objects,
    addressing: Addressing,
) -> None:
    """``subscriberAudience``, ``replyAudience`` and ``deadLetterSinkAudience`` of a
    physicalSubscription (OIDC on), as Knative resolves them with the URIs."""
    own_dls = (spec.get("delivery") or {}).get("deadLetterSink") or {}
    for field_name, destination, uri in (
        ("subscriberAudience", spec.get("subscriber") or {}, physical.get("subscriberUri")),
        ("replyAudience", spec.get("reply") or {}, physical.get("replyUri")),
        ("deadLetterSinkAudience", own_dls, physical.get("deadLetterSinkUri")),
    ):
        audience = (
            destination_audience(destination, namespace, objects, uri, addressing) if uri else None
        )
        if audience:
            physical[field_name] = audience


def set_subscribers(channel: Resource, entries: list[dict[str, Any]]) -> Resource:
    """The channel with exactly these subscribers (generation bumped when they changed)."""
    spec = channel.get("spec") or {}
    wanted = sorted(entries, key=lambda e: str(e.get("name")))
    if (spec.get("subscribers") or []) == wanted:
        return channel
    result = clone(channel)
    if wanted:
        result.setdefault("spec", {})["subscribers"] = wanted
    else:
        result.setdefault("spec", {}).pop("subscribers", None)
    result["metadata"]["generation"] = int(result["metadata"].get("generation", 1)) + 1
    return result


def finish_subscription(
    subscription: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """AddedToChannel and ChannelReady from the channel's ``status.subscribers``, then Ready."""
    now = addressing.now()
    result = clone(subscription)
    status: dict[str, Any] = result.setdefault("status", {})
    meta = result["metadata"]
    channel, _ = backing_channel(result, objects)
    resolved = (find(status, "ReferencesResolved") or {}).get("status") == "True"
    if channel is None or not resolved:
        mark(status, "AddedToChannel", "Unknown", now=now)
        mark(status, "ChannelReady", "Unknown", "SubscriptionNotMarkedReadyByChannel", now=now)
    else:
        mark(status, "AddedToChannel", "True", now=now)
        marked = [
            s
            for s in (channel.get("status") or {}).get("subscribers") or ()
            if s.get("uid") == meta["uid"]
            and s.get("observedGeneration") == meta.get("generation", 1)
        ]
        if marked and marked[0].get("ready") == "True":
            mark(status, "ChannelReady", "True", now=now)
        else:
            mark(status, "ChannelReady", "False", "SubscriptionNotMarkedReadyByChannel", now=now)
    mark_ready_from(status, list(SUBSCRIPTION_DEPENDENTS), now=now)
    return result


def reconcile_messaging(
    objects: Objects,
    addressing: Addressing,
    addresses: Callable[[Objects, Addressing], None] | None = None,
) -> None:
    """Channels, then subscriptions into their backing channels, then every status.

    ``addresses`` runs once every channel has its address and before subscriptions are
    resolved (the flows' addresses, which subscriptions may point at).
    """
    for channel in of_kind(objects, "Channel"):
        channel_children(channel, objects, addressing)
    for kind in LOCAL_CHANNELS:
        for imc in of_kind(objects, kind):
            objects[(kind, imc["metadata"]["name"])] = reconcile_imc(imc, objects, addressing)
    for channel in of_kind(objects, "Channel"):
        objects[("Channel", channel["metadata"]["name"])] = reconcile_channel(
            channel, objects, addressing
        )
    if addresses is not None:
        addresses(objects, addressing)
    entries: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for subscription in of_kind(objects, "Subscription"):
        resolved, backing, entry = resolve_subscription(subscription, objects, addressing)
        objects[("Subscription", subscription["metadata"]["name"])] = resolved
        if backing is not None and entry is not None:
            entries.setdefault((backing["kind"], backing["metadata"]["name"]), []).append(entry)
    for kind in LOCAL_CHANNELS:
        for imc in of_kind(objects, kind):
            name = imc["metadata"]["name"]
            updated = set_subscribers(imc, entries.get((kind, name), []))
            objects[(kind, name)] = reconcile_imc(updated, objects, addressing)
    for channel in of_kind(objects, "Channel"):
        objects[("Channel", channel["metadata"]["name"])] = reconcile_channel(
            channel, objects, addressing
        )
    for subscription in of_kind(objects, "Subscription"):
        name = subscription["metadata"]["name"]
        objects[("Subscription", name)] = finish_subscription(subscription, objects, addressing)
