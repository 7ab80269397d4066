"""InMemoryChannel's dispatcher: Knative's channel fan-out, on the data plane.

Every Ready ``InMemoryChannel`` (the backing channel of a ``Channel``, of a Sequence's
steps and of a Parallel's branches) is served at its address's Host,
``<name>-kn-channel.<ns>.<domain>``, and at the path ``/<ns>/<name>`` where no broker
has that name. The answers are the IMC's (knative/eventing ``pkg/channel``):

| request | answer |
|---|---|
| ``OPTIONS`` | 200, ``WebHook-Allowed-Origin: *``, ``WebHook-Allowed-Rate: *`` |
| another method | 405, ``Allow: POST, OPTIONS`` |
| no Ready channel for the Host or path | **500** (not 404), as the IMC answers |
| not a CloudEvent (or a batch) | 400 naming the attribute |
| sync mode (default): a subscriber failed after retries and dead letter | 500 |
| otherwise, zero subscribers included | 202, empty body |

Each accepted event goes to every ``spec.subscribers[]`` entry **in parallel** through
eventing's delivery machinery (:class:`~.delivery.Deliverer`: retries, backoff, dead
letters, ``Prefer: reply``, ``Kn-Namespace``), so a failing subscriber never holds the
others; a reply goes to the entry's ``replyUri`` (dropped without one). The sender's
request is answered once every branch has finished, or at once when the channel is
annotated ``messaging.knative.dev/async-handler: "true"``. Like Knative's IMC, nothing is
persisted: an event in flight is lost when the process stops (the broker's log is the
durable path, docs/eventing.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from bulut.edge import identity
from bulut.edge.identity import Identity
from bulut.errors import BulutError, InvalidCloudEventError, problem_response
from bulut.events import CloudEvent, decode
from bulut.httpd import Header, Reply, Request
from bulut.observability.tracing import child_of, event_extension, from_event

from .delivery import ChannelReply, Deliverer, Observer, passthrough_headers
from .delivery_spec import DeliverySpec, parse_delivery
from .ingress import _text_headers, binary_headers
from .records import Outcome, StoredEvent
from .resources import Key, key_of
from .sinks import Target
from .tail import delivery_record

log = logging.getLogger(__name__)

ASYNC_ANNOTATION = "messaging.knative.dev/async-handler"
FANOUT_TIMEOUT = 15 * 60.0
_OK_OUTCOMES = frozenset({"delivered", "replied", "dead-lettered"})
_OPTIONS_HEADERS = [(b"webhook-allowed-origin", b"*"), (b"webhook-allowed-rate", b"*")]
_ALLOW_HEADERS = [(b"allow", b"POST, OPTIONS")]
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})  # Go's strconv.ParseBool

Resolve = Callable[[str], Target]
EventSeen = Callable[["ChannelDef", CloudEvent, "ChannelSubscriber | None"], None]
Durable = Callable[["ChannelDef", CloudEvent, Reply, str], None]
"""Takes a durable channel's event and answers its sender (:class:`.channel_log.ChannelLog`)."""
DURABLE_KINDS = frozenset({"KafkaChannel"})


class ChannelFailure(BulutError):
    """The IMC's 500: no channel answers here, or a subscriber failed (sync mode)."""

    http_status = 500
    title = "Channel dispatch failure"


@dataclass(frozen=True, slots=True)
class ChannelSubscriber:
    """One ``spec.subscribers[]`` entry, as the Subscription controller wrote it."""

    uid: str
    generation: int
    name: str
    subscriber_uri: str | None
    reply_uri: str | None
    delivery: Mapping[str, Any] = field(default_factory=dict)
    subscriber_audience: str | None = None
    reply_audience: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelDef:
    """An InMemoryChannel as the dispatcher needs it."""

    namespace: str
    name: str
    host: str
    ready: bool
    async_handler: bool
    subscribers: tuple[ChannelSubscriber, ...] = ()
    owner_kind: str = ""
    kind: str = "InMemoryChannel"
    audience: str | None = None  # status.address.audience (authentication-oidc on)

    @property
    def durable(self) -> bool:
        """Served from the durable log (a KafkaChannel) rather than fanned out in memory."""
        return self.kind in DURABLE_KINDS

    @property
    def key(self) -> Key:
        """(namespace, name)."""
        return self.namespace, self.name


def _ready(obj: Mapping[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def parse_channel(obj: Mapping[str, Any]) -> ChannelDef:
    """Read an InMemoryChannel object (pure)."""
    namespace, name = key_of(obj)
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    spec = obj.get("spec") or {}
    address = (obj.get("status") or {}).get("address") or {}
    url = address.get("url") or ""
    owners = meta.get("ownerReferences") or []
    subscribers = tuple(
        ChannelSubscriber(
            uid=str(entry.get("uid") or ""),
            generation=int(entry.get("generation") or 0),
            name=str(entry.get("name") or entry.get("uid") or ""),
            subscriber_uri=entry.get("subscriberUri") or None,
            reply_uri=entry.get("replyUri") or None,
            delivery=entry.get("delivery") or {},
            subscriber_audience=entry.get("subscriberAudience") or None,
            reply_audience=entry.get("replyAudience") or None,
        )
        for entry in spec.get("subscribers") or ()
        if isinstance(entry, Mapping)
    )
    return ChannelDef(
        namespace=namespace,
        name=name,
        host=(urlsplit(url).hostname or "").lower() if url else "",
        ready=_ready(obj),
        async_handler=str(annotations.get(ASYNC_ANNOTATION, "")) in _TRUE,
        subscribers=subscribers,
        owner_kind=str(owners[0].get("kind") or "") if owners else "",
        kind=str(obj.get("kind") or "InMemoryChannel"),
        audience=address.get("audience") or None,
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one subscriber is delivered to, for one version of its channel."""

    entry: ChannelSubscriber
    target: Target | None
    spec: DeliverySpec
    dead_letter: Target | None
    reply: ChannelReply
    sender: Identity


class ChannelDispatcher:
    """Every Ready InMemoryChannel of the data plane, and their fan-out."""

    def __init__(
        self,
        deliverer: Deliverer,
        resolve: Resolve,
        *,
        observe: Observer | None = None,
        on_event: EventSeen | None = None,
        durable: Durable | None = None,
        fanout_timeout: float = FANOUT_TIMEOUT,
    ) -> None:
        self.deliverer = deliverer
        self.resolve = resolve
        self.observe = observe
        self.on_event = on_event  # EventType auto-creation sees what channels receive
        self.durable = durable
        self.fanout_timeout = fanout_timeout
        self.channels: dict[Key, ChannelDef] = {}
        self._by_host: dict[str, Key] = {}
        self._plans: dict[Key, list[_Plan]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.accepted = 0

    # -- resources
    def set_channel(self, channel: ChannelDef) -> None:
        """Add or update a channel (only a Ready one answers, as on a cluster)."""
        self.remove_channel(channel.key)
        self.channels[channel.key] = channel
        if channel.host:
            self._by_host[channel.host] = channel.key

    def remove_channel(self, key: Key) -> None:
        """Forget a channel; its events in flight finish."""
        old = self.channels.pop(key, None)
        self._plans.pop(key, None)
        if old is not None and self._by_host.get(old.host) == key:
            del self._by_host[old.host]

    def for_host(self, host: str) -> ChannelDef | None:
        """The channel whose address has this Host (port ignored), if any."""
        name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        key = self._by_host.get(name)
        return self.channels.get(key) if key is not None else None

    def for_path(self, path: str) -> ChannelDef | None:
        """The channel a ``/<ns>/<name>`` path names, if any."""
        parts = path.strip("/").split("/")
        if len(parts) != 2:
            return None
        return self.channels.get((parts[0], parts[1]))

    def _plans_for(self, channel: ChannelDef) -> list[_Plan]:
        plans = self._plans.get(channel.key)
        if plans is None:
            plans = [self._plan(channel, entry) for entry in channel.subscribers]
            self._plans[channel.key] = plans
        return plans

    def _plan(self, channel: ChannelDef, entry: ChannelSubscriber) -> _Plan:
        try:
            spec = parse_delivery(entry.delivery)
        except ValueError as error:
            log.warning("channel %s/%s: %s", channel.namespace, entry.name, error)
            spec = DeliverySpec()
        target = self._resolve(entry.subscriber_uri, entry.subscriber_audience)
        reply = ChannelReply(self._resolve(entry.reply_uri, entry.reply_audience))
        dls_audience = (entry.delivery.get("deadLetterSink") or {}).get("audience")
        dead_letter = self._resolve(spec.dead_letter_sink_uri, dls_audience)
        sender = identity.subscription(channel.namespace, entry.name)
        return _Plan(entry, target, spec, dead_letter, reply, sender)

    def _resolve(self, url: str | None, audience: str | None = None) -> Target | None:
        """The target of ``url``; ``audience`` (the Subscription's resolved one) wins over
        what the URL's host suggests (a channel's host looks like a Service's)."""
        if not url:
            return None
        try:
            target = self.resolve(url)
        except ValueError:
            return None
        return replace(target, audience=audience) if audience else target

    # -- HTTP (native handler of bulut.httpd)
    def handle(self, channel: ChannelDef | None, request: Request, reply: Reply) -> None:
        """Answer one request to ``channel`` (None: no channel answers here)."""
        method = request.method
        if method != b"POST":
            if method == b"OPTIONS":
                reply.respond(200, _OPTIONS_HEADERS, b"")
            else:
                reply.respond(405, _ALLOW_HEADERS, b"")
            return
        path = request.path
        try:
            if channel is None or not channel.ready:
                raise ChannelFailure("no Ready channel answers this Host or path")
            event = self.decode(request.headers, request.body)
        except BulutError as error:
            reply.respond(*problem_response(error, instance=path))
            return
        if channel.durable and self.durable is not None:
            self.accepted += 1
            if self.on_event is not None:
                self.on_event(channel, event, None)
            self.durable(channel, event, reply, path)
            return
        kept = passthrough_headers(_text_headers(request.headers))
        task = asyncio.get_running_loop().create_task(
            self._answer(channel, event, kept, reply, path)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def decode(headers: list[tuple[bytes, bytes]], body: bytes) -> CloudEvent:
        """The one CloudEvent of a request; 400 naming the attribute otherwise."""
        decoded = decode(_text_headers(headers), body)
        if isinstance(decoded, list):
            raise InvalidCloudEventError("a channel takes one event, not a batch")
        return decoded

    async def _answer(
        self,
        channel: ChannelDef,
        event: CloudEvent,
        kept: list[Header],
        reply: Reply,
        path: str,
    ) -> None:
        if channel.async_handler:
            reply.respond(202, [], b"")
            await self.fanout(channel, event, kept)
            return
        try:
            await self.fanout(channel, event, kept)
        except ChannelFailure as error:
            reply.respond(*problem_response(error, instance=path))
            return
        reply.respond(202, [], b"")

    # -- fan-out
    async def fanout(
        self, channel: ChannelDef, event: CloudEvent, kept: list[Header] | None = None
    ) -> list[Outcome]:
        """Deliver ``event`` to every subscriber at once; raises :class:`ChannelFailure`
        when one of them failed (after its retries and dead letter) or time ran out."""
        self.accepted += 1
        if self.on_event is not None:
            self.on_event(channel, event, None)
        stored = self._stored(channel, event, kept or [])
        plans = self._plans_for(channel)
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(self._deliver(channel, stored, plan) for plan in plans)),
                self.fanout_timeout,
            )
        except TimeoutError:
            raise ChannelFailure("fan-out did not finish in time") from None
        failed = [o for o in outcomes if o.outcome not in _OK_OUTCOMES]
        if failed:
            names = ", ".join(o.trigger.partition("/")[2] for o in failed)
            raise ChannelFailure(f"{len(failed)} subscriber(s) failed: {names}")
        return outcomes

    @staticmethod
    def _stored(channel: ChannelDef, event: CloudEvent, kept: list[Header]) -> StoredEvent:
        attributes = dict(event.attributes)
        trace = from_event(attributes)
        if trace is None:  # the hops downstream join one trace
            trace = child_of(None)
            attributes.update(event_extension(trace))
        data = event.data
        return StoredEvent(
            0,
            channel.namespace,
            channel.name,
            event.id,
            event.source,
            event.type,
            0,
            attributes,
            [*binary_headers(attributes), *kept],
            b"" if data is None else data,
            time.time(),
            trace,
        )

    async def _deliver(self, channel: ChannelDef, event: StoredEvent, plan: _Plan) -> Outcome:
        key = f"{channel.namespace}/{plan.entry.name}"
        if plan.target is None:  # a reply-only entry: the event itself is the reply
            if plan.reply.target is None:
                return Outcome(0, key, "delivered", 0, 202, "")
            return await self.deliverer.deliver(
                event, key, plan.reply.target, plan.spec, plan.dead_letter, self.observe,
                sender=plan.sender, channel=ChannelReply(None),
            )  # fmt: skip
        try:
            outcome = await self.deliverer.deliver(
                event, key, plan.target, plan.spec, plan.dead_letter, self.observe,
                sender=plan.sender, channel=plan.reply,
            )  # fmt: skip
        except Exception as error:  # a bug must not leave the sender waiting
            log.exception("channel %s: delivery to %s crashed", channel.name, plan.entry.name)
            outcome = Outcome(0, key, "failed", 0, 0, plan.target.url, f"crashed: {error!r}")
        if self.observe is not None:
            self.observe(delivery_record(event, outcome))
        return outcome

    async def aclose(self) -> None:
        """Stop the fan-outs in flight (their events are lost, as an IMC's are)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
