"""The three extensions Knative adds to an event sent to a dead-letter sink (pure).

``knativeerrordest`` is the URL the failed request went to, ``knativeerrorcode`` the
last HTTP status (500 when there was no response), ``knativeerrordata`` the last
response body, base64-encoded and cut at 1024 characters (omitted when empty).
"""

from __future__ import annotations

import base64

ERROR_DATA_MAX = 1024
NO_RESPONSE_CODE = 500


def error_extensions(destination: str, code: int, body: bytes) -> dict[str, str]:
    """``ce-*`` attribute values (as strings) describing the last failed attempt."""
    extensions = {
        "knativeerrordest": destination,
        "knativeerrorcode": str(code if code > 0 else NO_RESPONSE_CODE),
    }
    if body:
        extensions["knativeerrordata"] = base64.b64encode(body).decode()[:ERROR_DATA_MAX]
    return extensions
