"""The HTTP protocol binding's mode detection: binary, structured or batched."""

from __future__ import annotations

from collections.abc import Mapping

from bulut.errors import InvalidCloudEventError
from bulut.events.binary import decode_binary
from bulut.events.event import CloudEvent
from bulut.events.structured import decode_batch, decode_structured


def decode(
    headers: Mapping[str, str], body: bytes, *, check_json_data: bool = False
) -> CloudEvent | list[CloudEvent]:
    """Decode an HTTP message in whichever mode its Content-Type selects.

    ``application/cloudevents-batch+json`` gives a list, ``application/cloudevents+json``
    (or bare ``application/cloudevents``) one structured event, anything else binary mode.
    Other ``application/cloudevents+<format>`` types are rejected: only JSON is supported.
    ``headers`` must have lower-case names (see ``headers_from_asgi``).
    """
    content_type = headers.get("content-type")
    if content_type is None or content_type[:23].lower() != "application/cloudevents":
        return decode_binary(headers, body, check_json_data=check_json_data)
    essence = content_type.partition(";")[0].strip().lower()
    if essence in ("application/cloudevents+json", "application/cloudevents"):
        return decode_structured(body, check_json_data=check_json_data)
    if essence in ("application/cloudevents-batch+json", "application/cloudevents-batch"):
        return decode_batch(body, check_json_data=check_json_data)
    raise InvalidCloudEventError(
        f"unsupported event format {essence!r:.80}: only application/cloudevents+json "
        "and application/cloudevents-batch+json are supported"
    )
