"""bulut.local: the local platform, assembled (the composition root).

The planes (control plane, serving, eventing, the data-plane front) never import each
other; this package builds them with what each needs from the others (observers, routes,
mounts, revision hooks, the edge) and runs them on one loop. ``bulut up`` and the
integration tests start the platform through :class:`LocalPlatform`; nothing below this
package imports it.
"""

from __future__ import annotations

from .layout import Layout
from .platform import LocalPlatform, load_paths

__all__ = ["Layout", "LocalPlatform", "load_paths"]
