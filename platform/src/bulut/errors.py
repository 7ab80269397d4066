"""The one root exception of Bulut, and the families below it.

Every error Bulut raises on purpose is a :class:`BulutError`. Edges translate them:
the CLI prints ``error: <message>`` and exits 2, HTTP handlers answer
``application/problem+json`` with the status the subclass names.

    BulutError
    ├── ConfigError                 bad settings, flags or environment
    ├── InvalidInputError           user input that fails validation (names a field/path)
    │   ├── InvalidCloudEventError      a CloudEvent that breaks the spec (names the attribute)
    │   ├── InvalidResourceError        a Knative resource that fails webhook rules (names the path)
    │   ├── ManifestError               YAML that cannot be read (names file, document, path)
    │   └── InvalidValueError           a value a parser cannot read (duration, URL, schedule);
    │                                   also a ValueError, for code that parses with one
    ├── NotFoundError               a resource, function or event that does not exist
    ├── ConflictError               a write that clashes with what exists
    ├── FunctionProjectError        a function folder that is not a valid project
    ├── BuildError                  a revision environment that could not be built
    ├── InstanceError               a function process that failed to start or died
    ├── SecretUnavailableError      Vault/OpenBao unreachable or a path denied
    ├── UnauthorizedError           a missing, expired or invalid bearer token (401)
    ├── ForbiddenError              a valid token that the route's policy does not admit (403)
    ├── RateLimitedError            a client over its token bucket (429, Retry-After)
    └── BackupError                 a backup that is missing, partial or corrupted

Subsystems may define narrower subclasses next to their code; they must derive from
one of the classes here so edges keep a single ``except BulutError``.
"""

from __future__ import annotations

import json


class BulutError(Exception):
    """Root of every error Bulut raises on purpose.

    ``http_status`` is what an HTTP edge answers; ``field`` names the offending
    attribute, field or path when there is one.
    """

    http_status: int = 500
    title: str = "Internal error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ConfigError(BulutError):
    """Settings, flags or environment that cannot work."""

    http_status = 500
    title = "Configuration error"


class InvalidInputError(BulutError):
    """Input that fails validation; ``field`` names what to fix."""

    http_status = 422
    title = "Invalid input"


class InvalidCloudEventError(InvalidInputError):
    """A CloudEvent that breaks the CloudEvents 1.0 spec; ``field`` is the attribute."""

    http_status = 400
    title = "Invalid CloudEvent"


class InvalidResourceError(InvalidInputError):
    """A Knative resource rejected by the webhook rules; ``field`` is the JSON path."""

    title = "Invalid resource"


class ManifestError(InvalidInputError):
    """YAML that cannot be loaded; the message names file, document index and path."""

    title = "Invalid manifest"


class InvalidValueError(InvalidInputError, ValueError):
    """A value a parser cannot read (an ISO-8601 duration, a sink URL, a cron schedule).

    Also a :class:`ValueError`: parsing code that catches ``ValueError`` keeps working.
    """

    title = "Invalid value"


class NotFoundError(BulutError):
    """A resource, function or event that does not exist."""

    http_status = 404
    title = "Not found"


class ConflictError(BulutError):
    """A write that clashes with what exists (already exists, stale resourceVersion)."""

    http_status = 409
    title = "Conflict"


class FunctionProjectError(BulutError):
    """A function folder that is not a valid kn func or functions-framework project."""

    http_status = 422
    title = "Invalid function project"


class BuildError(BulutError):
    """A function environment (revision build) that could not be built."""

    title = "Build failed"


class InstanceError(BulutError):
    """A function instance that failed to start, became unhealthy or died."""

    http_status = 502
    title = "Instance failed"


class SecretUnavailableError(BulutError):
    """Vault/OpenBao is unreachable, or the caller may not read the path."""

    http_status = 503
    title = "Secret unavailable"


class UnauthorizedError(BulutError):
    """No valid bearer token: missing, malformed, expired, wrong issuer/audience or signature."""

    http_status = 401
    title = "Unauthorized"


class ForbiddenError(BulutError):
    """A valid token that the route's policy does not admit."""

    http_status = 403
    title = "Forbidden"


class NetworkPolicyRefusedError(ForbiddenError):
    """The namespace's NetworkPolicies refuse Knative's data path into the revision's pods."""

    title = "Refused by NetworkPolicy"


class RateLimitedError(BulutError):
    """A client that exceeded its rate; ``retry_after`` is in whole seconds."""

    http_status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BackupError(BulutError):
    """A backup that is missing, partial or corrupted, or a restore that cannot proceed."""

    http_status = 422
    title = "Backup error"


PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_document(
    error: BulutError, *, status: int | None = None, instance: str | None = None
) -> dict[str, object]:
    """RFC 9457 problem details for an error; ``field`` is included when known."""
    code = status if status is not None else error.http_status
    body: dict[str, object] = {
        "type": "about:blank",
        "title": error.title,
        "status": code,
        "detail": error.message,
    }
    if error.field is not None:
        body["field"] = error.field
    if instance is not None:
        body["instance"] = instance
    return body


def problem_response(
    error: BulutError, *, status: int | None = None, instance: str | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of a problem+json response, ready for any HTTP server."""
    code = status if status is not None else error.http_status
    document = problem_document(error, status=code, instance=instance)
    body = json.dumps(document).encode()
    headers = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return code, headers, body
