"""Fan-out: each trigger takes the events of its broker, filters them and delivers.

Every trigger has a :class:`TriggerQueue`: matching events wait in FIFO order and at
most ``max_in_progress`` deliveries run at once (each attempt also holds a slot of the
subscriber's capacity, see :mod:`.capacity`). Its low-water mark — every event at or
below it has an outcome or did not match — is written to the log as the trigger's
cursor. After a restart the queue first replays the events above its cursor that have
no outcome yet (recovery), then continues with live ones.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bulut.apis.rules.duck import effective_delivery
from bulut.edge import identity
from bulut.events.filters import EventFilter, compile_trigger_filter

from . import queries
from .delivery import ChannelReply, Deliverer, Observer
from .delivery_spec import DeliverySpec, parse_delivery
from .log import EventLog
from .records import Outcome, StoredEvent
from .resources import Broker, Trigger
from .sinks import Target
from .tail import delivery_record

log = logging.getLogger(__name__)

Resolve = Callable[[str], Target]
CURSOR_DELAY = 0.05
RECOVERY_BATCH = 2000
IDLE_WORKERS = 16  # delivery workers a trigger keeps parked for its next events


@dataclass(frozen=True, slots=True)
class _Plan:
    """How a trigger's deliveries go, for one version of the trigger and of its broker."""

    trigger: Trigger
    broker: Broker | None
    target: Target
    spec: DeliverySpec
    dead_letter: Target | None
    sender: identity.Identity
    reply: ChannelReply | None  # a durable channel's subscriber: where its reply goes


_Item = tuple[StoredEvent, "asyncio.Future[Outcome] | None"]
"""An event to deliver and the future of its outcome (sync fan-out only)."""


class TriggerQueue:
    """One trigger's pending deliveries, in-flight deliveries and cursor."""

    def __init__(
        self, dispatcher: Dispatcher, trigger: Trigger, live_from: int, fanout: Fanout
    ) -> None:
        self.dispatcher = dispatcher
        self.fanout = fanout
        self.trigger = trigger
        self.filter: EventFilter = compile_trigger_filter(
            trigger.filter_attributes, list(trigger.filters)
        )
        self.pending: deque[tuple[StoredEvent, asyncio.Future[Outcome] | None]] = deque()
        self.backlog: deque[StoredEvent] = deque()
        self.in_progress: dict[int, StoredEvent] = {}
        self.unfinished: list[int] = []
        self.finished: set[int] = set()
        self.seen = live_from
        self.persisted = live_from
        self.recovering = True
        self.closed = False
        self._cursor_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle: list[asyncio.Future[_Item]] = []  # parked workers, waiting for an event
        self._drained = asyncio.Event()
        self.recovery = asyncio.create_task(self._recover(live_from))

    @property
    def key(self) -> str:
        """``<namespace>/<name>``."""
        return self.trigger.key

    def update(self, trigger: Trigger) -> None:
        """A new version of the trigger: recompile its filter, resume if it got a subscriber."""
        if trigger.version != self.trigger.version:
            self.filter = compile_trigger_filter(trigger.filter_attributes, list(trigger.filters))
        self.trigger = trigger
        self._pump()

    def offer(self, event: StoredEvent, want: bool) -> asyncio.Future[Outcome] | None:
        """Consider a freshly logged event; returns a future of its outcome when ``want``.

        Its broker's :class:`Fanout` has counted it already (the cursor moves past an
        event that does not match without the queue doing anything).
        """
        if not self.filter.matches(event.attributes):
            return None
        future = asyncio.get_running_loop().create_future() if want else None
        heapq.heappush(self.unfinished, event.seq)
        self.pending.append((event, future))
        self._pump()
        return future

    def _pump(self) -> None:
        """Hand each waiting event to a parked worker, or start one, while there is room."""
        if self.trigger.subscriber_uri is None or self.closed:
            return
        limit = self.dispatcher.max_in_progress
        idle = self._idle
        while len(self.in_progress) < limit and (self.backlog or self.pending):
            item = self._next()
            while idle:
                parked = idle.pop()
                if not parked.done():
                    parked.set_result(item)
                    break
            else:
                task = asyncio.create_task(self._work(item))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if len(self.backlog) < RECOVERY_BATCH:
            self._drained.set()

    def _next(self) -> _Item:
        """Take the next event (the recovery backlog first) into ``in_progress``."""
        if self.backlog:
            event, future = self.backlog.popleft(), None
            if len(self.backlog) < RECOVERY_BATCH:
                self._drained.set()
        else:
            event, future = self.pending.popleft()
        self.in_progress[event.seq] = event
        return event, future

    async def _work(self, item: _Item) -> None:
        """A delivery worker: deliver an event, then the next waiting one; with none
        waiting, park (up to ``IDLE_WORKERS`` of them) until :meth:`_pump` hands it one.

        Workers deliver event after event (ADR 0028) instead of a task per delivery; at
        most ``max_in_progress`` deliveries run at once, as before.
        """
        dispatcher = self.dispatcher
        while True:
            event, future = item
            try:
                outcome = await dispatcher.deliver(event, self.trigger)
            except Exception as error:  # a bug must not wedge the queue; keep the event visible
                log.exception("trigger %s: delivery of event %d crashed", self.key, event.seq)
                url = self.trigger.subscriber_uri or ""
                outcome = Outcome(event.seq, self.key, "failed", 0, 0, url, f"crashed: {error!r}")
            dispatcher.log.record(outcome)
            dispatcher.notify_outcome(event, outcome)
            if future is not None and not future.done():
                future.set_result(outcome)
            del self.in_progress[event.seq]
            self.finished.add(event.seq)
            self._schedule_cursor()
            if self.closed or self.trigger.subscriber_uri is None:
                break
            if (self.backlog or self.pending) and (
                len(self.in_progress) < dispatcher.max_in_progress
            ):
                item = self._next()
                continue
            if len(self._idle) >= IDLE_WORKERS:
                break
            parked: asyncio.Future[_Item] = asyncio.get_running_loop().create_future()
            self._idle.append(parked)
            item = await parked  # aclose cancels it

    def watermark(self) -> int:
        """Every event at or below this sequence number is done for this trigger."""
        heap, finished = self.unfinished, self.finished
        while heap and heap[0] in finished:
            finished.discard(heapq.heappop(heap))
        return heap[0] - 1 if heap else max(self.seen, self.fanout.offered)

    def _schedule_cursor(self) -> None:
        if self._cursor_scheduled or self.recovering or self.closed:
            return
        self._cursor_scheduled = True
        asyncio.get_running_loop().call_later(CURSOR_DELAY, self.write_cursor)

    def write_cursor(self) -> None:
        """Write the low-water mark to the log if it moved (not while recovering)."""
        self._cursor_scheduled = False
        if self.closed or self.recovering:
            return
        mark = self.watermark()
        if mark > self.persisted:
            self.persisted = mark
            t = self.trigger
            self.dispatcher.log.set_cursor(t.key, t.namespace, t.broker, mark)

    async def _recover(self, live_from: int) -> None:
        t = self.trigger
        log_ = self.dispatcher.log
        cursor = queries.cursor_of(log_, t.key)
        if cursor is None:
            log_.set_cursor(t.key, t.namespace, t.broker, live_from)
        else:
            self.persisted = cursor
            after = cursor
            while after < live_from and not self.closed:
                batch = queries.undelivered(
                    log_, t.key, t.namespace, t.broker, after, live_from, RECOVERY_BATCH
                )
                if not batch:
                    break
                for event in batch:
                    if self.filter.matches(event.attributes):
                        heapq.heappush(self.unfinished, event.seq)
                        self.backlog.append(event)
                after = batch[-1].seq
                self._drained.clear()
                self._pump()
                await self._drained.wait()
            if cursor < live_from:
                log.info("trigger %s: recovering events %d..%d", t.key, cursor + 1, live_from)
        self.recovering = False
        self._schedule_cursor()

    async def aclose(self, forget: bool = False) -> None:
        """Stop: cancel running deliveries (they stay undelivered in the log)."""
        self.closed = True
        self.recovery.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(self.recovery, *self._tasks, return_exceptions=True)
        for _, future in self.pending:
            if future is not None and not future.done():
                future.cancel()
        if forget:
            self.dispatcher.log.drop_cursor(self.key)


class Fanout:
    """One broker's trigger queues, indexed by the exact ``type`` their filters demand.

    An event is offered only to the queues whose filter could match it (those demanding
    its type, and those demanding none): the others cannot match, and their cursors move
    past it through ``offered``, the highest sequence number offered to the broker, with
    one timer for all of them (ADR 0028). Ten triggers on distinct types cost one dict
    lookup and one filter per event, not ten filters.
    """

    __slots__ = ("_cursor_scheduled", "by_type", "every", "offered")

    def __init__(self) -> None:
        self.by_type: dict[str, list[TriggerQueue]] = {}
        self.every: list[TriggerQueue] = []
        self.offered = 0
        self._cursor_scheduled = False

    def add(self, queue: TriggerQueue) -> None:
        """Index ``queue`` by its filter's required type."""
        wanted = queue.filter.required_type
        if wanted is None:
            self.every.append(queue)
        else:
            self.by_type.setdefault(wanted, []).append(queue)

    def remove(self, queue: TriggerQueue) -> None:
        """Forget ``queue`` (wherever it was indexed)."""
        if queue in self.every:
            self.every.remove(queue)
        for wanted, queues in list(self.by_type.items()):
            if queue in queues:
                queues.remove(queue)
                if not queues:
                    del self.by_type[wanted]

    def queues(self) -> list[TriggerQueue]:
        """Every queue of the broker."""
        return [*self.every, *(q for queues in self.by_type.values() for q in queues)]

    def offer(self, event: StoredEvent, want: bool, futures: list[asyncio.Future[Outcome]]) -> None:
        """Offer ``event`` to the queues whose filter could match it."""
        if event.seq > self.offered:
            self.offered = event.seq
        if not self._cursor_scheduled:
            self._cursor_scheduled = True
            asyncio.get_running_loop().call_later(CURSOR_DELAY, self._write_cursors)
        for queue in self.every:
            future = queue.offer(event, want)
            if future is not None:
                futures.append(future)
        typed = self.by_type.get(event.type)
        if typed is not None:
            for queue in typed:
                future = queue.offer(event, want)
                if future is not None:
                    futures.append(future)

    def _write_cursors(self) -> None:
        self._cursor_scheduled = False
        for queue in self.queues():
            queue.write_cursor()


class Dispatcher:
    """All trigger queues, indexed by broker; delivery settings come from both resources."""

    def __init__(
        self,
        log: EventLog,
        deliverer: Deliverer,
        resolve: Resolve,
        *,
        observe: Observer | None = None,
        max_in_progress: int = 1024,
    ) -> None:
        self.log = log
        self.deliverer = deliverer
        self.resolve = resolve
        self.observe = observe
        self.max_in_progress = max_in_progress
        self.brokers: dict[tuple[str, str], Broker] = {}
        self.queues: dict[str, TriggerQueue] = {}
        self._fanouts: dict[tuple[str, str], Fanout] = {}
        self._plans: dict[str, _Plan] = {}

    # -- resources
    def set_broker(self, broker: Broker) -> None:
        """Add or update a broker."""
        self.brokers[(broker.namespace, broker.name)] = broker

    def remove_broker(self, key: tuple[str, str]) -> None:
        """Forget a broker (its triggers stay until they are deleted, as in Knative)."""
        self.brokers.pop(key, None)

    def set_trigger(self, trigger: Trigger) -> None:
        """Add a trigger (it starts at the log's head, or at its stored cursor) or update it."""
        queue = self.queues.get(trigger.key)
        if queue is not None and queue.trigger.broker == trigger.broker:
            queue.fanout.remove(queue)
            queue.update(trigger)  # its filter may demand another type now
            queue.fanout.add(queue)
            return
        if queue is not None:
            self._detach(queue)
            asyncio.get_running_loop().create_task(queue.aclose(forget=True))
        fanout = self._fanouts.get((trigger.namespace, trigger.broker))
        if fanout is None:
            fanout = self._fanouts[(trigger.namespace, trigger.broker)] = Fanout()
        queue = TriggerQueue(self, trigger, self.log.head, fanout)
        self.queues[trigger.key] = queue
        fanout.add(queue)

    async def remove_trigger(self, key: str) -> None:
        """Delete a trigger and its cursor."""
        queue = self.queues.pop(key, None)
        if queue is not None:
            self._detach(queue)
            await queue.aclose(forget=True)

    def _detach(self, queue: TriggerQueue) -> None:
        self._plans.pop(queue.key, None)
        queue.fanout.remove(queue)

    # -- events
    def offer(
        self, events: Sequence[StoredEvent], want: bool = False
    ) -> list[asyncio.Future[Outcome]]:
        """Hand freshly logged events to their broker's triggers."""
        futures: list[asyncio.Future[Outcome]] = []
        fanouts = self._fanouts
        for event in events:
            fanout = fanouts.get((event.namespace, event.broker))
            if fanout is not None:
                fanout.offer(event, want, futures)
        return futures

    def spec_for(self, trigger: Trigger) -> tuple[DeliverySpec, Target | None]:
        """The effective delivery spec and dead-letter target of a trigger."""
        broker = self.brokers.get((trigger.namespace, trigger.broker))
        broker_delivery: Mapping[str, Any] | None = broker.delivery if broker else None
        if trigger.delivery:  # the trigger's delivery replaces the broker's whole
            dls = trigger.dead_letter_sink_uri if trigger.delivery.get("deadLetterSink") else None
        else:  # status.deadLetterSinkUri shows the broker's sink when the trigger has none
            dls = trigger.dead_letter_sink_uri or (broker.dead_letter_sink_uri if broker else None)
        delivery = effective_delivery(trigger.delivery, broker_delivery)
        try:
            spec = parse_delivery(delivery, dls)
        except ValueError as error:
            log.warning("trigger %s: %s; delivering without retries", trigger.key, error)
            spec = DeliverySpec(dead_letter_sink_uri=dls)
        dead_letter = self.resolve(spec.dead_letter_sink_uri) if spec.dead_letter_sink_uri else None
        if dead_letter is not None and trigger.dead_letter_audience:
            dead_letter = replace(dead_letter, audience=trigger.dead_letter_audience)
        return spec, dead_letter

    def plan_for(self, trigger: Trigger) -> _Plan:
        """Subscriber target, spec and dead-letter target, kept until either resource changes."""
        broker = self.brokers.get((trigger.namespace, trigger.broker))
        plan = self._plans.get(trigger.key)
        if plan is None or plan.trigger is not trigger or plan.broker is not broker:
            assert trigger.subscriber_uri is not None
            target = self.resolve(trigger.subscriber_uri)
            if trigger.subscriber_audience:  # spec.subscriber.audience (Destination.audience)
                target = replace(target, audience=trigger.subscriber_audience)
            spec, dead_letter = self.spec_for(trigger)
            if trigger.subscription:
                sender = identity.subscription(trigger.namespace, trigger.name)
                reply_to = self.resolve(trigger.reply_uri) if trigger.reply_uri else None
                if reply_to is not None and trigger.reply_audience:
                    reply_to = replace(reply_to, audience=trigger.reply_audience)
                reply: ChannelReply | None = ChannelReply(reply_to)
            else:
                sender, reply = identity.trigger(trigger.namespace, trigger.name), None
            plan = _Plan(trigger, broker, target, spec, dead_letter, sender, reply)
            self._plans[trigger.key] = plan
        return plan

    def deliver(self, event: StoredEvent, trigger: Trigger) -> Awaitable[Outcome]:
        """Deliver one event to one trigger's subscriber, per its effective spec (the
        deliverer's awaitable itself: no coroutine of its own per delivery)."""
        plan = self.plan_for(trigger)
        return self.deliverer.deliver(
            event,
            trigger.key,
            plan.target,
            plan.spec,
            plan.dead_letter,
            self.observe,
            sender=plan.sender,
            channel=plan.reply,
        )

    def notify_outcome(self, event: StoredEvent, outcome: Outcome) -> None:
        """Tell the live tail how a delivery ended."""
        if self.observe is not None:
            self.observe(delivery_record(event, outcome))

    def in_flight(self, seq: int) -> list[str]:
        """Triggers currently delivering (or about to deliver) the event ``seq``."""
        return [key for key, queue in self.queues.items() if seq in queue.in_progress]

    async def aclose(self) -> None:
        """Stop every trigger queue; what was not delivered stays in the log."""
        queues = list(self.queues.values())
        self.queues.clear()
        self._fanouts.clear()
        await asyncio.gather(*(queue.aclose() for queue in queues))
