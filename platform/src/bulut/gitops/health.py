"""Health of live objects, as Argo CD assesses it: custom Lua checks, run by a real Lua.

The cluster's Argo CD reads ``resource.customizations.health.<group>_<Kind>`` scripts from
``argocd-cm``; the repository keeps one script for the Knative kinds in
``gitops/argocd/health-check.lua``. Locally the same file runs in Lua 5.4 (the ``lupa``
package), with ``obj`` in scope and the table it returns read as ``{status, message}``, so a
local sync waits on exactly the check the cluster uses, and the check itself is exercised.

The script runs with no ``os``, ``io``, ``package``, ``require``, ``dofile`` or ``loadfile``:
a health check reads the object and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulut.errors import ConfigError

from .plan import Health
from .tracking import ObjectRef

# The groups whose kinds Argo CD gets the repository's script for (gitops/argocd).
KNATIVE_GROUPS = (
    "serving.knative.dev",
    "eventing.knative.dev",
    "messaging.knative.dev",
    "flows.knative.dev",
    "sources.knative.dev",
    "sinks.knative.dev",
)
_UNSAFE_GLOBALS = ("os", "io", "package", "require", "dofile", "loadfile", "load", "debug")


@dataclass(frozen=True)
class Assessment:
    """A health status and the message that explains it."""

    status: Health
    message: str = ""


class HealthCheck:
    """Runs one Lua health script for the Knative kinds; other kinds are Healthy once live."""

    def __init__(self, script: str, *, groups: tuple[str, ...] = KNATIVE_GROUPS) -> None:
        import lupa

        self._groups = groups
        self._lock = threading.Lock()  # a Lua state is not thread-safe
        self._lua = lupa.LuaRuntime(register_eval=False, unpack_returned_tuples=True)
        lua_globals = self._lua.globals()
        for name in _UNSAFE_GLOBALS:
            lua_globals[name] = None
        try:
            self._check = self._lua.execute(f"return function(obj)\n{script}\nend")
        except lupa.LuaError as error:
            raise ConfigError(f"the health check does not compile: {error}") from None

    @classmethod
    def from_file(cls, path: Path) -> HealthCheck:
        """The check in a Lua file (``gitops/argocd/health-check.lua``)."""
        try:
            return cls(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read the health check {path}: {error.strerror}") from None

    def applies_to(self, ref: ObjectRef) -> bool:
        """Whether the script judges this kind (Argo CD maps it per group and kind)."""
        return ref.group in self._groups

    def assess(self, live: Mapping[str, Any] | None) -> Assessment:
        """The health of one object (Missing when it is not live)."""
        if live is None:
            return Assessment(Health.MISSING, "not live")
        if not self.applies_to(ObjectRef.of(live)):
            return Assessment(Health.HEALTHY)
        import lupa

        with self._lock:
            try:
                result = self._check(self._lua.table_from(dict(live), recursive=True))
            except lupa.LuaError as error:
                return Assessment(Health.DEGRADED, f"health check failed: {error}")
            status = str(result["status"]) if result is not None else ""
            message = str(result["message"] or "") if result is not None else ""
        try:
            return Assessment(Health(status), message)
        except ValueError:
            return Assessment(Health.DEGRADED, f"health check returned status {status!r}")
