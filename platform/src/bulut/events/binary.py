"""Binary mode: attributes in ``ce-`` headers, data as the HTTP body (HTTP binding §3.1).

Decoding reads attributes from the headers only; the body is kept as bytes and never
parsed (unless ``check_json_data`` asks for it), so a broker can filter on attributes
and store the payload as is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    CORE,
    AttributeValue,
    canonical_string,
    check_name,
    check_required,
    check_string,
    is_valid_name,
)
from bulut.events.event import CloudEvent
from bulut.events.headers import decode_header_value, encode_header_value
from bulut.events.media_types import check_media_type, is_json_media_type


def decode_binary(
    headers: Mapping[str, str], body: bytes, *, check_json_data: bool = False
) -> CloudEvent:
    """Decode a binary-mode message. ``headers`` must have lower-case names.

    Extension values arrive as strings (headers carry no types). An empty body means
    no data. ``check_json_data`` also parses a body whose Content-Type is JSON.
    """
    attrs: dict[str, AttributeValue] = {}
    for name, raw in headers.items():
        if name[:3] != "ce-":
            continue
        attr = name[3:]
        if attr not in CORE and not is_valid_name(attr):
            check_name(attr)
        value = decode_header_value(attr, raw)
        if attr in CORE:
            if attr == "datacontenttype":
                raise InvalidCloudEventError(
                    "binary mode carries datacontenttype in Content-Type; "
                    "a ce-datacontenttype header is not allowed",
                    field="datacontenttype",
                )
            check_string(attr, value)
        attrs[attr] = value
    check_required(attrs)
    content_type = headers.get("content-type")
    if content_type is not None:
        check_media_type("datacontenttype", content_type)
        attrs["datacontenttype"] = content_type
    data = body or None
    if check_json_data and data is not None and content_type and is_json_media_type(content_type):
        try:
            json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidCloudEventError(
                f"data is not valid JSON although Content-Type is {content_type}: {exc}",
                field="data",
            ) from None
    return CloudEvent._trusted(attrs, data)


def encode_binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """Headers (lower-case names, ``ce-*`` percent-encoded) and body of ``event``."""
    headers: dict[str, str] = {}
    content_type: str | None = None
    for name, value in event._attrs.items():
        if name == "datacontenttype":
            content_type = value  # type: ignore[assignment]  # validated string
        else:
            headers["ce-" + name] = encode_header_value(canonical_string(value))
    if content_type is not None:
        headers["content-type"] = content_type
    data = event.data
    return headers, b"" if data is None else data
