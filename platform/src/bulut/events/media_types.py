"""``datacontenttype`` rules: RFC 2046 media types and which of them carry JSON."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from bulut.errors import InvalidCloudEventError
from bulut.events.verdicts import KnownValid

# type "/" subtype, both RFC 7230 tokens, then optional parameters (not checked further).
_MEDIA_TYPE = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?"
)

JSON_MEDIA_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"


_MEMO_MAX_LENGTH: Final = 128  # longer values are checked every time, never remembered


def _media_type(value: str) -> bool:
    return _MEDIA_TYPE.fullmatch(value) is not None


def _json_essence(value: str) -> bool:
    essence = value.partition(";")[0].strip().lower()
    return essence.endswith(("/json", "+json"))


def _text_essence(value: str) -> bool:
    essence = value.partition(";")[0].strip().lower()
    return essence.startswith("text/") or essence.endswith(("/xml", "+xml"))


# The same few content types arrive on every event: remember the verdicts on short ones.
_memo_json: Final = lru_cache(maxsize=128)(_json_essence)
_memo_text: Final = lru_cache(maxsize=128)(_text_essence)


#: Media types already found valid; ``KNOWN_MEDIA_TYPES.contains`` is a quick test.
KNOWN_MEDIA_TYPES: Final = KnownValid(max_length=_MEMO_MAX_LENGTH, max_size=128)


def is_media_type(value: str) -> bool:
    """True when ``value`` is ``type/subtype`` with optional parameters."""
    if KNOWN_MEDIA_TYPES.contains(value):
        return True
    if _media_type(value):
        KNOWN_MEDIA_TYPES.remember(value)
        return True
    return False


def check_media_type(name: str, value: str) -> None:
    """Raise naming ``name`` unless ``value`` is ``type/subtype`` with optional parameters."""
    if not is_media_type(value):
        raise InvalidCloudEventError(
            f"{name} must be an RFC 2046 media type like text/plain or application/json, "
            f"got {value!r:.80}",
            field=name,
        )


def is_json_media_type(value: str | None) -> bool:
    """True for JSON content: ``application/json``, ``*/json``, ``*/*+json``.

    ``None`` (no datacontenttype) counts as JSON, as the JSON event format says.
    """
    if value is None:
        return True
    if len(value) <= _MEMO_MAX_LENGTH:
        return _memo_json(value)
    return _json_essence(value)


def is_text_media_type(value: str | None) -> bool:
    """True for media types whose payload is text: ``text/*`` and XML."""
    if value is None:
        return False
    if len(value) <= _MEMO_MAX_LENGTH:
        return _memo_text(value)
    return _text_essence(value)
