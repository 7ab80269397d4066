"""Binary mode: attributes in ``ce-`` headers, data as the HTTP body (HTTP binding §3.1).

Decoding reads attributes from the headers only; the body is kept as bytes and never
parsed (unless ``check_json_data`` asks for it), so a broker can filter on attributes
and store the payload as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    STRING_CHECKS,
    AttributeValue,
    canonical_string,
    check_name,
    check_required,
)
from bulut.events.event import CloudEvent
from bulut.events.headers import decode_header_value, encode_header_value
from bulut.events.json_codec import JSONError, loads
from bulut.events.media_types import check_media_type, is_json_media_type, is_media_type


def _attribute_of(header: str) -> str | None:
    """The attribute a header carries (``ce-<name>``), None for other headers.

    Raises for a ``ce-`` header whose name is not a legal attribute name, or for
    ``ce-datacontenttype``.
    """
    if header[:3] != "ce-":
        return None
    name = header[3:]
    check_name(name)
    if name == "datacontenttype":
        raise InvalidCloudEventError(
            "binary mode carries datacontenttype in Content-Type; "
            "a ce-datacontenttype header is not allowed",
            field="datacontenttype",
        )
    return name


# Every event repeats the same header names: remember short ones (long ones are not
# kept, so hostile input cannot pin memory; errors are never cached).
_memo_attribute_of: Final = lru_cache(maxsize=256)(_attribute_of)
_MEMO_MAX_LENGTH: Final = 64


def decode_binary(
    headers: Mapping[str, str], body: bytes, *, check_json_data: bool = False
) -> CloudEvent:
    """Decode a binary-mode message. ``headers`` must have lower-case names.

    Extension values arrive as strings (headers carry no types). An empty body means
    no data. ``check_json_data`` also parses a body whose Content-Type is JSON.
    """
    attrs: dict[str, AttributeValue] = {}
    checks = STRING_CHECKS
    for header, raw in headers.items():
        if len(header) <= _MEMO_MAX_LENGTH:
            name = _memo_attribute_of(header)
        else:
            name = _attribute_of(header)
        if name is None:
            continue
        if raw.isascii() and "%" not in raw and '"' not in raw:
            value = raw
        else:
            value = decode_header_value(name, raw)
        check = checks.get(name)
        if check is not None:
            check(name, value)
        attrs[name] = value
    check_required(attrs)
    content_type = headers.get("content-type")
    if content_type is not None:
        if not is_media_type(content_type):
            check_media_type("datacontenttype", content_type)
        attrs["datacontenttype"] = content_type
    data = body or None
    if check_json_data and data is not None and content_type and is_json_media_type(content_type):
        try:
            loads(data)
        except JSONError as exc:
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
