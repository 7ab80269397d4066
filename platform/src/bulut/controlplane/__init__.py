"""bulut.controlplane: Knative-shaped REST, SQLModel store, reconcilers and the feed.

``ControlPlane(settings)`` is the whole thing: ``await start()``, serve ``.app``,
``apply``/``get``/``list``/``delete``, and ``watch``/``report`` as a ResourceFeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import ApplyResult
    from .plane import ControlPlane


def __getattr__(name: str) -> Any:
    """Import the plane on first use: CLI commands only need light modules such as kinds."""
    if name == "ControlPlane":
        from .plane import ControlPlane

        return ControlPlane
    if name == "ApplyResult":
        from .models import ApplyResult

        return ApplyResult
    raise AttributeError(name)


__all__ = ["ApplyResult", "ControlPlane"]
