"""CloudEvents 1.0 codec: binary, structured and batched HTTP modes, strictly validated.

``decode`` picks the mode from Content-Type; ``encode_binary``/``encode_structured``/
``encode_batch`` write one. Events are immutable :class:`CloudEvent` values. Anything that
breaks a MUST of the spec raises :class:`bulut.errors.InvalidCloudEventError` whose
``field`` names the attribute.
"""

from __future__ import annotations

from bulut.events.attributes import AttributeValue, canonical_string, is_valid_name
from bulut.events.binary import decode_binary, encode_binary
from bulut.events.binding import Mode, decode, mode_of
from bulut.events.event import CloudEvent, new_event
from bulut.events.headers import decode_header_value, encode_header_value, headers_from_asgi
from bulut.events.media_types import is_json_media_type
from bulut.events.structured import (
    decode_batch,
    decode_structured,
    encode_batch,
    encode_structured,
    event_from_json,
    to_json_dict,
)

__all__ = [
    "AttributeValue",
    "CloudEvent",
    "Mode",
    "canonical_string",
    "decode",
    "decode_batch",
    "decode_binary",
    "decode_header_value",
    "decode_structured",
    "encode_batch",
    "encode_binary",
    "encode_header_value",
    "encode_structured",
    "event_from_json",
    "headers_from_asgi",
    "is_json_media_type",
    "is_valid_name",
    "mode_of",
    "new_event",
    "to_json_dict",
]
