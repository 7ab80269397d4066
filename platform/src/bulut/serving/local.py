"""One function behind the data plane's validating front, as `kn func run` serves it.

Used by `bulut func run`: the function's own environment, one instance forked from its
zygote (kept at one: min-scale 1), PORT/LISTEN_ADDRESS/K_* set, every Host routed to it,
CloudEvents validated before they reach the function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.serving.zygote import Workload

LOCAL_NAMESPACE = "default"


async def serve_function(
    workload: Workload,
    *,
    name: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    started: Callable[[str], None] = lambda _url: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or the task is cancelled); ``started(url)`` once ready."""
    revision = f"{name}-local"
    spec = RevisionSpec(
        namespace=LOCAL_NAMESPACE,
        name=revision,
        workload=workload,
        cwd=cwd,
        service=name,
        configuration=name,
        env=dict(env or {}),
    )
    runtime = RevisionRuntime(spec, DeciderSpec(min_scale=1, initial_scale=1))
    router = Router({(LOCAL_NAMESPACE, revision): runtime})
    router.default = Split.of(LOCAL_NAMESPACE, name, [(revision, 100)])
    front = Front(router, host=host, port=port)
    await front.start()
    runtime.start()
    try:
        while not runtime.ready:
            await asyncio.sleep(0.01)
        started(f"http://{host}:{front.port}")
        await (stop or asyncio.Event()).wait()
    finally:
        await runtime.aclose()
        await front.stop()
