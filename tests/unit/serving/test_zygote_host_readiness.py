"""An instance answers the revision's readiness probe itself, in-process, the request the
runtime would send (ADR 0023); and a parked child's log file is made while it waits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

Scope = dict[str, Any]


def answering(status: int, seen: list[Scope] | None = None) -> Any:
    """An ASGI app answering ``status`` to every request (and keeping each scope)."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if seen is not None:
            seen.append(scope)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"OK"})

    return app


async def test_a_readiness_answered_2xx_or_3xx_passes(host: ModuleType) -> None:
    assert await host.ready_by_itself(answering(200), "/health/readiness", 8080, {}) is True
    assert await host.ready_by_itself(answering(302), "/health/readiness", 8080, {}) is True


async def test_a_readiness_answered_5xx_or_4xx_does_not(host: ModuleType) -> None:
    assert await host.ready_by_itself(answering(503), "/health/readiness", 8080, {}) is False
    assert await host.ready_by_itself(answering(404), "/health/readiness", 8080, {}) is False


async def test_the_app_gets_the_request_the_runtime_would_send(host: ModuleType) -> None:
    seen: list[Scope] = []

    await host.ready_by_itself(answering(200, seen), "/ready/now", 41234, {"pool": "p"})

    scope = seen[0]
    assert (scope["type"], scope["method"], scope["path"]) == ("http", "GET", "/ready/now")
    assert scope["server"] == ("127.0.0.1", 41234)
    assert (b"k-kubelet-probe", b"queue") in scope["headers"]  # the probe's own marks
    assert (b"user-agent", b"Knative-Bulut-Probe") in scope["headers"]
    assert scope["state"] == {"pool": "p"}


async def test_an_app_that_fails_or_never_answers_is_not_ready(
    host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(scope: Scope, receive: Any, send: Any) -> None:
        raise RuntimeError("database down")

    async def silent(scope: Scope, receive: Any, send: Any) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(host, "PROBE_TIMEOUT", 0.05)

    assert await host.ready_by_itself(failing, "/health/readiness", 8080, {}) is False
    assert await host.ready_by_itself(silent, "/health/readiness", 8080, {}) is False


async def test_an_app_reading_past_the_empty_body_hears_the_client_leave(
    host: ModuleType,
) -> None:
    heard: list[str] = []

    async def reading(scope: Scope, receive: Any, send: Any) -> None:
        heard.extend([(await receive())["type"], (await receive())["type"]])
        await answering(200)(scope, receive, send)

    assert await host.ready_by_itself(reading, "/health/readiness", 8080, {}) is True
    assert heard == ["http.request", "http.disconnect"]


async def test_a_tcp_probe_passes_once_the_server_listens(host: ModuleType) -> None:
    async def never(scope: Scope, receive: Any, send: Any) -> None:
        raise AssertionError("a TCP probe sends no request")

    assert await host.ready_by_itself(never, "", 8080, {}) is True


def test_a_parked_childs_log_is_made_ahead_and_becomes_its_output_once_taken(
    host: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_LOG_DIR", str(tmp_path))
    saved = os.dup(1), os.dup(2)
    try:
        log = host.LogAhead()
        path = tmp_path / f"{os.getpid()}.log"
        assert path.exists()  # made while the child waits

        log.take()
        os.write(1, b"from start(cfg)\n")
        os.write(2, b"and its errors\n")
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])

    assert path.read_text() == "from start(cfg)\nand its errors\n"
    log.drop()  # taken: the file is the instance's
    assert path.exists()


def test_a_parked_child_that_leaves_untaken_removes_its_log(
    host: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_LOG_DIR", str(tmp_path))

    host.LogAhead().drop()

    assert list(tmp_path.iterdir()) == []
