"""Structured and batched modes: the CloudEvents JSON event format (json-format.md §3).

``data`` holds a JSON value when the datacontenttype is JSON (or absent), a string for
other text; ``data_base64`` holds binary data. The two are mutually exclusive. A
structured event keeps its ``data`` JSON value, so re-encoding it neither re-parses nor
re-serializes the payload.

Decoding checks the common event on a fast path (see ``_take_event``) and anything else
member by member (``_check_members``, also what ``event_from_json`` uses): both enforce
the same rules with the same errors.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final, NoReturn, TypeAlias

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    CORE,
    KNOWN_SOURCES,
    QUICK_CHECKS,
    REQUIRED,
    REQUIRED_NAMES,
    SPECVERSION,
    STRING_CHECKS,
    QuickCheck,
    check_name,
    check_value,
)
from bulut.events.event import CloudEvent
from bulut.events.json_codec import FastRead, JSONError, dumps, loads, loads_fast
from bulut.events.media_types import (
    BATCH_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    is_json_media_type,
    is_text_media_type,
)

_FIRST: Final = ("specversion", "id", "source", "type")
#: What a ``data`` value was read from by the fast parser (see ``CloudEvent._trusted``).
_Raw: TypeAlias = bytes | tuple[FastRead, int] | None
_trusted: Final = CloudEvent._trusted
_new: Final = object.__new__


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
        loads(data)
    except JSONError as exc:
        raise InvalidCloudEventError(
            f"data is not valid JSON although datacontenttype says JSON: {exc}", field="data"
        ) from None


def event_from_json(obj: object, *, check_json_data: bool = False) -> CloudEvent:
    """Validate one JSON-format event object (already parsed) and build the event.

    A ``null`` attribute counts as absent; ``data: null`` means no data. ``obj`` is not
    modified, but its ``data`` value is shared with the event, not copied.
    """
    if not isinstance(obj, dict):
        raise InvalidCloudEventError(
            f"a structured event must be a JSON object, got {type(obj).__name__}"
        )
    # Any dict may come here (str subclasses and all): the member-by-member checks.
    attrs = dict(obj)
    shape = _shape_for(tuple(attrs))
    value = attrs.pop("data", None)
    encoded = attrs.pop("data_base64", None)
    _check_members(attrs, shape)
    return _build(attrs, value, encoded, check_json_data, None)


_required_of: Final = itemgetter(*REQUIRED)
_check_source: Final = STRING_CHECKS["source"]
_known_source: Final = KNOWN_SOURCES.contains
_join: Final = "".join


@dataclass(frozen=True, slots=True)  # slots: the fast path reads its fields quickly
class _Shape:
    """What one set of event member names asks for (see ``_shape_of``)."""

    has_data: bool  # a data member is present
    has_base64: bool  # a data_base64 member is present
    #: (id, source, specversion, type) out of the attribute values in member order (the
    #: object's values once data is taken out); None when a required one is missing.
    required: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None
    #: The quick test of each optional core attribute present, with its value's index.
    quick: tuple[tuple[int, QuickCheck], ...]
    optional: tuple[str, ...]  # the optional core attributes present
    extensions: tuple[str, ...]  # the extension attributes present


def _shape_of(names: tuple[str, ...]) -> _Shape:
    """Sort an event object's member names. Raises for a name no attribute may have."""
    attributes = [name for name in names if name != "data" and name != "data_base64"]
    optional: list[str] = []
    extensions: list[str] = []
    for name in attributes:
        if name in REQUIRED_NAMES:
            continue
        if name in CORE:
            optional.append(name)
        else:
            check_name(name)
            extensions.append(name)
    required = None
    if REQUIRED_NAMES.issubset(attributes):
        required = itemgetter(*(attributes.index(name) for name in REQUIRED))
    quick = tuple((attributes.index(name), QUICK_CHECKS[name]) for name in optional)
    return _Shape(
        "data" in names,
        "data_base64" in names,
        required,
        quick,
        tuple(optional),
        tuple(extensions),
    )


# A producer sends the same member names every time: their shapes are remembered. Only
# small shapes are kept and a full memory is emptied, so hostile input cannot pin memory.
_SHAPES: Final[dict[tuple[str, ...], _Shape]] = {}
_SHAPES_MAX: Final = 128


def _shape_for(names: tuple[str, ...]) -> _Shape:
    """The shape of ``names``, remembered when it is small."""
    shape = _SHAPES.get(names)
    if shape is None:
        shape = _shape_of(names)
        if len(names) <= 32 and all(len(name) <= 64 for name in names):
            if len(_SHAPES) >= _SHAPES_MAX:
                _SHAPES.clear()
            _SHAPES[names] = shape
    return shape


def _take_event(obj: dict[str, Any], check_json_data: bool, raw: _Raw) -> CloudEvent:
    """Validate a freshly parsed event object and build the event; ``obj`` is consumed.

    The fast path takes the common event: every attribute a string, the required ones
    right, and each optional core attribute passing its quick test (``QUICK_CHECKS``:
    a source, media type or schema that passed the full check before, a time the
    one-regex test accepts). Anything else, valid or not, goes through
    ``_check_members``, which checks member by member and raises the precise error.
    Either way every rule is checked on every event: the memories behind the quick tests
    only hold values that passed the full checks.
    """
    names = tuple(obj)
    try:
        shape = _SHAPES[names]
    except KeyError:
        shape = _shape_for(names)
    value = obj.pop("data") if shape.has_data else None
    encoded = obj.pop("data_base64") if shape.has_base64 else None
    required = shape.required
    values = tuple(obj.values())  # the attributes, in the order of the shape's names
    try:
        _join(values)  # TypeError unless every attribute is a string
    except TypeError:  # a null, Boolean or Integer (or invalid) member
        required = None
    if required is None:
        _check_members(obj, shape)
    else:
        id_, source, specversion, type_ = required(values)
        if specversion != SPECVERSION or not id_ or not type_ or not _known_source(source):
            _check_members(obj, shape)  # raises, or accepts a source new to the memory
        else:
            for index, quick in shape.quick:
                if not quick(values[index]):
                    _check_members(obj, shape)  # raises, or accepts a value new to the memos
                    break
    if encoded is None and type(value) is dict:  # the common case, inlined from _build
        event = _new(CloudEvent)  # CloudEvent._trusted, without the call
        event._attrs = obj
        event._data = None
        event._value = value
        event._raw = raw
        return event
    return _build(obj, value, encoded, check_json_data, raw)


def _build(
    attrs: dict[str, Any], value: Any, encoded: Any, check_json_data: bool, raw: _Raw
) -> CloudEvent:
    """The event of checked ``attrs`` and its ``data`` / ``data_base64`` members.

    ``raw`` is what ``value`` was read from by the fast JSON parser (None if exact).
    """
    if encoded is not None:
        return _with_base64(attrs, value, encoded, check_json_data)
    kind = type(value)
    if kind is dict or kind is list or kind is float:  # may hold numbers orjson rounded
        return _trusted(attrs, None, value, raw)
    if kind is str and not is_json_media_type(attrs.get("datacontenttype")):
        return _trusted(attrs, value.encode("utf-8", "surrogatepass"), value, None)
    return _trusted(attrs, None, value, None)


def _reject_required(obj: dict[str, Any]) -> NoReturn:
    """Raise the precise error for the required attributes that failed the fast checks."""
    for name in REQUIRED:
        value = obj.get(name)
        if value is None:
            raise InvalidCloudEventError(f"{name} is required but missing", field=name)
        check_value(name, value)  # raises the precise message
    raise InvalidCloudEventError("the required attributes are not valid")  # not reached


def _check_members(obj: dict[str, Any], shape: _Shape) -> None:
    """Check every attribute member one by one, raising the precise error for the first
    one that breaks a rule; null members (absent attributes) are removed from ``obj``.
    """
    try:
        id_, source, specversion, type_ = _required_of(obj)  # REQUIRED order
    except KeyError:
        _reject_required(obj)
    if (
        specversion != SPECVERSION
        or type(id_) is not str
        or not id_
        or type(type_) is not str
        or not type_
        or type(source) is not str
    ):
        _reject_required(obj)
    _check_source("source", source)
    nulls: list[str] = []
    for name in shape.optional:
        item = obj[name]
        if type(item) is str:
            STRING_CHECKS[name](name, item)
        elif item is None:
            nulls.append(name)  # null: an absent optional attribute
        else:
            check_value(name, item)  # raises: not a string
    for name in shape.extensions:
        item = obj[name]
        if type(item) is not str:
            if item is None:
                nulls.append(name)  # null: an absent extension
            else:
                check_value(name, item)  # raises unless a Boolean or 32-bit Integer
    for name in nulls:
        del obj[name]


def _with_base64(
    attrs: dict[str, Any], value: Any, encoded: Any, check_json_data: bool
) -> CloudEvent:
    """The event of checked ``attrs`` whose payload is the ``data_base64`` member."""
    if value is not None:
        raise InvalidCloudEventError(
            "data and data_base64 are mutually exclusive; the event has both",
            field="data_base64",
        )
    data = _decode_base64(encoded)
    content_type = attrs.get("datacontenttype")
    if check_json_data and content_type is not None and is_json_media_type(content_type):
        _check_json_bytes(data)
    return CloudEvent._trusted(attrs, data)


def decode_structured(body: bytes, *, check_json_data: bool = False) -> CloudEvent:
    """Decode a structured-mode body (``application/cloudevents+json``)."""
    try:
        obj = loads_fast(body)
    except JSONError as exc:
        raise InvalidCloudEventError(f"the structured body is not valid JSON: {exc}") from None
    if type(obj) is not dict:
        return event_from_json(obj)  # raises: not an object
    return _take_event(obj, check_json_data, body)


class BatchTooLargeError(InvalidCloudEventError):
    """A batch holding more events than the receiver takes at once."""

    http_status = 413
    title = "Payload too large"


def decode_batch(
    body: bytes, *, check_json_data: bool = False, max_events: int | None = None
) -> list[CloudEvent]:
    """Decode a batched-mode body (``application/cloudevents-batch+json``): a JSON array.

    Like a structured body, the batch is read with the fast parser and each event keeps
    its ``data`` value; the events share the work of re-reading the batch exactly, which
    is done once, and only if the batch holds numbers the fast parser may have rounded.
    More than ``max_events`` events is a :class:`BatchTooLargeError`, raised before any
    event is validated.
    """
    try:
        items = loads_fast(body)
    except JSONError as exc:
        raise InvalidCloudEventError(f"the batch body is not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise InvalidCloudEventError(
            f"a batch must be a JSON array of events, got {type(items).__name__}"
        )
    if max_events is not None and len(items) > max_events:
        raise BatchTooLargeError(
            f"the batch holds {len(items)} events, more than {max_events}: send smaller batches"
        )
    events: list[CloudEvent] = []
    batch = FastRead(body)
    for index, item in enumerate(items):
        try:
            if type(item) is not dict:
                event_from_json(item)  # raises: not an object
            events.append(_take_event(item, check_json_data, (batch, index)))
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
    if event._value is not None:
        obj["data"] = event._exact_value()
        return obj
    data = event._data
    if data is None:
        return obj
    content_type: str | None = attrs.get("datacontenttype")  # type: ignore[assignment]
    if is_json_media_type(content_type):
        try:
            obj["data"] = loads(data)
            return obj
        except JSONError:
            pass
    elif is_text_media_type(content_type):
        try:
            obj["data"] = data.decode("utf-8")
            return obj
        except UnicodeDecodeError:
            pass
    obj["data_base64"] = binascii.b2a_base64(data, newline=False).decode("ascii")
    return obj


def encode_structured(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """Headers and body of ``event`` in structured mode."""
    return {"content-type": STRUCTURED_CONTENT_TYPE}, dumps(to_json_dict(event))


def encode_batch(events: Sequence[CloudEvent]) -> tuple[dict[str, str], bytes]:
    """Headers and body of ``events`` in batched mode (a JSON array)."""
    return {"content-type": BATCH_CONTENT_TYPE}, dumps([to_json_dict(event) for event in events])
