"""The HTTP protocol binding's mode detection: binary, structured or batched."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import Final

from bulut.errors import InvalidCloudEventError
from bulut.events.binary import decode_binary
from bulut.events.event import CloudEvent
from bulut.events.structured import decode_batch, decode_structured


class Mode(Enum):
    """The three content modes of the HTTP binding."""

    BINARY = "binary"
    STRUCTURED = "structured"
    BATCHED = "batched"


# Module constants: reading an Enum member off its class is a slow attribute lookup.
_BINARY: Final = Mode.BINARY
_STRUCTURED: Final = Mode.STRUCTURED
# decode's memory of mode_of (a plain dict is quicker to ask than the lru_cache); only
# short Content-Types are kept and a full memory is emptied.
_MODES: Final[dict[str | None, Mode]] = {}


@lru_cache(maxsize=256)
def mode_of(content_type: str | None) -> Mode:
    """The mode a Content-Type selects (HTTP binding §3.3), case-insensitively.

    ``application/cloudevents-batch+json`` is batched, ``application/cloudevents+json``
    (or bare ``application/cloudevents``) structured, anything else binary. Other
    ``application/cloudevents+<format>`` types are rejected: only JSON is supported.
    """
    if content_type is None or content_type[:23].lower() != "application/cloudevents":
        return Mode.BINARY
    essence = content_type.partition(";")[0].strip().lower()
    if essence in ("application/cloudevents+json", "application/cloudevents"):
        return Mode.STRUCTURED
    if essence in ("application/cloudevents-batch+json", "application/cloudevents-batch"):
        return Mode.BATCHED
    raise InvalidCloudEventError(
        f"unsupported event format {essence!r:.80}: only application/cloudevents+json "
        "and application/cloudevents-batch+json are supported"
    )


def decode(
    headers: Mapping[str, str],
    body: bytes,
    *,
    check_json_data: bool = False,
    max_batch_events: int | None = None,
) -> CloudEvent | list[CloudEvent]:
    """Decode an HTTP message in whichever mode its Content-Type selects (see ``mode_of``).

    ``headers`` must have lower-case names (see ``headers_from_asgi``). A batch gives
    a list (at most ``max_batch_events`` events). ``check_json_data`` also rejects
    JSON-typed data that does not parse.
    """
    content_type = headers.get("content-type")
    try:
        mode = _MODES[content_type]
    except KeyError:
        mode = mode_of(content_type)  # raises for an unsupported event format
        if content_type is None or len(content_type) <= 128:
            if len(_MODES) >= 256:
                _MODES.clear()
            _MODES[content_type] = mode
    if mode is _BINARY:
        return decode_binary(headers, body, check_json_data=check_json_data)
    if mode is _STRUCTURED:
        return decode_structured(body, check_json_data=check_json_data)
    return decode_batch(body, check_json_data=check_json_data, max_events=max_batch_events)
