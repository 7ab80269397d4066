"""JSON log lines that carry the request's revision, instance, CloudEvent id and trace id.

Context travels in ``contextvars`` (one per asyncio task, so concurrent requests keep
theirs apart): wrap a request in ``with log_context(revision=..., ce_id=..., trace_id=...)``
and every record logged inside gets those fields. :class:`JsonFormatter` writes one JSON
object per line; :func:`configure_logging` installs it and is called by the CLI only (no
logging set-up at import time).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

CONTEXT_FIELDS = ("namespace", "service", "revision", "instance", "ce_id", "trace_id", "span_id")
_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "bulut_log_context", default=()
)


@contextlib.contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Add fields to every log record made inside the block (None values are skipped)."""
    merged = {**dict(_context.get()), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    """The fields in effect here."""
    return dict(_context.get())


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str = "info", *, json_lines: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Send ``bulut`` loggers to ``stream`` (stderr) as JSON or plain text; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("bulut")
    root.handlers = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    return handler
