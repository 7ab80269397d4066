"""Sequence and Parallel: the channels and subscriptions they are made of, and status.

As knative/eventing's sequence and parallel reconcilers (reference knative-kinds §4-§5).
Every child is controlled by its flow (deleting the flow deletes them); channels are
created once, subscriptions updated when their spec changes, and children no longer
wanted (fewer steps or branches) are deleted.

- Sequence ``S``: channel ``S-kn-sequence-<i>`` and Subscription ``S-kn-sequence-<i>``
  per step (channel i → step i, reply → channel i+1; the last step's → ``spec.reply``).
- Parallel ``P``: ingress channel ``P-kn-parallel``; per branch a channel
  ``P-kn-parallel-<i>``, a Subscription ``P-kn-parallel-filter-<i>`` on the ingress
  (→ the filter, reply → branch channel i; no filter: → branch channel i) and a
  Subscription ``P-kn-parallel-<i>`` on branch channel i (→ the subscriber, reply → the
  branch's reply, else ``spec.reply``).

Status: a Sequence reports not-ready as Unknown, a Parallel as False (Knative's own
difference); a Parallel counts a channel as ready once it has an address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import ConditionStatus, find, mark, mark_ready_from
from ..patching import clone
from .messaging import (
    IMC_KIND,
    LOCAL_CHANNELS,
    channel_reference,
    create_channel,
    mark_event_policies,
    start_status,
)
from .ownership import Objects, is_controlled_by, of_kind, upsert_child

FLOW_DEPENDENTS = ("Addressable", "ChannelsReady", "EventPoliciesReady", "SubscriptionsReady")
SUBSCRIPTION_API_VERSION = "messaging.knative.dev/v1"
Flow = Literal["Sequence", "Parallel"]


def sequence_channel_name(sequence: str, step: int) -> str:
    """``<sequence>-kn-sequence-<i>`` (channel and subscription of step i)."""
    return f"{sequence}-kn-sequence-{step}"


def parallel_channel_name(parallel: str, branch: int | None = None) -> str:
    """``<parallel>-kn-parallel`` (ingress) or ``<parallel>-kn-parallel-<i>`` (branch i)."""
    return f"{parallel}-kn-parallel" if branch is None else f"{parallel}-kn-parallel-{branch}"


def parallel_filter_name(parallel: str, branch: int) -> str:
    """``<parallel>-kn-parallel-filter-<i>``."""
    return f"{parallel}-kn-parallel-filter-{branch}"


def _kind(template: Mapping[str, Any]) -> str:
    """The kind of a flow's channels (its template's; InMemoryChannel when unset)."""
    return str(template.get("kind") or IMC_KIND)


def _channel_ref(template: Mapping[str, Any], name: str, namespace: str) -> dict[str, str]:
    return {
        "apiVersion": str(template.get("apiVersion") or ""),
        "kind": str(template.get("kind") or ""),
        "name": name,
        "namespace": namespace,
    }


def _destination(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A Destination without the step's ``delivery`` (a step is Destination + delivery)."""
    if not value:
        return None
    return {k: clone(v) for k, v in value.items() if k in ("ref", "uri", "CACerts", "audience")}


def _subscription_spec(
    channel: Mapping[str, str],
    subscriber: Mapping[str, Any] | None,
    reply: Mapping[str, Any] | None,
    delivery: Mapping[str, Any] | None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"channel": dict(channel), "subscriber": dict(subscriber or {})}
    if reply:
        spec["reply"] = dict(reply)
    if delivery:
        spec["delivery"] = clone(dict(delivery))
    return spec


def _subscription(
    objects: Objects, owner: Resource, name: str, spec: Mapping[str, Any], addressing: Addressing
) -> None:
    current = objects.get(("Subscription", name))
    if (
        current is not None
        and is_controlled_by(current, owner)
        and (current.get("spec") or {}).get("channel") != spec.get("channel")
    ):
        del objects[("Subscription", name)]  # the channel is immutable: recreate
    upsert_child(
        objects, owner, "Subscription", name,
        labels={}, annotations={}, spec=spec, addressing=addressing,
    )  # fmt: skip


def _prune(objects: Objects, owner: Resource, wanted: set[tuple[str, str]]) -> None:
    for key, obj in list(objects.items()):
        wanted_kind = key[0] in LOCAL_CHANNELS or key[0] == "Subscription"
        if wanted_kind and key not in wanted and is_controlled_by(obj, owner):
            del objects[key]


def sequence_children(sequence: Resource, objects: Objects, addressing: Addressing) -> None:
    """A Sequence's channel and subscription per step, replies chained to the next step."""
    meta, spec = sequence["metadata"], sequence.get("spec") or {}
    name, namespace = meta["name"], meta["namespace"]
    template = spec.get("channelTemplate") or {}
    steps = list(spec.get("steps") or ())
    wanted: set[tuple[str, str]] = set()
    for index, step in enumerate(steps):
        channel = sequence_channel_name(name, index)
        create_channel(objects, sequence, channel, template, addressing)
        if index + 1 < len(steps):
            next_ref = _channel_ref(template, sequence_channel_name(name, index + 1), namespace)
            reply: dict[str, Any] | None = {"ref": next_ref}
        else:
            reply = _destination(spec.get("reply"))
        sub_spec = _subscription_spec(
            _channel_ref(template, channel, namespace),
            _destination(step),
            reply,
            step.get("delivery"),
        )
        _subscription(objects, sequence, channel, sub_spec, addressing)
        wanted |= {(_kind(template), channel), ("Subscription", channel)}
    _prune(objects, sequence, wanted)


def parallel_children(parallel: Resource, objects: Objects, addressing: Addressing) -> None:
    """A Parallel's ingress channel, and per branch a channel and two subscriptions."""
    meta, spec = parallel["metadata"], parallel.get("spec") or {}
    name, namespace = meta["name"], meta["namespace"]
    template = spec.get("channelTemplate") or {}
    ingress = parallel_channel_name(name)
    create_channel(objects, parallel, ingress, template, addressing)
    wanted: set[tuple[str, str]] = {(_kind(template), ingress)}
    ingress_ref = _channel_ref(template, ingress, namespace)
    for index, branch in enumerate(spec.get("branches") or ()):
        channel = parallel_channel_name(name, index)
        create_channel(objects, parallel, channel, template, addressing)
        branch_ref = _channel_ref(template, channel, namespace)
        if branch.get("filter"):
            filter_spec = _subscription_spec(
                ingress_ref, _destination(branch["filter"]), {"ref": branch_ref}, None
            )
        else:
            filter_spec = _subscription_spec(ingress_ref, {"ref": branch_ref}, None, None)
        filter_name = parallel_filter_name(name, index)
        _subscription(objects, parallel, filter_name, filter_spec, addressing)
        reply = _destination(branch.get("reply")) or _destination(spec.get("reply"))
        subscriber_spec = _subscription_spec(
            branch_ref, _destination(branch.get("subscriber")), reply, branch.get("delivery")
        )
        _subscription(objects, parallel, channel, subscriber_spec, addressing)
        wanted |= {
            (_kind(template), channel),
            ("Subscription", filter_name),
            ("Subscription", channel),
        }
    _prune(objects, parallel, wanted)


def _ready_condition(obj: Mapping[str, Any] | None) -> dict[str, str]:
    ready = find((obj or {}).get("status") or {}, "Ready")
    return dict(ready) if ready else {"type": "Ready", "status": "Unknown"}


def _channel_status(
    objects: Objects, template: Mapping[str, Any], name: str, ns: str
) -> dict[str, Any]:
    channel = objects.get((_kind(template), name))
    reference = channel_reference(channel) if channel else _channel_ref(template, name, ns)
    return {"channel": reference, "ready": _ready_condition(channel)}


def _subscription_status(objects: Objects, name: str, ns: str) -> dict[str, Any]:
    subscription = objects.get(("Subscription", name))
    reference = {
        "apiVersion": SUBSCRIPTION_API_VERSION,
        "kind": "Subscription",
        "name": name,
        "namespace": ns,
    }
    if subscription is not None:
        reference["uid"] = str(subscription["metadata"].get("uid", ""))
    return {"subscription": reference, "ready": _ready_condition(subscription)}


def _address(objects: Objects, status: dict[str, Any], kind: str, channel: str) -> bool:
    address = ((objects.get((kind, channel)) or {}).get("status") or {}).get("address")
    if address and address.get("url"):
        status["address"] = clone(address)
        return True
    status.pop("address", None)
    return False


def _mark_flow(
    status: dict[str, Any],
    not_ready: ConditionStatus,
    channels_ok: bool,
    subscriptions_ok: bool,
    addressable: bool,
    now: str,
) -> None:
    if channels_ok:
        mark(status, "ChannelsReady", "True", now=now)
    else:
        mark(
            status,
            "ChannelsReady",
            not_ready,
            "ChannelsNotReady",
            "Channels are not ready yet, or there are none",
            now=now,
        )
    if subscriptions_ok:
        mark(status, "SubscriptionsReady", "True", now=now)
    else:
        mark(
            status,
            "SubscriptionsReady",
            not_ready,
            "SubscriptionsNotReady",
            "Subscriptions are not ready yet, or there are none",
            now=now,
        )
    if addressable:
        mark(status, "Addressable", "True", now=now)
    else:
        mark(status, "Addressable", not_ready, "emptyAddress", "address is nil", now=now)
    mark_event_policies(status, now)
    mark_ready_from(status, list(FLOW_DEPENDENTS), now=now)


def reconcile_sequence_status(
    sequence: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """address (channel 0's), channelStatuses, subscriptionStatuses and conditions."""
    now = addressing.now()
    result, status = start_status(sequence)
    meta, spec = result["metadata"], result.get("spec") or {}
    name, ns = meta["name"], meta["namespace"]
    template = spec.get("channelTemplate") or {}
    names = [sequence_channel_name(name, i) for i in range(len(spec.get("steps") or ()))]
    status["channelStatuses"] = [_channel_status(objects, template, n, ns) for n in names]
    status["subscriptionStatuses"] = [_subscription_status(objects, n, ns) for n in names]
    channels_ok = bool(names) and all(
        c["ready"].get("status") == "True" for c in status["channelStatuses"]
    )
    subs_ok = bool(names) and all(
        s["ready"].get("status") == "True" for s in status["subscriptionStatuses"]
    )
    addressable = bool(names) and _address(objects, status, _kind(template), names[0])
    _mark_flow(status, "Unknown", channels_ok, subs_ok, addressable, now)
    result["status"] = status
    return result


def reconcile_parallel_status(
    parallel: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """address (the ingress channel's), ingressChannelStatus, branchStatuses, conditions."""
    now = addressing.now()
    result, status = start_status(parallel)
    meta, spec = result["metadata"], result.get("spec") or {}
    name, ns = meta["name"], meta["namespace"]
    template = spec.get("channelTemplate") or {}
    ingress = parallel_channel_name(name)
    status["ingressChannelStatus"] = _channel_status(objects, template, ingress, ns)
    branches = []
    channels = [ingress]
    subscriptions: list[dict[str, Any]] = []
    for index in range(len(spec.get("branches") or ())):
        channel = parallel_channel_name(name, index)
        channels.append(channel)
        entry = {
            "filterSubscriptionStatus": _subscription_status(
                objects, parallel_filter_name(name, index), ns
            ),
            "filterChannelStatus": _channel_status(objects, template, channel, ns),
            "subscriberSubscriptionStatus": _subscription_status(objects, channel, ns),
        }
        subscriptions += [entry["filterSubscriptionStatus"], entry["subscriberSubscriptionStatus"]]
        branches.append(entry)
    status["branchStatuses"] = branches
    has_address = [
        bool(((objects.get((_kind(template), c)) or {}).get("status") or {}).get("address"))
        for c in channels
    ]
    channels_ok = all(has_address)
    subs_ok = bool(subscriptions) and all(s["ready"].get("status") == "True" for s in subscriptions)
    addressable = _address(objects, status, _kind(template), ingress)
    _mark_flow(status, "False", channels_ok, subs_ok, addressable, now)
    result["status"] = status
    return result


def flow_children(objects: Objects, addressing: Addressing) -> None:
    """Every Sequence's and Parallel's channels and subscriptions."""
    for sequence in of_kind(objects, "Sequence"):
        sequence_children(sequence, objects, addressing)
    for parallel in of_kind(objects, "Parallel"):
        parallel_children(parallel, objects, addressing)


def flow_status(objects: Objects, addressing: Addressing) -> None:
    """Every Sequence's and Parallel's status, from their children."""
    for sequence in of_kind(objects, "Sequence"):
        name = sequence["metadata"]["name"]
        objects[("Sequence", name)] = reconcile_sequence_status(sequence, objects, addressing)
    for parallel in of_kind(objects, "Parallel"):
        name = parallel["metadata"]["name"]
        objects[("Parallel", name)] = reconcile_parallel_status(parallel, objects, addressing)
