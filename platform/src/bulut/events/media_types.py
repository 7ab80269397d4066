"""``datacontenttype`` rules: RFC 2046 media types and which of them carry JSON."""

from __future__ import annotations

import re
from functools import lru_cache

from bulut.errors import InvalidCloudEventError

# type "/" subtype, both RFC 7230 tokens, then optional parameters (not checked further).
_MEDIA_TYPE = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?"
)

JSON_MEDIA_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"


def check_media_type(name: str, value: str) -> None:
    """Raise naming ``name`` unless ``value`` is ``type/subtype`` with optional parameters."""
    if _MEDIA_TYPE.fullmatch(value) is None:
        raise InvalidCloudEventError(
            f"{name} must be an RFC 2046 media type like text/plain or application/json, "
            f"got {value!r:.80}",
            field=name,
        )


@lru_cache(maxsize=256)
def is_json_media_type(value: str | None) -> bool:
    """True for JSON content: ``application/json``, ``*/json``, ``*/*+json``.

    ``None`` (no datacontenttype) counts as JSON, as the JSON event format says.
    """
    if value is None:
        return True
    essence = value.partition(";")[0].strip().lower()
    return essence.endswith(("/json", "+json"))


@lru_cache(maxsize=256)
def is_text_media_type(value: str | None) -> bool:
    """True for media types whose payload is text: ``text/*`` and XML."""
    if value is None:
        return False
    essence = value.partition(";")[0].strip().lower()
    return essence.startswith("text/") or essence.endswith(("/xml", "+xml"))
