"""`--watch`: every save of a function's files makes its new code serve, or says why not.

A save is seen by the OS's file notifications (``watchfiles``, debounced 50 ms). Then:

* a dependency file changed (pyproject.toml, requirements.txt): the environment is rebuilt
  first, with progress, so the new Revision starts on a ready environment;
* a Python file does not compile: nothing is deployed, the error is shown, the running
  Revision keeps serving;
* otherwise the Service's template gets the new code digest (a merge patch: an overlay's
  customisations stay as applied) or, with ``render``, the whole func.yaml rendering; a new
  Revision starts and takes the traffic once Ready, while requests in flight finish on the old
  one. A Revision that fails (an import error) leaves the old one serving, as a failed rollout
  does on a cluster.

Each outcome is written on the Service as the annotation ``bulut.dev/watch`` (JSON: last
reload, revision, seconds, error), which the dashboard shows.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bulut.errors import BulutError
from bulut.functions.environments import ensure_environment
from bulut.functions.project import load_project

from .deploy import (
    SOURCE_DIGEST,
    Progress,
    Resources,
    current_revision,
    function_documents,
    wait_for_rollout,
)
from .source import is_source, source_digest

WATCH_ANNOTATION = "bulut.dev/watch"
READY_PROBE_MS = 100  # the watch yields (empty) this often, so readiness is known
DEPENDENCY_FILES = frozenset({"pyproject.toml", "requirements.txt", "setup.py", "setup.cfg"})


@dataclass(frozen=True)
class Reload:
    """The outcome of one save."""

    service: str
    at: str
    seconds: float
    revision: str | None = None
    error: str | None = None
    rebuilt: bool = False

    @property
    def ok(self) -> bool:
        """Whether the new code serves."""
        return self.error is None


def syntax_error(files: Iterable[Path]) -> str | None:
    """``file:line: message`` of the first changed Python file that does not compile."""
    for path in sorted(files):
        if path.suffix != ".py" or not path.is_file():
            continue
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            return f"{path}:{error.lineno}: {error.msg}"
    return None


class FunctionWatcher:
    """Redeploys one function on every save of its files."""

    def __init__(
        self,
        folder: Path,
        service: str,
        namespace: str,
        resources: Resources,
        *,
        builds_dir: Path,
        render: bool = False,
        progress: Progress | None = None,
        on_reload: Callable[[Reload], None] | None = None,
        debounce_ms: int = 50,
    ) -> None:
        self.folder = folder.resolve()
        self.service = service
        self.namespace = namespace
        self.resources = resources
        self.builds_dir = builds_dir
        self.render = render
        self.progress = progress or (lambda _line: None)
        self.on_reload = on_reload or (lambda _reload: None)
        self.debounce_ms = debounce_ms
        self.digest: str | None = None

    async def run(
        self, stop: asyncio.Event | None = None, *, on_ready: Callable[[], None] | None = None
    ) -> None:
        """Watch until ``stop`` is set (or the task is cancelled); ``on_ready`` is called once
        the OS notifications are in place (a save from then on is seen)."""
        import watchfiles

        self.digest = await asyncio.to_thread(source_digest, self.folder)
        ready = on_ready
        async for changes in watchfiles.awatch(
            self.folder,
            debounce=self.debounce_ms,
            step=10,
            stop_event=stop,
            rust_timeout=READY_PROBE_MS,
            yield_on_timeout=True,
            watch_filter=lambda _change, path: is_source(Path(path), self.folder),
        ):
            if ready is not None:  # the first yield: the watch is set up
                ready()
                ready = None
            if changes:
                await self.reload({Path(path) for _, path in changes})

    async def reload(self, changed: set[Path]) -> Reload | None:
        """React to one batch of changed files; None when the code did not change."""
        started = time.monotonic()
        digest = await asyncio.to_thread(source_digest, self.folder)
        if digest == self.digest:
            return None
        rebuilt = False
        try:
            if any(path.name in DEPENDENCY_FILES for path in changed):
                self.progress(f"{self.service}: dependencies changed, rebuilding the environment")
                await asyncio.to_thread(
                    ensure_environment,
                    load_project(self.folder),
                    self.builds_dir,
                    progress=self.progress,
                )
                rebuilt = True
            error = await asyncio.to_thread(syntax_error, changed)
            if error is not None:
                return await self._report(Reload(self.service, _now(), 0.0, error=error))
            before = await current_revision(self.resources, self.namespace, self.service)
            await self._roll(digest, changed)
            rollout = await wait_for_rollout(
                self.resources,
                self.namespace,
                self.service,
                before=before,
                started=started,
                progress=self.progress,
            )
        except BulutError as failure:
            reload = Reload(
                self.service,
                _now(),
                time.monotonic() - started,
                error=failure.message,
                rebuilt=rebuilt,
            )
            return await self._report(reload)
        self.digest = digest
        reload = Reload(
            self.service, _now(), rollout.seconds, revision=rollout.revision, rebuilt=rebuilt
        )
        return await self._report(reload)

    async def _roll(self, digest: str, changed: set[Path]) -> None:
        if self.render and any(path.name == "func.yaml" for path in changed):
            documents = function_documents(self.folder, digest=digest)
            await self.resources.apply(documents, namespace=self.namespace)
            return
        patch = {"spec": {"template": {"metadata": {"annotations": {SOURCE_DIGEST: digest}}}}}
        await self.resources.patch("Service", self.namespace, self.service, patch)

    async def _report(self, reload: Reload) -> Reload:
        state = json.dumps({k: v for k, v in asdict(reload).items() if v is not None})
        patch = {"metadata": {"annotations": {WATCH_ANNOTATION: state}}}
        try:
            await self.resources.patch("Service", self.namespace, self.service, patch)
        except BulutError as error:
            self.progress(f"{self.service}: could not record the watch state: {error.message}")
        self.on_reload(reload)
        return reload


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
