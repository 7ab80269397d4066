"""metav1 ``Status`` objects: how the Kubernetes API answers errors (and some successes).

:class:`ApiError` carries a reason and code exactly as kube-apiserver names them;
:func:`status_of` turns any :class:`~bulut.errors.BulutError` into a ``Status`` body:
invalid input becomes ``Invalid`` (422) with ``details.causes[].field`` naming the path,
a missing object ``NotFound``, a clash ``Conflict`` or ``AlreadyExists``.
"""

from __future__ import annotations

from typing import Any

from bulut.errors import (
    BulutError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
)

from .registry import ApiResource

Status = dict[str, Any]

_REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    504: "Timeout",
}


class ApiError(BulutError):
    """An error answered as kube-apiserver answers it: ``reason``, ``code`` and ``details``."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.http_status = code
        self.reason = reason or _REASONS.get(code, "")
        self.details = details or {}
        self.title = self.reason or "Error"


class AlreadyExistsError(ConflictError):
    """A create of a name that is taken (``AlreadyExists``, 409)."""


class FieldConflictError(ConflictError):
    """A server-side apply that would change fields another manager owns (409)."""

    def __init__(self, message: str, conflicts: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.conflicts = conflicts  # (manager description, field path)


def status(
    message: str, *, code: int, reason: str = "", details: dict[str, Any] | None = None
) -> Status:
    """A ``Status`` body with ``status: Failure`` (``Success`` for 2xx)."""
    body: Status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    if code < 400:
        body.pop("message")
        body.pop("reason")
    return body


def status_of(error: BulutError, resource: ApiResource | None = None, name: str = "") -> Status:
    """The ``Status`` for an error about one object (or collection) of ``resource``."""
    group, plural = (resource.group, resource.plural) if resource else ("", "")
    who = {k: v for k, v in (("name", name), ("group", group), ("kind", plural)) if v}
    if isinstance(error, ApiError):
        details = error.details if error.details else {}
        return status(error.message, code=error.http_status, reason=error.reason, details=details)
    if isinstance(error, FieldConflictError):
        causes = [
            {"reason": "FieldManagerConflict", "message": f"conflict with {owner}", "field": path}
            for owner, path in error.conflicts
        ]
        return status(error.message, code=409, reason="Conflict", details={"causes": causes})
    if isinstance(error, AlreadyExistsError):
        return status(error.message, code=409, reason="AlreadyExists", details=who)
    if isinstance(error, ConflictError):
        return status(error.message, code=409, reason="Conflict", details=who)
    if isinstance(error, NotFoundError):
        return status(error.message, code=404, reason="NotFound", details=who)
    if isinstance(error, InvalidInputError):
        code = error.http_status if error.http_status in (400, 413, 422) else 422
        details = dict(who)
        message = error.message
        if resource is not None and code == 422:
            details["kind"] = resource.kind
            qualified = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
            cause = error.message.removesuffix(f": {error.field}") if error.field else ""
            where = f"{error.field}: {cause}" if error.field else error.message
            message = f'{qualified} "{name}" is invalid: {where}'
        if error.field:
            cause_text = error.message.removesuffix(f": {error.field}")
            details["causes"] = [
                {"reason": "FieldValueInvalid", "message": cause_text, "field": error.field}
            ]
        return status(message, code=code, reason=_REASONS[code], details=details)
    if isinstance(error, UnauthorizedError):
        return status("Unauthorized", code=401, reason="Unauthorized")
    if isinstance(error, ForbiddenError):
        return status(error.message, code=403, reason="Forbidden", details=who)
    if isinstance(error, RateLimitedError):
        return status(
            error.message,
            code=429,
            reason="TooManyRequests",
            details={"retryAfterSeconds": error.retry_after},
        )
    code = error.http_status if 400 <= error.http_status < 600 else 500
    text = error.message if code != 500 else f"Internal error occurred: {error.message}"
    internal = {"causes": [{"message": error.message}]} if code == 500 else None
    return status(text, code=code, reason=_REASONS.get(code, ""), details=internal)


def not_found(resource_name: str, name: str, *, group: str, plural: str) -> ApiError:
    """``<plural>.<group> "<name>" not found``."""
    return ApiError(
        f'{resource_name} "{name}" not found',
        code=404,
        details={"name": name, "group": group, "kind": plural},
    )


def bad_request(message: str) -> ApiError:
    """A 400 BadRequest."""
    return ApiError(message, code=400)


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """A 422 Invalid with causes ``(reason, message, field)``."""
    qualified = f"{kind}.{group}" if group else kind
    texts = [f"{field}: {message}" for _, message, field in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return ApiError(
        f'{qualified} "{name}" is invalid: {joined}',
        code=422,
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": r, "message": m, "field": f} for r, m, f in causes],
        },
    )
