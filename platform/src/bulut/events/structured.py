"""Structured and batched modes: the CloudEvents JSON event format (json-format.md §3).

``data`` holds a JSON value when the datacontenttype is JSON (or absent), a string for
other text; ``data_base64`` holds binary data. The two are mutually exclusive. A
structured event keeps its ``data`` JSON value, so re-encoding it neither re-parses nor
re-serializes the payload.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Sequence
from typing import Any, Final

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    CORE,
    AttributeValue,
    check_name,
    check_required,
    check_value,
    is_valid_name,
)
from bulut.events.event import CloudEvent
from bulut.events.media_types import (
    BATCH_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    is_json_media_type,
    is_text_media_type,
)

_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODER_ASCII: Final = json.JSONEncoder(separators=(",", ":"))
_FIRST: Final = ("specversion", "id", "source", "type")


def _parse(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCloudEventError(f"the {what} body is not valid JSON: {exc}") from None


def _decode_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise InvalidCloudEventError(
            f"data_base64 must be a base64 string, got {type(value).__name__}",
            field="data_base64",
        )
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCloudEventError(
            f"data_base64 is not valid base64: {exc}", field="data_base64"
        ) from None


def _check_json_bytes(data: bytes) -> None:
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCloudEventError(
            f"data is not valid JSON although datacontenttype says JSON: {exc}", field="data"
        ) from None


def event_from_json(obj: object, *, check_json_data: bool = False) -> CloudEvent:
    """Validate one JSON-format event object (already parsed) and build the event.

    A ``null`` attribute counts as absent; ``data: null`` means no data.
    """
    if not isinstance(obj, dict):
        raise InvalidCloudEventError(
            f"a structured event must be a JSON object, got {type(obj).__name__}"
        )
    attrs: dict[str, AttributeValue] = {}
    value: Any = None
    encoded: Any = None
    for name, item in obj.items():
        if name == "data":
            value = item
        elif name == "data_base64":
            encoded = item
        elif item is not None:
            if name not in CORE and not is_valid_name(name):
                check_name(name)
            attrs[name] = check_value(name, item)
    check_required(attrs)
    content_type: str | None = attrs.get("datacontenttype")  # type: ignore[assignment]
    if encoded is not None:
        if value is not None:
            raise InvalidCloudEventError(
                "data and data_base64 are mutually exclusive; the event has both",
                field="data_base64",
            )
        data = _decode_base64(encoded)
        if check_json_data and content_type is not None and is_json_media_type(content_type):
            _check_json_bytes(data)
        return CloudEvent._trusted(attrs, data)
    if isinstance(value, str) and not is_json_media_type(content_type):
        return CloudEvent._trusted(attrs, value.encode("utf-8", "surrogatepass"), value)
    return CloudEvent._trusted(attrs, None, value)


def decode_structured(body: bytes, *, check_json_data: bool = False) -> CloudEvent:
    """Decode a structured-mode body (``application/cloudevents+json``)."""
    return event_from_json(_parse(body, "structured"), check_json_data=check_json_data)


def decode_batch(body: bytes, *, check_json_data: bool = False) -> list[CloudEvent]:
    """Decode a batched-mode body (``application/cloudevents-batch+json``): a JSON array."""
    items = _parse(body, "batch")
    if not isinstance(items, list):
        raise InvalidCloudEventError(
            f"a batch must be a JSON array of events, got {type(items).__name__}"
        )
    events: list[CloudEvent] = []
    for index, item in enumerate(items):
        try:
            events.append(event_from_json(item, check_json_data=check_json_data))
        except InvalidCloudEventError as exc:
            raise InvalidCloudEventError(
                f"batch event {index}: {exc.message}", field=exc.field
            ) from None
    return events


def to_json_dict(event: CloudEvent) -> dict[str, Any]:
    """The JSON-format object of ``event``.

    Data goes to ``data`` as a JSON value for JSON content (or the original structured
    value), as a string for text, and to ``data_base64`` otherwise (or when a JSON or
    text payload does not parse/decode).
    """
    attrs = event._attrs
    obj: dict[str, Any] = {name: attrs[name] for name in _FIRST}
    if len(attrs) > 4:
        obj.update(attrs)
    value = event._value
    if value is not None:
        obj["data"] = value
        return obj
    data = event._data
    if data is None:
        return obj
    content_type: str | None = attrs.get("datacontenttype")  # type: ignore[assignment]
    if is_json_media_type(content_type):
        try:
            obj["data"] = json.loads(data)
            return obj
        except (ValueError, UnicodeDecodeError):
            pass
    elif is_text_media_type(content_type):
        try:
            obj["data"] = data.decode("utf-8")
            return obj
        except UnicodeDecodeError:
            pass
    obj["data_base64"] = binascii.b2a_base64(data, newline=False).decode("ascii")
    return obj


def _dump(value: Any) -> bytes:
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        return _ENCODER_ASCII.encode(value).encode("ascii")


def encode_structured(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """Headers and body of ``event`` in structured mode."""
    return {"content-type": STRUCTURED_CONTENT_TYPE}, _dump(to_json_dict(event))


def encode_batch(events: Sequence[CloudEvent]) -> tuple[dict[str, str], bytes]:
    """Headers and body of ``events`` in batched mode (a JSON array)."""
    return {"content-type": BATCH_CONTENT_TYPE}, _dump([to_json_dict(event) for event in events])
