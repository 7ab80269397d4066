"""Bodies in and out of the Kubernetes API: JSON (the default), YAML, and protobuf for built-ins."""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from fastapi.responses import Response

from bulut.apis import protobuf
from bulut.apis.status import ApiError

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
_CR_PATCHES = (
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def media_type(content_type: str | None) -> str:
    """The bare media type (``application/json``), empty when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def json_response(
    body: Any, code: int = 200, *, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer (orjson: lists of a thousand objects are common)."""
    return Response(orjson.dumps(body), status_code=code, media_type=media_type, headers=headers)


def wants_yaml(accept: str) -> bool:
    """True when the client prefers YAML over JSON."""
    first = accept.split(",", 1)[0]
    return media_type(first) == YAML


def answer(body: Any, code: int, accept: str, headers: dict[str, str] | None = None) -> Response:
    """JSON, or YAML when asked for."""
    if wants_yaml(accept):
        text = yaml.safe_dump(body, sort_keys=False)
        return Response(text, status_code=code, media_type=YAML, headers=headers)
    return json_response(body, code, headers=headers)


def decode_object(raw: bytes, content_type: str | None) -> Any:
    """A POST/PUT body: JSON (also with no Content-Type), YAML, or protobuf for built-ins."""
    kind = media_type(content_type)
    if kind in ("", JSON, "*/*"):
        return _json(raw)
    if kind in (YAML, "application/x-yaml", "text/yaml"):
        return _yaml(raw)
    if kind == PROTOBUF:
        return protobuf.decode(raw)
    raise ApiError(
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON}, {YAML}, {PROTOBUF}",
        code=415,
    )


def patch_type(content_type: str | None, *, custom: bool) -> str:
    """``json``, ``merge``, ``strategic`` or ``apply``; 415 otherwise (SMP on custom resources)."""
    kind = PATCH_TYPES.get(media_type(content_type))
    if kind is None or (kind == "strategic" and custom):
        accepted = (
            _CR_PATCHES if custom else _CR_PATCHES + ", application/strategic-merge-patch+json"
        )
        raise ApiError(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{accepted}",
            code=415,
        )
    return kind


def decode_patch(raw: bytes, kind: str) -> Any:
    """A PATCH body (apply configurations may be YAML or JSON)."""
    return _yaml(raw) if kind == "apply" else _json(raw)


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as error:
        raise ApiError(f"error decoding the request body as JSON: {error}", code=400) from None


def _yaml(raw: bytes) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as error:
        raise ApiError(f"error decoding the request body as YAML: {error}", code=400) from None
