"""Delivering one logged event to one trigger's subscriber (the I/O side).

Binary mode with ``Prefer: reply`` and ``Kn-Namespace``; attempts per the effective
``DeliverySpec`` (retry, backoff, per-attempt timeout); each attempt takes a slot of
the subscriber's capacity only while it is on the wire, never while it waits to
retry. After the last failed attempt the original event goes to the dead-letter
sink with ``knativeerrordest``/``knativeerrorcode``/``knativeerrordata``. A reply
CloudEvent gets the original TTL back and re-enters the broker. What an answer
*means* is decided by :mod:`.replies`; the waits by :mod:`.delivery_spec`.

Every request names its sender (an :class:`~bulut.edge.identity.Identity`: the Trigger,
Subscription or source it is sent for). With an ``issuer`` (auth on: Knative's
``authentication-oidc``) a request to a target with an audience carries
``Authorization: Bearer`` with the sender's token for that audience; dead letters go with the
same sender's token for the dead-letter sink. Every sender (channels, sources, sinks) goes
through :meth:`Deliverer.send` or :meth:`Deliverer.deliver`, so none can forget it.

A channel's subscriber (:mod:`.channel`) is delivered to by the same machinery with a
:class:`ChannelReply`: its 2xx answers without a CloudEvent are successes, and its reply
goes to the subscription's reply destination (dropped without one) with the same retries;
a reply that cannot be delivered dead-letters the *original* event, naming the reply URL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bulut.edge.identity import Identity
from bulut.edge.issuer import PlatformIssuer
from bulut.events import CloudEvent, encode_binary, encode_header_value
from bulut.httpd import Client, Header, OriginError, OriginTimeout
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import (
    TraceContext,
    child_of,
    event_extension,
    from_event,
    span_attributes_from_event,
    to_headers,
)

from .dead_letter import error_extensions
from .delivery_spec import NO_RESPONSE, DeliverySpec
from .records import Outcome, StoredEvent
from .replies import Answer, Verdict, classify
from .sinks import Target
from .ttl import TTL_ATTRIBUTE

Reinject = Callable[[str, str, CloudEvent], Awaitable[int]]
"""(namespace, broker, event) -> the ingress's status code."""
Gate = Callable[[Target], asyncio.Semaphore]
Observer = Callable[[dict[str, Any]], None]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = 300.0
_REPLY_HEADERS_KEPT = ("x-request-id", "retry-after")
_PREFER_REPLY = (b"prefer", b"reply")
_REPLY_PREFIXES_KEPT = ("knative-", "x-b3-")


@dataclass(frozen=True, slots=True)
class ChannelReply:
    """Where a channel subscriber's reply goes (``None``: the reply is dropped)."""

    target: Target | None


def passthrough_headers(headers: Mapping[str, str]) -> list[Header]:
    """The headers a channel keeps from a sender or a reply: ``x-request-id``,
    ``retry-after`` and names starting ``knative-`` or ``x-b3-`` (lower-case names)."""
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers.items()
        if name in _REPLY_HEADERS_KEPT or name.startswith(_REPLY_PREFIXES_KEPT)
    ]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got back: status (0 = none), headers, body, Retry-After."""

    status: int
    headers: dict[str, str]
    body: bytes
    retry_after: float | None
    error: str = ""


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def structured_body(event: StoredEvent) -> bytes:
    """The event in structured JSON mode (``delivery.format: json``)."""
    document: dict[str, Any] = dict(event.attributes)
    content_type = str(document.get("datacontenttype", "application/json"))
    if event.body:
        if content_type.endswith("json"):
            try:
                document["data"] = json.loads(event.body)
            except ValueError:
                document["data_base64"] = base64.b64encode(event.body).decode()
        else:
            document["data_base64"] = base64.b64encode(event.body).decode()
    return json.dumps(document).encode()


class Deliverer:
    """Sends events to subscribers and dead-letter sinks through one HTTP client."""

    def __init__(
        self,
        client: Client,
        gate: Gate,
        reinject: Reinject,
        *,
        tracer: Tracer | None = None,
        metrics: PlatformMetrics | None = None,
        sleep: Sleep = asyncio.sleep,
        issuer: PlatformIssuer | None = None,
    ) -> None:
        self._client = client
        self.issuer = issuer
        self._gate = gate
        self._reinject = reinject
        self.tracer = tracer if tracer is not None else Tracer.disabled()
        self.metrics = metrics
        self.sleep = sleep  # how retries wait (a test's clock records the waits)

    def credentials(self, sender: Identity | None, target: Target) -> list[Header]:
        """``Authorization`` for ``sender`` to ``target`` (none without an issuer, a sender,
        or an audience: Knative sends no token to a sink that announces no audience)."""
        if self.issuer is None or sender is None or target.audience is None:
            return []
        issued = self.issuer.token(sender.subject, target.audience)
        return [(b"authorization", b"Bearer " + issued.token.encode())]

    async def send(
        self,
        target: Target,
        headers: list[Header],
        body: bytes,
        timeout: float | None,
        *,
        sender: Identity | None,
    ) -> Attempt:
        """One attempt as ``sender``, holding a capacity slot of the target while on the wire."""
        if self.issuer is not None:
            headers = [*headers, *self.credentials(sender, target)]
        gate = self._gate(target)
        await gate.acquire()  # no coroutine of its own when a slot is free
        try:
            pool = self._client.pool(target.connect_host, target.connect_port)
            response = await pool.request(
                b"POST",
                target.path,
                host=target.host_header,
                headers=headers,
                body=body,
                total=timeout or DEFAULT_TIMEOUT,
            )
        except OriginError as error:
            kind = "timeout" if isinstance(error, OriginTimeout) else "dispatch error"
            return Attempt(NO_RESPONSE, {}, b"", None, f"{kind}: {error}")
        finally:
            gate.release()
        fields = response.text_headers()
        return Attempt(response.status, fields, response.body, _retry_after(fields))

    def deliver(
        self,
        event: StoredEvent,
        trigger_key: str,
        target: Target,
        spec: DeliverySpec,
        dead_letter: Target | None,
        observe: Observer | None = None,
        *,
        sender: Identity,
        channel: ChannelReply | None = None,
    ) -> Awaitable[Outcome]:
        """Deliver as ``sender`` with retries; dead-letter on failure; forward a reply.
        The awaitable never raises.

        ``channel`` set: the delivery is a channel subscriber's (``event.broker`` is then
        the channel's name, ``trigger_key`` the subscription's ``<ns>/<name>``).
        """
        parent = event.trace or from_event(event.attributes)
        if not self.tracer.enabled:  # no span to record: only the hop's context
            return self._deliver(
                event, trigger_key, target, spec, dead_letter, observe, child_of(parent),
                sender, channel,
            )  # fmt: skip
        return self._traced(
            event, trigger_key, target, spec, dead_letter, observe, parent, sender, channel
        )

    async def _traced(
        self,
        event: StoredEvent,
        trigger_key: str,
        target: Target,
        spec: DeliverySpec,
        dead_letter: Target | None,
        observe: Observer | None,
        parent: TraceContext | None,
        sender: Identity,
        channel: ChannelReply | None,
    ) -> Outcome:
        """:meth:`deliver` inside the delivery's client span."""
        hop = "channel" if channel is not None else "broker"
        span = self.tracer.start_span(
            f"{'subscription' if channel is not None else 'trigger'}.delivery {trigger_key}",
            parent,
            kind="client",
        )
        if span.recording:  # a trace left out by the sampler needs no attributes
            span.attributes.update(
                {
                    "k8s.namespace.name": event.namespace,
                    f"kn.{hop}.name": event.broker,
                    f"kn.{'subscription' if channel is not None else 'trigger'}.name": (
                        trigger_key.partition("/")[2]
                    ),
                    **span_attributes_from_event(event.attributes),
                }
            )
        outcome = await self._deliver(
            event,
            trigger_key,
            target,
            spec,
            dead_letter,
            observe,
            span.context,
            sender,
            channel,
        )
        span.set_attribute("delivery.outcome", outcome.outcome)
        span.set_attribute("delivery.attempts", outcome.attempts)
        failed = outcome.outcome in ("dead-lettered", "failed")
        span.end(status_code=outcome.code, error=failed, message=outcome.detail)
        return outcome

    async def _deliver(
        self,
        event: StoredEvent,
        trigger_key: str,
        target: Target,
        spec: DeliverySpec,
        dead_letter: Target | None,
        observe: Observer | None,
        context: TraceContext,
        sender: Identity,
        channel: ChannelReply | None = None,
    ) -> Outcome:
        # the logged headers are the event's own (ce-*, content-type), never a hop's
        namespace = (b"kn-namespace", event.namespace.encode())
        if spec.structured:
            headers = [(b"content-type", b"application/cloudevents+json"), *to_headers(context)]
            body = structured_body(event)
            headers += [_PREFER_REPLY, namespace]
        else:
            headers = [*event.headers, *to_headers(context), _PREFER_REPLY, namespace]
            body = event.body
        history: list[dict[str, Any]] = []
        answer, last = await self._attempts(
            target,
            headers,
            body,
            spec,
            history,
            observe,
            event,
            trigger_key,
            sender,
            channel is not None,
        )
        if channel is not None and answer.verdict is Verdict.replied and answer.reply is not None:
            if channel.target is None:  # no reply destination: the reply is dropped
                return self._outcome(event, trigger_key, "delivered", target, answer.code, history)
            reply = answer.reply
            if from_event(reply.attributes) is None:  # the saga stays one trace
                reply = reply.with_attributes(**event_extension(context))
            fields, reply_body = encode_binary(reply)
            reply_headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in fields.items()]
            reply_headers += passthrough_headers(last.headers)
            reply_headers.append((b"kn-namespace", event.namespace.encode()))
            code = answer.code
            answer, last = await self._attempts(
                channel.target, reply_headers, reply_body, spec, history, observe, event,
                trigger_key, sender, True,
            )  # fmt: skip
            if answer.verdict is not Verdict.failed:
                return self._outcome(event, trigger_key, "replied", target, code, history)
            target = channel.target  # knativeerrordest names the reply's destination
        elif answer.verdict is Verdict.replied and answer.reply is not None:
            reply = answer.reply.with_attributes(**{TTL_ATTRIBUTE: event.ttl})
            if from_event(reply.attributes) is None:  # the saga stays one trace
                reply = reply.with_attributes(**event_extension(context))
            status = await self._reinject(event.namespace, event.broker, reply)
            if 200 <= status < 300:
                return self._outcome(event, trigger_key, "replied", target, answer.code, history)
            url = f"/{event.namespace}/{event.broker}"
            answer = Answer(
                Verdict.failed, status, message=f"reply refused by the broker ({status})"
            )
            last = Attempt(status, {}, b"", None, answer.message)
            target = Target(url, "", 0, "", url, broker=(event.namespace, event.broker))
        if answer.verdict is Verdict.delivered:
            return self._outcome(event, trigger_key, "delivered", target, answer.code, history)
        if dead_letter is None:
            return self._outcome(
                event, trigger_key, "failed", target, answer.code, history, answer.message
            )
        extensions = error_extensions(target.url, answer.code, last.body)
        dls_headers = list(event.headers) + [
            (f"ce-{name}".encode(), encode_header_value(value).encode())
            for name, value in extensions.items()
        ]
        dls_history: list[dict[str, Any]] = []
        dls_answer, _ = await self._attempts(
            dead_letter,
            dls_headers,
            event.body,
            spec,
            dls_history,
            None,
            event,
            trigger_key,
            sender,
            channel is not None,
        )
        history.extend({**h, "deadLetter": True} for h in dls_history)
        if dls_answer.verdict in (Verdict.delivered, Verdict.replied):
            return self._outcome(
                event, trigger_key, "dead-lettered", target, answer.code, history, answer.message
            )
        return self._outcome(
            event,
            trigger_key,
            "failed",
            target,
            answer.code,
            history,
            "dead-letter sink failed too",
        )

    async def _attempts(
        self,
        target: Target,
        headers: list[Header],
        body: bytes,
        spec: DeliverySpec,
        history: list[dict[str, Any]],
        observe: Observer | None,
        event: StoredEvent,
        trigger_key: str,
        sender: Identity,
        any_body: bool = False,
    ) -> tuple[Answer, Attempt]:
        answer = attempt = None
        metrics = self.metrics
        attempts = spec.attempts
        for index in range(attempts):
            started = time.perf_counter() if metrics is not None else 0.0
            attempt = await self.send(target, headers, body, spec.timeout, sender=sender)
            if metrics is not None:
                metrics.dispatch_finished(
                    event.namespace,
                    event.broker,
                    trigger_key.partition("/")[2],
                    attempt.status,
                    time.perf_counter() - started,
                )
            if attempt.status == NO_RESPONSE:
                answer = Answer(Verdict.retry, NO_RESPONSE, message=attempt.error)
            else:
                answer = classify(attempt.status, attempt.headers, attempt.body, any_body=any_body)
            record: dict[str, Any] = {
                "attempt": index + 1,
                "at": time.time(),
                "code": answer.code,
                "verdict": answer.verdict.value,
                "url": target.url,
            }
            if answer.message:
                record["message"] = answer.message
            history.append(record)
            if observe is not None:
                observe(
                    {
                        "kind": "attempt",
                        "seq": event.seq,
                        "id": event.id,
                        "trigger": trigger_key,
                        **record,
                    }
                )
            if answer.verdict is not Verdict.retry or index + 1 >= attempts:
                break
            await self.sleep(spec.wait_before_retry(index, attempt.retry_after))
        if answer is None or attempt is None:  # no attempt at all (a spec of zero attempts)
            return Answer(Verdict.failed, NO_RESPONSE), Attempt(NO_RESPONSE, {}, b"", None)
        if answer.verdict is Verdict.retry:
            answer = Answer(Verdict.failed, answer.code, message=answer.message)
        return answer, attempt

    @staticmethod
    def _outcome(
        event: StoredEvent,
        trigger_key: str,
        outcome: str,
        target: Target,
        code: int,
        history: list[dict[str, Any]],
        detail: str = "",
    ) -> Outcome:
        attempts = sum(1 for h in history if not h.get("deadLetter"))
        return Outcome(
            event.seq, trigger_key, outcome, attempts, code, target.url, detail, tuple(history)
        )
