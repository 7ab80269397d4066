"""Benchmark: what tracing, metrics and edge auth add to a warm request, in the same run.

An ASGI app that answers 200 at once is called in-process ``--number`` times per round with
the same request (a binary CloudEvent with a ``traceparent``), bare and behind each layer:

- ``metrics``: ``PlatformMetrics.request_finished`` per request (what the router records);
- ``tracing``: the router's span work (parse ``traceparent``, start a server span with the
  CloudEvent attributes, rewrite the hop headers, end it) plus the metric;
- ``tracing-out``: the same for a request whose trace is not recorded (``traceparent`` flag
  ``00``: what every hop of a trace past the trace budget, ADR 0018, pays);
- ``auth``: ``EdgeMiddleware`` with a policy that requires a token and a valid RS256 JWT
  (signature, ``iss``, ``aud``, ``exp`` checked on every request, key from a JWKS file);
- ``auth+rate``: the same plus a per-subject token-bucket rate limit;
- ``all``: auth, rate limit, tracing and metrics together.

Each figure is the best of ``--repeat`` rounds (variants take turns, so a busy moment hurts
all of them) and is printed as µs per request and as a ratio to the bare app. Span flushing
happens off the request path (a background task writes batches to SQLite); its CPU per span
is measured separately, on an empty store and on one at its bound (``max_spans``), where every
span written is later forgotten, as in a platform that has run a while. Run:
``.venv/bin/python bench/bench_edge_tracing.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bulut.edge import AccessPolicy, EdgeMiddleware, JWKSource, RateLimiter, Rule, TokenVerifier
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.spans import FinishedSpan, SpanStore
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import from_raw_headers, span_attributes_from_headers, to_headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
ISSUER, AUDIENCE = "https://issuer.bench", "bulut"
HEADERS = [
    (b"host", b"orders.shop.localhost:8080"),
    (b"content-type", b"application/json"),
    (b"ce-specversion", b"1.0"),
    (b"ce-id", b"8c6b2d1e-4a5f-4e7b-9d10-2f4e6a8b0c12"),
    (b"ce-source", b"/apis/v1/namespaces/shop/orders"),
    (b"ce-type", b"dev.bulut.order.created"),
    (b"ce-subject", b"ord-1029"),
    (b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
]
BODY = b'{"order":{"id":"ord-1029","total":129.5}}'


async def ok_app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """The function stand-in: read the body, answer 200."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def traced(app: ASGIApp, tracer: Tracer, metrics: PlatformMetrics) -> ASGIApp:
    """The router's per-request observability work (docs/observability.md, "hook points")."""

    async def call(
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        headers = scope["headers"]
        span = tracer.start_span(
            "router orders-00001",
            from_raw_headers(headers),
            {
                "k8s.namespace.name": "shop",
                "kn.service.name": "orders",
                "kn.revision.name": "orders-00001",
                **span_attributes_from_headers(headers),
            },
            kind="server",
        )
        forwarded = [(n, v) for n, v in headers if n not in (b"traceparent", b"tracestate")]
        forwarded.extend(to_headers(span.context))
        started, status = time.perf_counter(), 0

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app({**scope, "headers": forwarded}, receive, capture)
        finally:
            span.end(status_code=status)
            seconds = time.perf_counter() - started
            metrics.request_finished("shop", "orders", "orders-00001", status, seconds)

    return call


def metered(app: ASGIApp, metrics: PlatformMetrics) -> ASGIApp:
    """Only the request metric."""

    async def call(
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        started = time.perf_counter()
        await app(scope, receive, send)
        metrics.request_finished(
            "shop", "orders", "orders-00001", 200, time.perf_counter() - started
        )

    return call


@dataclass
class Setup:
    """The variants and what they need."""

    variants: dict[str, ASGIApp]
    headers: dict[str, list[tuple[bytes, bytes]]]
    tracer: Tracer


async def build(folder: Path) -> Setup:
    """Keys, a JWKS file, a token, and every variant of the app."""
    key = rsa.generate_private_key(65537, 2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256"}]}))
    now = time.time()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 3600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    verifier = TokenVerifier(ISSUER, AUDIENCE, JWKSource(str(jwks)))
    await verifier.jwks.refresh()
    policy = AccessPolicy(default=Rule(name="default", auth="required"))
    metrics = PlatformMetrics()
    tracer = Tracer()

    def edge(app: ASGIApp, limited: bool) -> ASGIApp:
        limiter = RateLimiter(1e9, 1e9) if limited else None
        return EdgeMiddleware(app, policy=policy, verifier=verifier, limiter=limiter)

    with_token = [*HEADERS, (b"authorization", f"Bearer {token}".encode())]
    variants: dict[str, ASGIApp] = {
        "bare": ok_app,
        "metrics": metered(ok_app, metrics),
        "tracing": traced(ok_app, tracer, metrics),
        "tracing-out": traced(ok_app, tracer, metrics),
        "auth": edge(ok_app, limited=False),
        "auth+rate": edge(ok_app, limited=True),
        "all": edge(traced(ok_app, tracer, metrics), limited=True),
    }
    headers = {
        name: with_token if name.startswith(("auth", "all")) else HEADERS for name in variants
    }
    headers["tracing-out"] = [
        (name, value[:-2] + b"00" if name == b"traceparent" else value) for name, value in HEADERS
    ]
    return Setup(variants, headers, tracer)


async def round_of(app: ASGIApp, headers: list[tuple[bytes, bytes]], number: int) -> float:
    """Seconds for ``number`` requests; every answer must be 200."""
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
    }
    started = time.perf_counter()
    for _ in range(number):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, f"unexpected statuses {set(statuses)}"
    return elapsed


def spans_of(tracer: Tracer, count: int, first: int = 0) -> list[FinishedSpan]:
    """``count`` ended spans, every other one with a CloudEvent id (looked up by it)."""
    for index in range(first, first + count):
        attributes = {"cloudevents.event_id": f"e-{index}"} if index % 2 else {}
        tracer.start_span(f"s{index}", None, attributes).end()
    return tracer.take()


def flush_cost(tracer: Tracer, folder: Path, spans: int) -> float:
    """CPU µs per span to write a batch of ``spans`` to an empty SQLite store."""
    batch = spans_of(tracer, spans)
    store = SpanStore(folder / "traces.db")
    started = time.process_time()
    store.write(batch)
    elapsed = time.process_time() - started
    store.close()
    return elapsed / len(batch) * 1e6


def flush_cost_at_bound(tracer: Tracer, folder: Path, bound: int, batch: int = 2000) -> float:
    """CPU µs per span written to a store at its bound: 5 bounds' worth in flush-size batches,
    so every span written is also forgotten (the store's steady state)."""
    store = SpanStore(folder / "bounded.db", max_spans=bound)
    written = 0
    while written < bound:  # fill it
        store.write(spans_of(tracer, batch, written))
        written += batch
    started = time.process_time()
    for _ in range(5 * bound // batch):
        store.write(spans_of(tracer, batch, written))  # making them is timed too: subtracted
        written += batch
    elapsed = time.process_time() - started
    making = time.process_time()
    for _ in range(5 * bound // batch):
        spans_of(tracer, batch)
    elapsed -= time.process_time() - making
    store.close()
    return elapsed / (5 * bound) * 1e6


async def main(number: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        setup = await build(Path(tmp))
        best = dict.fromkeys(setup.variants, float("inf"))
        for _ in range(repeat):
            for name, app in setup.variants.items():
                best[name] = min(best[name], await round_of(app, setup.headers[name], number))
                setup.tracer.take()  # what the flush loop does between rounds
        base = best["bare"] / number * 1e6
        print(f"{'variant':<10} {'µs/request':>11} {'added µs':>9} {'× bare':>7}")
        for name, seconds in best.items():
            micros = seconds / number * 1e6
            print(f"{name:<10} {micros:>11.2f} {micros - base:>9.2f} {micros / base:>7.2f}")
        per_span = flush_cost(Tracer(), Path(tmp), 10_000)
        at_bound = flush_cost_at_bound(Tracer(), Path(tmp), 20_000)
        print(
            f"span flush to SQLite (background, CPU per span): {per_span:.2f} µs into an empty"
            f" store, {at_bound:.2f} µs into a store at its bound (each span later forgotten)"
        )
        return {
            "us_per_request": {name: round(best[name] / number * 1e6, 2) for name in best},
            "ratio_to_bare": {name: round(best[name] / best["bare"], 2) for name in best},
            "span_flush_us": round(per_span, 2),
            "span_flush_at_bound_us": round(at_bound, 2),
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=5000, help="requests per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best one counts")
    arguments = parser.parse_args()
    load_before = [round(value, 2) for value in os.getloadavg()]
    figures = asyncio.run(main(arguments.number, arguments.repeat))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("edge_tracing", figures, load_before)
