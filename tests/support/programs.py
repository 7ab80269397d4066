"""A local platform for the tests of what runs programs and watches the API: ApiServerSource,
ContainerSource and JobSink.

``programs_platform(tmp_path, {"name": SOURCE})`` writes each program as
``<tmp_path>/functions/<name>/__main__.py`` (an image named ``name`` maps to that folder, the
catalog's rule), starts a whole platform over that functions folder, and shrinks the
kubelet's and the Job controller's back-offs to ``backoff`` seconds. One platform serves a
whole test module (its fixture is module-scoped): tests use names of their own.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bulut.local import LocalPlatform
from bulut.processes.backoff import JOB_CONTROLLER, KUBELET
from tests.support.platform import local_settings, running_platform

BACKOFF = 0.05


def program_folders(root: Path, programs: Mapping[str, str]) -> Path:
    """``root`` with one folder per program holding its ``__main__.py``."""
    for name, source in programs.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__main__.py").write_text(textwrap.dedent(source))
    return root


@asynccontextmanager
async def programs_platform(
    tmp_path: Path, programs: Mapping[str, str] | None = None, *, backoff: float = BACKOFF
) -> AsyncIterator[LocalPlatform]:
    """A running platform whose functions folder holds ``programs``; back-offs shrunk."""
    functions = program_folders(tmp_path / "functions", programs or {})
    settings = local_settings(tmp_path, functions_dir=functions)
    async with running_platform(settings, check_images=False) as local:
        local.eventing.containers.backoff = replace(KUBELET, initial=backoff)
        local.eventing.jobsinks.backoff = replace(JOB_CONTROLLER, initial=backoff)
        yield local
