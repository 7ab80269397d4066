"""Hypothesis strategies for valid CloudEvents, shared by the codec's round-trip tests."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from bulut.events import CloudEvent, is_json_media_type
from bulut.events.json_codec import dumps

_CORE = {"id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject"}
_TAKEN = _CORE | {"time", "data"}

#: Unicode text without lone surrogates (which no UTF-8 transport can carry).
texts = st.text(st.characters(codec="utf-8"), max_size=30)
non_empty_texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(lambda name: name not in _TAKEN)
uri_references = st.from_regex(
    r"(https?://[a-z]{1,10}\.example)?(/[A-Za-z0-9._~!$&'()*+,;=:@-]{1,10}){0,3}"
    r"(\?[a-z0-9=&]{1,10})?(#[a-z0-9]{1,8})?",
    fullmatch=True,
).filter(bool)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
timestamps = st.datetimes(timezones=zones).map(lambda moment: moment.isoformat())
media_types = st.sampled_from(
    [
        "application/json",
        "application/vnd.example+json",
        "text/plain",
        "text/csv; charset=utf-8",
        "application/octet-stream",
        "image/png",
    ]
)
typed_values: st.SearchStrategy[str | int | bool] = st.one_of(
    texts, st.booleans(), st.integers(min_value=-(2**31), max_value=2**31 - 1)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def _payloads(content_type: str | None) -> st.SearchStrategy[bytes | None]:
    """Payload bytes that every mode can carry unchanged for ``content_type``.

    JSON content is compact JSON (structured mode re-serializes JSON values compactly);
    JSON ``null`` is left out because structured mode reads ``data: null`` as no data.
    """
    if is_json_media_type(content_type):
        return st.none() | json_values.filter(lambda value: value is not None).map(dumps)
    if content_type is not None and content_type.startswith("text/"):
        return st.none() | non_empty_texts.map(str.encode) | st.binary(min_size=1, max_size=32)
    return st.none() | st.binary(min_size=1, max_size=64)


@st.composite
def events(draw: st.DrawFn, *, typed: bool = True) -> CloudEvent:
    """A valid event: random core attributes, extensions and a payload that fits its type.

    ``typed=False`` keeps extension values strings, as binary mode delivers them.
    """
    content_type = draw(st.none() | media_types)
    attributes: dict[str, str | int | bool | None] = {
        "specversion": "1.0",
        "id": draw(non_empty_texts),
        "source": draw(uri_references),
        "type": draw(non_empty_texts),
        "datacontenttype": content_type,
        "subject": draw(st.none() | non_empty_texts),
        "time": draw(st.none() | timestamps),
        "dataschema": draw(st.none() | st.just("https://example.com/schema.json")),
    }
    attributes.update(draw(st.dictionaries(names, typed_values if typed else texts, max_size=4)))
    return CloudEvent(attributes, draw(_payloads(content_type)))
