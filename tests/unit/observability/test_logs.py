"""JSON log lines carry the request's context, per task."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from bulut.observability.logs import JsonFormatter, configure_logging, current_context, log_context


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("bulut.serving", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_record_becomes_one_json_line_with_the_context_fields() -> None:
    with log_context(revision="orders-00001", instance=4242, ce_id="e-1", trace_id="a" * 32):
        line = JsonFormatter().format(record("hello %s", "world"))
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "warning"
    assert entry["logger"] == "bulut.serving" and entry["time"].endswith("Z")
    assert entry["revision"] == "orders-00001" and entry["instance"] == "4242"
    assert entry["ce_id"] == "e-1" and entry["trace_id"] == "a" * 32


def test_fields_passed_as_extra_are_kept_and_none_values_are_skipped() -> None:
    with log_context(revision=None, namespace="shop"):
        entry = json.loads(JsonFormatter().format(record("x", ce_id="e-9")))
    assert entry["ce_id"] == "e-9" and entry["namespace"] == "shop" and "revision" not in entry


def test_exceptions_are_included_as_text() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        made = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "oops", None, __import__("sys").exc_info()
        )
    assert "ValueError: bad" in json.loads(JsonFormatter().format(made))["exception"]


async def test_concurrent_requests_keep_their_own_context() -> None:
    inside: list[str] = []
    both = asyncio.Event()

    async def request(ce_id: str) -> dict[str, str]:
        with log_context(ce_id=ce_id):
            inside.append(ce_id)
            if len(inside) == 2:
                both.set()
            await both.wait()  # both contexts are open at the same time
            return current_context()

    first, second = await asyncio.gather(request("a"), request("b"))
    assert first == {"ce_id": "a"} and second == {"ce_id": "b"}
    assert current_context() == {}


def test_configure_logging_installs_one_json_handler_on_the_bulut_logger() -> None:
    stream = io.StringIO()
    configure_logging("info", json_lines=True, stream=stream)
    try:
        logging.getLogger("bulut.test").info("ready")
        assert json.loads(stream.getvalue())["message"] == "ready"
    finally:
        logger = logging.getLogger("bulut")
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
