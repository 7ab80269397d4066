"""``config-defaults``: the limits and defaults Knative's webhook applies to revisions.

Values and checks follow knative/serving ``pkg/apis/config/defaults.go``: a revision's
``timeoutSeconds`` may not exceed ``max-revision-timeout-seconds`` (600), its
``containerConcurrency`` lies in [0 or 1, ``container-concurrency-max-limit``] (1000; 0
only while ``allow-container-concurrency-zero`` is true). A ConfigMap whose values contradict
each other is refused, naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulut.errors import InvalidResourceError

MAX_INT32 = 2147483647


def _int(data: Mapping[str, object], key: str, default: int) -> int:
    if key not in data:
        return default
    try:
        return int(str(data[key]).strip())
    except ValueError:
        raise InvalidResourceError(
            f"failed to parse {key!r}: {data[key]!r} is not an integer: data.{key}",
            field=f"data.{key}",
        ) from None


def _bool(data: Mapping[str, object], key: str, default: bool) -> bool:
    if key not in data:
        return default
    text = str(data[key]).strip().lower()
    if text in ("true", "1", "t"):
        return True
    if text in ("false", "0", "f"):
        return False
    raise InvalidResourceError(
        f"failed to parse {key!r}: {data[key]!r} is not a boolean: data.{key}", field=f"data.{key}"
    )


@dataclass(frozen=True)
class Defaults:
    """What ``config-defaults`` sets (Knative's defaults unless given)."""

    revision_timeout_seconds: int = 300
    max_revision_timeout_seconds: int = 600
    revision_response_start_timeout_seconds: int = 300
    revision_idle_timeout_seconds: int = 0
    container_concurrency: int = 0
    container_concurrency_max_limit: int = 1000
    allow_container_concurrency_zero: bool = True
    container_name: str = "user-container"

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Defaults:
        """Parse and check a ``config-defaults`` ConfigMap's data."""
        timeout = _int(data, "revision-timeout-seconds", 300)
        maximum = _int(data, "max-revision-timeout-seconds", 600)
        start = _int(data, "revision-response-start-timeout-seconds", timeout)
        idle = _int(data, "revision-idle-timeout-seconds", 0)
        concurrency = _int(data, "container-concurrency", 0)
        limit = _int(data, "container-concurrency-max-limit", 1000)
        if timeout > maximum:
            raise InvalidResourceError(
                f"revision-timeout-seconds ({timeout}) cannot be greater than "
                f"max-revision-timeout-seconds ({maximum}): data.revision-timeout-seconds",
                field="data.revision-timeout-seconds",
            )
        if start > 0 and start > timeout:
            raise InvalidResourceError(
                f"revision-response-start-timeout-seconds ({start}) cannot be greater than "
                f"revision-timeout-seconds ({timeout}): "
                "data.revision-response-start-timeout-seconds",
                field="data.revision-response-start-timeout-seconds",
            )
        if idle > 0 and idle > timeout:
            raise InvalidResourceError(
                f"revision-idle-timeout-seconds ({idle}) cannot be greater than "
                f"revision-timeout-seconds ({timeout}): data.revision-idle-timeout-seconds",
                field="data.revision-idle-timeout-seconds",
            )
        if limit < 1:
            raise InvalidResourceError(
                f"expected 1 <= {limit} <= {MAX_INT32}: data.container-concurrency-max-limit",
                field="data.container-concurrency-max-limit",
            )
        if not 0 <= concurrency <= limit:
            raise InvalidResourceError(
                f"expected 0 <= {concurrency} <= {limit}: data.container-concurrency",
                field="data.container-concurrency",
            )
        return cls(
            revision_timeout_seconds=timeout,
            max_revision_timeout_seconds=maximum,
            revision_response_start_timeout_seconds=start,
            revision_idle_timeout_seconds=idle,
            container_concurrency=concurrency,
            container_concurrency_max_limit=limit,
            allow_container_concurrency_zero=_bool(data, "allow-container-concurrency-zero", True),
            container_name=str(data.get("container-name-template", "user-container")),
        )

    @property
    def min_container_concurrency(self) -> int:
        """0, or 1 when ``allow-container-concurrency-zero`` is false."""
        return 0 if self.allow_container_concurrency_zero else 1
