"""The eventing admin API (mounted by the control plane at ``/eventing``).

| route | what |
|---|---|
| ``GET /events/{id}`` | the logged event(s) with that id, outcomes, in-flight triggers |
| ``GET /dead-letters?trigger=ns/name`` | deliveries that ended dead-lettered or failed |
| ``POST /events/{id}/redeliver?trigger=ns/name`` | deliver again (202); default: where it failed |
| ``GET /tail?broker=ns/name`` | Server-Sent Events: accepted events and finished deliveries, live |
| ``GET /stats`` | counters |
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import queries

if TYPE_CHECKING:
    from .dataplane import Eventing

PROBLEM = "application/problem+json"


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def build_admin_app(eventing: Eventing) -> Starlette:
    """The admin ASGI app over one :class:`Eventing`."""

    async def get_event(request: Request) -> Response:
        found = await eventing.describe(request.path_params["event_id"])
        if not found:
            return _problem(
                404, "Not found", f"no event with id {request.path_params['event_id']!r}"
            )
        return JSONResponse({"items": found})

    async def dead_letters(request: Request) -> Response:
        items = queries.dead_letters(eventing.log, request.query_params.get("trigger"))
        return JSONResponse({"items": items})

    async def redeliver(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        triggers = await eventing.redeliver(event_id, request.query_params.get("trigger"))
        if not triggers:
            return _problem(404, "Not found", f"nothing to redeliver for event {event_id!r}")
        return JSONResponse({"id": event_id, "redelivering": triggers}, status_code=202)

    async def tail(request: Request) -> Response:
        broker = request.query_params.get("broker")

        async def stream() -> AsyncIterator[bytes]:
            yield b": tail\n\n"
            async for record in eventing.tail.watch():
                where = f"{record.get('namespace')}/{record.get('broker')}"
                if broker and record.get("kind") == "event" and where != broker:
                    continue
                yield b"data: " + json.dumps(record).encode() + b"\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def stats(request: Request) -> Response:
        return JSONResponse(eventing.stats())

    routes = [
        Route("/events/{event_id:path}/redeliver", redeliver, methods=["POST"]),
        Route("/events/{event_id:path}", get_event, methods=["GET"]),
        Route("/dead-letters", dead_letters, methods=["GET"]),
        Route("/tail", tail, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def describe_event(
    event: Any, outcomes: list[dict[str, Any]], in_flight: list[str]
) -> dict[str, Any]:
    """One event as the admin API shows it."""
    return {
        "seq": event.seq,
        "namespace": event.namespace,
        "broker": event.broker,
        "attributes": event.attributes,
        "ttl": event.ttl,
        "received": event.received,
        "dataSize": len(event.body),
        "deliveries": outcomes,
        "inFlight": in_flight,
    }
