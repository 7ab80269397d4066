"""The eventing data plane: ingress, durable log, dispatcher, channels, sources, admin API.

``Eventing`` consumes a ``ResourceFeed`` (Broker, Trigger, PingSource, ApiServerSource,
ContainerSource, InMemoryChannel, Service, Namespace, ConfigMap) and keeps the pieces in
step with it. ``ingress_app`` (:mod:`.front`) answers the data plane's ``/<ns>/<broker>``
and channel hosts: a native ``bulut.httpd`` handler (the gateway's fallback);
``admin_app`` is the ASGI app the control plane mounts at ``/eventing``.
``observe`` (a constructor parameter) sees every event, attempt and delivery record;
``issuer`` (auth on) gives every sender a token for its target's audience.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from bulut.edge.eventpolicy import Authorizer
from bulut.edge.identity import Identity
from bulut.edge.issuer import PlatformIssuer
from bulut.errors import BulutError
from bulut.events import CloudEvent, encode_binary
from bulut.httpd import Client
from bulut.manifests.feed import ResourceFeed
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.settings import Settings

from . import queries
from .admin import build_admin_app, describe_event
from .capacity import DEFAULT_CAPACITY, Capacity
from .channel import ChannelDef, ChannelDispatcher, parse_channel
from .channel_log import ChannelLog
from .delivery import Deliverer, Observer
from .dispatcher import Dispatcher
from .eventtypes import FEATURES, Create, EventTypeCatalog
from .front import EventingFront
from .hosts import HostRoutes
from .ingress import DEFAULT_MAX_EVENT_BYTES, Ingress
from .jobsink import HOST as JOBSINK_HOST, JobSinks
from .log import EventLog
from .policies import grants
from .records import Outcome, Retention
from .resources import key_of, parse_broker, parse_trigger
from .sinks import Target, resolve_sink
from .sources.apiserver import parse_apiserversource
from .sources.apiserver_runner import ApiServerSources
from .sources.container import ContainerSources, parse_containersource
from .sources.ping import parse_ping_source
from .sources.ping_runner import PingRunner
from .tail import Record, Tail

log = logging.getLogger(__name__)

KINDS = frozenset(
    {
        "Broker",
        "Trigger",
        "PingSource",
        "Service",
        "ApiServerSource",
        "ContainerSource",
        "Namespace",
        "JobSink",
        "InMemoryChannel",
        "KafkaChannel",
        "ConfigMap",
        "EventPolicy",
    }
)
CHANNEL_KINDS = ("InMemoryChannel", "KafkaChannel")


class Eventing:
    """Knative Eventing's data plane on one asyncio loop."""

    def __init__(
        self,
        settings: Settings,
        feed: ResourceFeed,
        *,
        state_dir: Path,
        sync_fanout: bool = False,
        retention: Retention | None = None,
        default_capacity: int = DEFAULT_CAPACITY,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        tracer: Tracer | None = None,
        metrics: PlatformMetrics | None = None,
        observe: Observer | None = None,
        issuer: PlatformIssuer | None = None,
        create: Create | None = None,
    ) -> None:
        """``create`` stores a new object (EventTypes auto-created when the feature is on)."""
        self.settings = settings
        self._observer = observe
        self.feed = feed
        self.log = EventLog(state_dir / "eventing" / "broker.db", retention)
        self.tail = Tail()
        self.capacity = Capacity(default_capacity)
        self.client = Client()  # keep-alive pools to subscribers and sinks
        self.deliverer = Deliverer(
            self.client,
            self.capacity.gate,
            self._reinject,
            tracer=tracer,
            metrics=metrics,
            issuer=issuer,
        )
        self.dispatcher = Dispatcher(self.log, self.deliverer, self.resolve, observe=self._observe)
        self.ingress = Ingress(
            self.log,
            self.dispatcher,
            sync_fanout=sync_fanout,
            max_event_bytes=max_event_bytes,
            limits=settings.request_limits,
            observe=self._observe,
            tracer=tracer,
        )
        self.eventtypes = EventTypeCatalog(create)
        # EventPolicies: the grants the data plane's edge checks senders against
        self.authorizer = Authorizer()
        self._brokers: dict[tuple[str, str], dict[str, Any]] = {}
        self._policies: dict[tuple[str, str], dict[str, Any]] = {}
        self.channel_log = ChannelLog(self.ingress)
        self.channels = ChannelDispatcher(
            self.deliverer,
            self.resolve,
            observe=self._observe,
            on_event=self._channel_event,
            durable=self.channel_log.accept,
        )
        self.front = EventingFront(self.ingress, self.channels)
        self.pings = PingRunner(self.send_to_sink)
        self.apiservers = ApiServerSources(feed, self.send_to_sink, api_server=settings.control_url)
        self.containers = ContainerSources(
            feed,
            functions_dir=settings.functions_dir,
            logs_dir=state_dir / "logs" / "containersources",
            issuer=issuer,
            tokens_dir=state_dir / "oidc" / "containersources",
        )
        self.jobsinks = JobSinks(
            feed, functions_dir=settings.functions_dir, state_dir=state_dir / "jobsink"
        )
        # The data plane's fallback: the job-sink host, else channels and the broker ingress.
        self.ingress_app = HostRoutes(self.front)
        self.ingress_app.add(f"{JOBSINK_HOST}.{settings.domain}", self.jobsinks)
        self.admin_app = build_admin_app(self)
        self._opened = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle
    async def open(self) -> None:
        """Open the log (``run`` does this; call it first to serve before the feed syncs)."""
        if not self._opened:
            self.log.open()
            self._opened = True

    async def run(self) -> None:
        """Open the log, prune it periodically, and follow the feed until cancelled."""
        await self.open()
        pruner = asyncio.create_task(self._prune_forever())
        try:
            async for change in self.feed.watch(KINDS):
                try:
                    self.apply(change["type"], change["object"])
                except (ValueError, TypeError, BulutError) as error:
                    log.warning("eventing: ignoring %s: %s", key_of(change["object"]), error)
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner

    async def aclose(self) -> None:
        """Stop sources and deliveries, commit what is queued, close connections."""
        await self.pings.aclose()
        await self.apiservers.aclose()
        await self.containers.aclose()
        await self.jobsinks.aclose()
        await self.channels.aclose()
        await self.channel_log.aclose()
        await self.eventtypes.aclose()
        await self.dispatcher.aclose()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._opened:
            await self.log.aclose()
            self._opened = False
        self.client.close()

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(self.log.retention.interval_seconds)
            removed = await self.log.prune()
            if removed:
                log.info("eventing: retention removed %d delivered events", removed)

    # -- resources
    def apply(self, change: str, obj: dict[str, Any]) -> None:
        """Apply one feed change (ADDED, MODIFIED, DELETED) to the data plane."""
        kind = obj.get("kind")
        key = key_of(obj)
        deleted = change == "DELETED"
        if kind == "Broker" or kind in CHANNEL_KINDS:
            self.eventtypes.remember(obj, deleted)
        if kind in ("Broker", "EventPolicy"):
            self._policy_inputs(kind, key, obj, deleted)
        if kind == "Broker":
            if deleted:
                self.dispatcher.remove_broker(key)
            else:
                self.dispatcher.set_broker(parse_broker(obj))
        elif kind == "Trigger":
            trigger = parse_trigger(obj)
            if deleted:
                self._spawn(self.dispatcher.remove_trigger(trigger.key))
            else:
                self.dispatcher.set_trigger(trigger)
        elif kind == "PingSource":
            if deleted:
                self.pings.remove(key)
            else:
                self.pings.apply(parse_ping_source(obj))
        elif kind in CHANNEL_KINDS:
            channel = parse_channel(obj)
            if deleted:
                self.channels.remove_channel(key)
            else:
                self.channels.set_channel(channel)
            if channel.durable and deleted:
                self.channel_log.remove_channel(channel)
            elif channel.durable:
                self.channel_log.set_channel(channel)
        elif kind == "Service":
            if deleted:
                self.capacity.remove_service(key)
            else:
                self.capacity.set_service(obj)
        elif kind == "ApiServerSource":
            if deleted:
                self.apiservers.remove(key)
            else:
                self.apiservers.apply(parse_apiserversource(obj))
        elif kind == "ContainerSource":
            if deleted:
                self.containers.remove(key)
            else:
                self.containers.apply(parse_containersource(obj))
        elif kind == "JobSink":
            if deleted:
                self.jobsinks.remove(key)
            else:
                self.jobsinks.apply(obj)
        elif kind == "Namespace":
            self.apiservers.set_namespace(obj, deleted=deleted)
        elif kind == "ConfigMap" and key == FEATURES:
            self.eventtypes.apply_features(obj, deleted)

    def _policy_inputs(
        self, kind: str, key: tuple[str, str], obj: dict[str, Any], deleted: bool
    ) -> None:
        """Recompile the EventPolicy grants the data plane's edge enforces."""
        known = self._brokers if kind == "Broker" else self._policies
        if deleted:
            known.pop(key, None)
        else:
            known[key] = obj
        self.authorizer.replace(grants(self._policies.values(), self._brokers.values()))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sinks
    def resolve(self, url: str) -> Target:
        """Where ``url`` goes (``*.<domain>`` via the data plane, Host header kept)."""
        s = self.settings
        return resolve_sink(url, host=s.host, data_port=s.data_port, domain=s.domain)

    async def _reinject(self, namespace: str, broker: str, event: CloudEvent) -> int:
        return await self.ingress.accept(namespace, broker, [event])

    async def send_to_sink(self, url: str, event: CloudEvent, sender: Identity) -> int:
        """Send one event once as ``sender`` (a source): into the log for a broker of this
        data plane (no hop, so no token), else binary over HTTP with the sender's token."""
        try:
            target = self.resolve(url)
        except ValueError:
            return 0
        if target.broker is not None:
            return await self.ingress.accept(target.broker[0], target.broker[1], [event])
        headers, body = encode_binary(event)
        raw = [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
        attempt = await self.deliverer.send(target, raw, body, None, sender=sender)
        return attempt.status

    def _channel_event(self, channel: ChannelDef, event: CloudEvent, _: object) -> None:
        """An event arrived at a channel: catalogue it unless a Broker owns the channel."""
        if self.eventtypes.enabled and channel.owner_kind != "Broker":
            self.eventtypes.received(
                channel.kind, channel.namespace, channel.name, event.attributes
            )

    # -- observation
    def _observe(self, record: Record) -> None:
        """Every event, attempt and delivery record: the live tail, then ``observe``."""
        if (
            self.eventtypes.enabled
            and record.get("kind") == "event"
            and "/" not in record["broker"]  # a durable channel's: catalogued on arrival
        ):
            self.eventtypes.received("Broker", record["namespace"], record["broker"], record)
        if self.tail.watched:
            self.tail.publish(record)
        if self._observer is not None:
            self._observer(record)

    async def describe(self, event_id: str) -> list[dict[str, Any]]:
        """The logged events with this id, with their outcomes (admin ``GET /events/{id}``)."""
        found = []
        for event in await queries.find_events_by_id(self.log, event_id):
            outcomes = queries.outcomes_of(self.log, event.seq)
            found.append(describe_event(event, outcomes, self.dispatcher.in_flight(event.seq)))
        return found

    async def redeliver(self, event_id: str, trigger: str | None = None) -> list[str]:
        """Deliver a logged event again to ``trigger``, or to every trigger it failed for."""
        events = await queries.find_events_by_id(self.log, event_id)
        if not events:
            return []
        event = events[0]
        if trigger is None:
            outcomes = queries.outcomes_of(self.log, event.seq)
            keys = [o["trigger"] for o in outcomes if o["outcome"] in ("dead-lettered", "failed")]
        else:
            keys = [trigger]
        started = []
        for key in keys:
            queue = self.dispatcher.queues.get(key)
            if queue is None or queue.trigger.subscriber_uri is None:
                continue
            self._spawn(self._redeliver_one(event, queue.trigger))
            started.append(key)
        return started

    async def _redeliver_one(self, event: Any, trigger: Any) -> None:
        outcome: Outcome = await self.dispatcher.deliver(event, trigger)
        self.log.record(outcome)
        self.dispatcher.notify_outcome(event, outcome)

    def stats(self) -> dict[str, Any]:
        """Counters for ``GET /eventing/stats``."""
        return {
            "accepted": self.ingress.accepted,
            "head": self.log.head,
            "commits": self.log.commits,
            "triggers": {
                key: {
                    "pending": len(q.pending) + len(q.backlog),
                    "inProgress": len(q.in_progress),
                    "cursor": q.persisted,
                    "recovering": q.recovering,
                }
                for key, q in self.dispatcher.queues.items()
            },
            "tailDropped": self.tail.dropped,
        }
