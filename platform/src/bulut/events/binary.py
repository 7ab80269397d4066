"""Binary mode: attributes in ``ce-`` headers, data as the HTTP body (HTTP binding §3.1).

Decoding reads attributes from the headers only; the body is kept as bytes and never
parsed (unless ``check_json_data`` asks for it), so a broker can filter on attributes
and store the payload as is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    STRING_CHECKS,
    AttributeValue,
    StringCheck,
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


class _Plan(NamedTuple):
    """How to read the attributes out of one set of header names (see ``_plan_of``)."""

    headers: tuple[str, ...]  # the ce- headers, in order
    names: tuple[str, ...]  # the attribute each carries
    values: Callable[[Mapping[str, str]], tuple[str, ...]]  # their values, read in C
    checks: tuple[tuple[str, StringCheck], ...]  # core attributes present and their checks


class _Unremembered(Exception):
    """Carries a plan too big to remember out of the memo (lru_cache keeps no errors)."""

    def __init__(self, plan: _Plan) -> None:
        super().__init__()
        self.plan = plan


def _plan_of(header_names: tuple[str, ...]) -> _Plan:
    """Check a message's header names once: which carry attributes, and which checks apply.

    Raises for an illegal ``ce-`` name, for ``ce-datacontenttype`` and when a required
    attribute has no header.
    """
    headers: list[str] = []
    names: list[str] = []
    for header in header_names:
        name = _attribute_of(header)
        if name is not None:
            headers.append(header)
            names.append(name)
    check_required(dict.fromkeys(names))
    checks = tuple((name, STRING_CHECKS[name]) for name in names if name in STRING_CHECKS)
    return _Plan(tuple(headers), tuple(names), itemgetter(*headers), checks)


@lru_cache(maxsize=128)
def _memo_plan_of(header_names: tuple[str, ...]) -> _Plan:
    """``_plan_of`` remembered: a client sends the same header names every time.

    A plan for many or long names is made but not kept (it leaves through
    ``_Unremembered``), so hostile input cannot pin memory.
    """
    plan = _plan_of(header_names)
    if len(header_names) > 64 or any(len(header) > 64 for header in header_names):
        raise _Unremembered(plan)
    return plan


def decode_binary(
    headers: Mapping[str, str], body: bytes, *, check_json_data: bool = False
) -> CloudEvent:
    """Decode a binary-mode message. ``headers`` must have lower-case names.

    Extension values arrive as strings (headers carry no types). An empty body means
    no data. ``check_json_data`` also parses a body whose Content-Type is JSON.
    """
    try:
        plan = _memo_plan_of(tuple(headers))
    except _Unremembered as big:
        plan = big.plan
    values = plan.values(headers)
    joined = "".join(values)
    if joined.isascii() and "%" not in joined and '"' not in joined:
        attrs: dict[str, AttributeValue] = dict(zip(plan.names, values, strict=True))
    else:
        attrs = {
            name: decode_header_value(name, raw)
            for name, raw in zip(plan.names, values, strict=True)
        }
    for name, check in plan.checks:
        check(name, attrs[name])  # type: ignore[arg-type]  # header values are strings
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


# The bytes a ce- header value may hold as it is: U+0021-U+007E except '"' and '%' (a value
# of these alone needs no decoding, and binary mode writes it back unchanged).
_PLAIN_BYTES = bytes(range(0x21, 0x7F)).translate(None, b'"%')
_PLAIN_BYTES_OR_NUL = _PLAIN_BYTES + b"\0"


@lru_cache(maxsize=128)
def _raw_plan(header_names: tuple[bytes, ...]) -> _Plan | None:
    """``_plan_of`` for raw ``ce-`` header names; None when they break a rule (or repeat)."""
    if len(set(header_names)) != len(header_names):
        return None  # a repeated header: joined by the full decoder
    try:
        return _plan_of(tuple(name.decode("latin-1") for name in header_names))
    except InvalidCloudEventError:
        return None


def plain_binary_attributes(
    ce_headers: Sequence[tuple[bytes, bytes]], content_type: bytes | None
) -> dict[str, AttributeValue] | None:
    """The attributes of a binary-mode message whose ``ce-`` values need no decoding.

    ``ce_headers`` are the message's ``ce-`` headers as raw (lower-case name, value) pairs,
    in order; ``content_type`` its Content-Type. The attributes are exactly what
    :func:`decode_binary` reads (same order, ``datacontenttype`` last) when every value
    is printable ASCII without space, ``"`` or ``%`` (so it is its own binary-mode
    encoding), no header repeats, and every check passes. Anything else gives None, which
    says nothing about the message: :func:`decode_binary` then decodes it, or names what
    is wrong. A broker uses this to store the headers it received as they are.
    """
    if not ce_headers:
        return None  # no attributes: the full decoder names the missing one
    names, raw = zip(*ce_headers, strict=True)
    if len(names) > 64 or max(map(len, names)) > 64:
        return None  # not remembered (hostile input cannot pin memory): the full decoder
    plan = _raw_plan(names)
    if plan is None:
        return None
    joined = b"\0".join(raw)  # a NUL between values: never a plain byte, so split on it
    if joined.translate(None, _PLAIN_BYTES_OR_NUL) or len(raw) != joined.count(b"\0") + 1:
        return None  # something to decode (or to refuse)
    attrs: dict[str, AttributeValue] = dict(
        zip(plan.names, joined.decode("ascii").split("\0"), strict=True)
    )
    try:
        for name, check in plan.checks:
            check(name, attrs[name])  # type: ignore[arg-type]  # decoded strings
        if content_type is not None:
            text = content_type.decode("latin-1")
            if not is_media_type(text):
                return None
            attrs["datacontenttype"] = text
    except InvalidCloudEventError:
        return None
    return attrs


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
