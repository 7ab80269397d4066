"""KafkaChannel: a channel whose events are kept in the durable log (ADR 0017).

Knative's KafkaChannel answers a sender once Kafka holds the event and delivers it to each
subscriber at least once, from that subscriber's own offset. Locally the broker's event log
plays Kafka's part, with the broker's machinery:

- an event sent to the channel's address is written to the log under the channel's log name
  (``kafkachannel/<name>``: a name no Broker can have) and answered **202 once fsync'd**
  (400 not a CloudEvent, 500 no Ready channel or the log failed, as for an IMC);
- each ``spec.subscribers[]`` entry is a queue of the dispatcher (a
  :class:`~.resources.Trigger` with ``subscription`` set: no filter, the entry's delivery with
  its retries, backoff and dead-letter sink, its reply to ``replyUri``, the Subscription's
  identity), with its own cursor in the log;
- after a restart (``kill -9`` included) every subscriber resumes from its cursor: what was
  accepted and not delivered is delivered then. A new subscriber starts at the log's head.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bulut.errors import BulutError, problem_response
from bulut.events import CloudEvent
from bulut.httpd import Reply

from .channel import ChannelDef, ChannelSubscriber
from .ingress import Ingress
from .resources import Broker, Key, Trigger


def log_name(channel: ChannelDef) -> str:
    """The channel's name in the log: ``<kind>/<name>`` (lower case), never a Broker's."""
    return f"{channel.kind.lower()}/{channel.name}"


def subscriber_trigger(channel: ChannelDef, entry: ChannelSubscriber) -> Trigger:
    """One subscriber entry as a dispatcher queue (pure). A reply-only entry delivers the
    event itself to its ``replyUri``."""
    delivery = dict(entry.delivery)
    dead_letter = (delivery.get("deadLetterSink") or {}).get("uri")
    subscriber, reply = entry.subscriber_uri, entry.reply_uri
    audience, reply_audience = entry.subscriber_audience, entry.reply_audience
    if subscriber is None:
        subscriber, reply, audience, reply_audience = reply, None, reply_audience, None
    return Trigger(
        namespace=channel.namespace,
        name=entry.name,
        broker=log_name(channel),
        subscriber_uri=subscriber,
        delivery=delivery or None,
        dead_letter_sink_uri=dead_letter,
        version=json.dumps(
            [entry.generation, subscriber, reply, delivery, audience, reply_audience],
            sort_keys=True,
        ),
        reply_uri=reply,
        subscriber_audience=audience,
        reply_audience=reply_audience,
        dead_letter_audience=(delivery.get("deadLetterSink") or {}).get("audience"),
        subscription=True,
    )


class ChannelLog:
    """Every durable channel of the data plane: its log name and its subscribers' queues."""

    def __init__(self, ingress: Ingress) -> None:
        self.ingress = ingress
        self.dispatcher = ingress.dispatcher
        self._queues: dict[Key, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def set_channel(self, channel: ChannelDef) -> None:
        """Add or update a channel: its subscribers' queues follow ``spec.subscribers``."""
        name = log_name(channel)
        self.dispatcher.set_broker(Broker(channel.namespace, name))
        triggers = [subscriber_trigger(channel, entry) for entry in channel.subscribers]
        wanted = {trigger.key for trigger in triggers}
        for gone in self._queues.get(channel.key, set()) - wanted:  # unsubscribed: forgotten
            self._spawn(self.dispatcher.remove_trigger(gone))
        for trigger in triggers:
            self.dispatcher.set_trigger(trigger)
        self._queues[channel.key] = wanted

    def remove_channel(self, channel: ChannelDef) -> None:
        """A deleted channel: its queues and cursors go (its logged events age out)."""
        self.dispatcher.remove_broker((channel.namespace, log_name(channel)))
        for key in self._queues.pop(channel.key, set()):
            self._spawn(self.dispatcher.remove_trigger(key))

    def accept(self, channel: ChannelDef, event: CloudEvent, reply: Reply, path: str) -> None:
        """Log ``event`` for ``channel``; answer 202 once it is durable."""
        self._spawn(self._accept(channel, event, reply, path))

    async def _accept(
        self, channel: ChannelDef, event: CloudEvent, reply: Reply, path: str
    ) -> None:
        try:
            await self.ingress.ingest(channel.namespace, log_name(channel), [event], wait=False)
        except BulutError as error:
            reply.respond(*problem_response(error, instance=path))
            return
        reply.respond(202, [], b"")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Let the queue removals and pending answers finish."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
