"""The immutable :class:`CloudEvent` and :func:`new_event`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    SPECVERSION,
    AttributeValue,
    check_name,
    check_required,
    check_value,
    validate,
)
from bulut.events.json_codec import (
    FastRead,
    JSONError,
    dumps,
    loads,
    loads_exact,
    may_lose_precision,
)
from bulut.events.media_types import JSON_MEDIA_TYPE, is_json_media_type
from bulut.events.timestamps import now_timestamp

_new: Final = object.__new__


class CloudEvent:
    """One CloudEvents 1.0 event: context attributes and optional payload bytes.

    Immutable. Build one with :func:`new_event`, by decoding (``bulut.events.decode``)
    or directly from an attribute mapping, which is validated. ``attributes`` keep
    their types: Integer and Boolean extensions stay ``int``/``bool``, ``time`` stays
    its RFC 3339 string.
    """

    __slots__ = ("_attrs", "_data", "_raw", "_value")

    _attrs: dict[str, AttributeValue]
    _data: bytes | None
    _value: Any  # the structured-mode `data` JSON value, when the event came from one
    #: What `_value` was read from by the fast parser: a structured body, or a batch
    #: and the event's index in it (None when `_value` is exact).
    _raw: bytes | tuple[FastRead, int] | None

    def __init__(
        self, attributes: Mapping[str, AttributeValue | None], data: bytes | None = None
    ) -> None:
        self._attrs = validate(attributes)
        if data is not None and not isinstance(data, bytes):
            raise InvalidCloudEventError(
                f"data must be bytes, got {type(data).__name__}", field="data"
            )
        self._data = data
        self._value = None
        self._raw = None

    @classmethod
    def _trusted(
        cls,
        attrs: dict[str, AttributeValue],
        data: bytes | None,
        value: Any = None,
        raw: bytes | tuple[FastRead, int] | None = None,
    ) -> CloudEvent:
        """An event from attributes that were already validated (the decoders' fast path).

        ``raw`` is what ``value`` was read from by the fast JSON parser (a structured body,
        or a batch and the event's index in it); it is re-read exactly, once, if it holds
        numbers the fast parser may round.
        """
        event = _new(cls)
        event._attrs = attrs
        event._data = data
        event._value = value
        event._raw = raw
        return event

    def _exact_value(self) -> Any:
        """The structured ``data`` value, re-read with exact integers if it needs it."""
        raw = self._raw
        if raw is not None:
            self._raw = None
            if isinstance(raw, bytes):
                if may_lose_precision(raw):
                    self._value = loads_exact(raw)["data"]
            else:
                batch, index = raw
                exact = batch.exact()
                if exact is not None:
                    self._value = exact[index]["data"]
        return self._value

    # ------------------------------------------------------------------ attributes
    @property
    def attributes(self) -> Mapping[str, AttributeValue]:
        """Every context attribute, extensions included, as a read-only mapping."""
        return MappingProxyType(self._attrs)

    def get(self, name: str, default: AttributeValue | None = None) -> AttributeValue | None:
        """The attribute ``name``, or ``default`` when the event has none."""
        return self._attrs.get(name, default)

    @property
    def id(self) -> str:
        """The ``id`` attribute."""
        return self._attrs["id"]  # type: ignore[return-value]  # validated as a string

    @property
    def source(self) -> str:
        """The ``source`` attribute (a URI-reference)."""
        return self._attrs["source"]  # type: ignore[return-value]  # validated as a string

    @property
    def type(self) -> str:
        """The ``type`` attribute."""
        return self._attrs["type"]  # type: ignore[return-value]  # validated as a string

    @property
    def specversion(self) -> str:
        """The ``specversion`` attribute (always ``1.0``)."""
        return self._attrs["specversion"]  # type: ignore[return-value]  # validated

    @property
    def datacontenttype(self) -> str | None:
        """The ``datacontenttype`` attribute (in binary mode, the Content-Type)."""
        return self._attrs.get("datacontenttype")  # type: ignore[return-value]  # a string

    @property
    def subject(self) -> str | None:
        """The ``subject`` attribute."""
        return self._attrs.get("subject")  # type: ignore[return-value]  # a string

    @property
    def time(self) -> str | None:
        """The ``time`` attribute as its RFC 3339 string."""
        return self._attrs.get("time")  # type: ignore[return-value]  # a string

    @property
    def dataschema(self) -> str | None:
        """The ``dataschema`` attribute (a URI)."""
        return self._attrs.get("dataschema")  # type: ignore[return-value]  # a string

    # ------------------------------------------------------------------ data
    @property
    def data(self) -> bytes | None:
        """The payload bytes, or None when the event has no data.

        From a structured ``data`` JSON value: compact JSON (a string value under a
        non-JSON datacontenttype gives its UTF-8 bytes); from ``data_base64``: the
        decoded bytes; in binary mode: the body as is.
        """
        if self._data is None and self._value is not None:
            self._data = self._materialize()
        return self._data

    def _materialize(self) -> bytes:
        value = self._exact_value()
        if isinstance(value, str) and not is_json_media_type(self.datacontenttype):
            return value.encode("utf-8", "surrogatepass")
        return dumps(value)

    def json(self) -> Any:
        """The payload parsed as JSON (None when the event has no data).

        Raises InvalidCloudEventError (field ``data``) when the payload is not JSON.
        """
        value = self._exact_value()
        scalar = isinstance(value, str | int | float | bool)
        if scalar and is_json_media_type(self.datacontenttype):
            return value
        data = self.data
        if data is None:
            return None
        try:
            return loads(data)
        except JSONError as exc:
            raise InvalidCloudEventError(f"data is not valid JSON: {exc}", field="data") from None

    @property
    def json_value(self) -> Any:
        """The structured-mode ``data`` JSON value this event was decoded from, else None.

        Shared, not copied: do not mutate it. Encoders reuse it so a structured event
        is re-encoded without parsing or re-serializing its data.
        """
        return self._exact_value()

    # ------------------------------------------------------------------ changes
    def with_attributes(self, **changes: AttributeValue | None) -> CloudEvent:
        """A copy with attributes set (validated) or removed (``None``); data is kept."""
        attrs = dict(self._attrs)
        for name, value in changes.items():
            if value is None:
                attrs.pop(name, None)
                continue
            check_name(name)
            attrs[name] = check_value(name, value)
        check_required(attrs)
        if "datacontenttype" in changes and self._value is not None:
            return CloudEvent._trusted(attrs, self.data)
        return CloudEvent._trusted(attrs, self._data, self._value, self._raw)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CloudEvent):
            return NotImplemented
        return self._attrs == other._attrs and self.data == other.data

    def __hash__(self) -> int:
        return hash((self._attrs.get("source"), self._attrs.get("id")))

    def __repr__(self) -> str:
        size = "no data" if self.data is None else f"{len(self.data)} bytes of data"
        return (
            f"CloudEvent(type={self._attrs.get('type')!r}, source={self._attrs.get('source')!r}, "
            f"id={self._attrs.get('id')!r}, {size})"
        )


def new_event(
    *,
    type: str,  # noqa: A002  # the attribute is called type
    source: str,
    data: bytes | str | Any | None = None,
    id: str | None = None,  # noqa: A002  # the attribute is called id
    datacontenttype: str | None = None,
    subject: str | None = None,
    time: str | None = None,
    **extensions: AttributeValue,
) -> CloudEvent:
    """Build a valid event, filling ``id`` (a UUID4) and ``time`` (now, UTC) when absent.

    ``bytes`` data is kept as is. A ``str`` under a non-JSON ``datacontenttype`` is
    encoded as UTF-8. Anything else is JSON-encoded, and ``datacontenttype`` defaults
    to ``application/json``.
    """
    payload: bytes | None = None
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str) and datacontenttype and not is_json_media_type(datacontenttype):
        payload = data.encode("utf-8")
    elif data is not None:
        payload = dumps(data)
        datacontenttype = datacontenttype or JSON_MEDIA_TYPE
    attributes: dict[str, AttributeValue | None] = {
        "specversion": SPECVERSION,
        "id": id if id is not None else str(uuid.uuid4()),
        "source": source,
        "type": type,
        "datacontenttype": datacontenttype,
        "subject": subject,
        "time": time if time is not None else now_timestamp(),
    }
    for name in extensions:
        check_name(name)
    attributes.update(extensions)
    return CloudEvent(attributes, payload)
