"""Structured and batched modes: the CloudEvents JSON event format (json-format.md §3).

``data`` holds a JSON value when the datacontenttype is JSON (or absent), a string for
other text; ``data_base64`` holds binary data. The two are mutually exclusive. A
structured event keeps its ``data`` JSON value, so re-encoding it neither re-parses nor
re-serializes the payload.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any, Final, NoReturn, TypeAlias

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    CORE,
    REQUIRED,
    REQUIRED_NAMES,
    SPECVERSION,
    STRING_CHECKS,
    StringCheck,
    check_name,
    check_value,
)
from bulut.events.event import CloudEvent
from bulut.events.json_codec import JSONError, dumps, loads, loads_fast
from bulut.events.media_types import (
    BATCH_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    is_json_media_type,
    is_text_media_type,
)

_FIRST: Final = ("specversion", "id", "source", "type")


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
    return _take_event(dict(obj), check_json_data, None)


def _reject_required(obj: dict[str, Any]) -> NoReturn:
    """Raise the precise error for the required attributes that failed the fast checks."""
    for name in REQUIRED:
        value = obj.get(name)
        if value is None:
            raise InvalidCloudEventError(f"{name} is required but missing", field=name)
        check_value(name, value)  # raises the precise message
    raise InvalidCloudEventError("the required attributes are not valid")  # not reached


_required_of: Final = itemgetter(*REQUIRED)


Shape: TypeAlias = tuple[tuple[tuple[str, StringCheck], ...], tuple[str, ...], bool]
_check_source: Final = STRING_CHECKS["source"]


class _Unremembered(Exception):
    """Carries a shape too big to remember out of the memo (lru_cache keeps no errors)."""

    def __init__(self, shape: Shape) -> None:
        super().__init__()
        self.shape = shape


@lru_cache(maxsize=128)
def _memo_shape_of(names: tuple[str, ...]) -> Shape:
    """``_shape_of`` remembered: a producer sends the same shape every time.

    A shape with many or long names is computed but not kept, so hostile input cannot
    pin memory: it leaves through ``_Unremembered``.
    """
    shape = _shape_of(names)
    if len(names) > 32 or any(len(name) > 64 for name in names):
        raise _Unremembered(shape)
    return shape


def _shape_of(names: tuple[str, ...]) -> Shape:
    """Split an event object's member names: optional core attributes with their checks,
    extension names, and whether a data member is present. Raises for an illegal name.
    """
    optional: list[tuple[str, StringCheck]] = []
    extensions: list[str] = []
    has_data = False
    for name in names:
        if name == "data" or name == "data_base64":
            has_data = True
        elif name in REQUIRED_NAMES:
            continue
        elif name in CORE:
            optional.append((name, STRING_CHECKS[name]))
        else:
            check_name(name)
            extensions.append(name)
    return tuple(optional), tuple(extensions), has_data


def _take_event(obj: dict[str, Any], check_json_data: bool, raw: bytes | None) -> CloudEvent:
    """Validate a freshly parsed event object and build the event; ``obj`` is consumed."""
    try:
        optional, extensions, has_data = _memo_shape_of(tuple(obj))
    except _Unremembered as big:
        optional, extensions, has_data = big.shape
    if has_data:
        value = obj.pop("data", None)
        encoded = obj.pop("data_base64", None)
    else:
        value = encoded = None
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
    nulls: list[str] | None = None
    for name, check in optional:
        item = obj[name]
        if type(item) is str:
            check(name, item)
        elif item is None:
            nulls = [*(nulls or ()), name]  # null: an absent optional attribute
        else:
            check_value(name, item)  # raises: not a string
    for name in extensions:
        item = obj[name]
        if type(item) is not str:
            if item is None:
                nulls = [*(nulls or ()), name]
            else:
                check_value(name, item)
    if nulls is not None:
        for name in nulls:
            del obj[name]
    if encoded is not None:
        return _with_base64(obj, value, encoded, check_json_data)
    kind = type(value)
    if kind is dict or kind is list or kind is float:  # may hold numbers orjson rounded
        return CloudEvent._trusted(obj, None, value, raw)
    if kind is str and not is_json_media_type(obj.get("datacontenttype")):
        return CloudEvent._trusted(obj, value.encode("utf-8", "surrogatepass"), value)
    return CloudEvent._trusted(obj, None, value)


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


def decode_batch(body: bytes, *, check_json_data: bool = False) -> list[CloudEvent]:
    """Decode a batched-mode body (``application/cloudevents-batch+json``): a JSON array."""
    try:
        items = loads(body)
    except JSONError as exc:
        raise InvalidCloudEventError(f"the batch body is not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise InvalidCloudEventError(
            f"a batch must be a JSON array of events, got {type(items).__name__}"
        )
    events: list[CloudEvent] = []
    for index, item in enumerate(items):
        try:
            if type(item) is not dict:
                event_from_json(item)  # raises: not an object
            events.append(_take_event(item, check_json_data, None))
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
