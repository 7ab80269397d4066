"""bulut.controlplane: Knative-shaped REST, SQLModel store, reconcilers and the feed.

``ControlPlane(settings)`` is the whole thing: ``await start()``, serve ``.app``,
``apply``/``get``/``list``/``delete``, and ``watch``/``report`` as a ResourceFeed.
"""

from __future__ import annotations

from .models import ApplyResult
from .plane import ControlPlane

__all__ = ["ApplyResult", "ControlPlane"]
