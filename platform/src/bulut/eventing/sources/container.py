"""Runs ContainerSources: each container a local process, kept running as a Deployment would.

Knative makes a Deployment ``<name>-deployment`` from ``spec.template`` and a SinkBinding
that injects ``K_SINK`` and ``K_CE_OVERRIDES``; the program posts CloudEvents to
``$K_SINK`` itself. Locally each container is a process (:mod:`bulut.eventing.programs`)
with the same variables, run by :mod:`bulut.processes.supervise`: restarted when it exits with the
kubelet's crash-loop back-off (10 s doubling to 5 min, reset after 10 min of running),
stopped with SIGTERM then SIGKILL after the pod's grace period. Its output goes to
``<state>/logs/containersources/<ns>/<name>.log``. The source's ``ReceiveAdapterReady``
is reported: True while every container runs, Unknown ``DeploymentUnavailable`` while one
waits to restart, False ``ProgramNotFound`` when an image has no local folder.

With ``authentication-oidc`` on (an ``issuer``), the programs post with the identity of the
source's SinkBinding (``status.auth``) as Knative's bound Deployment does: a token for the
sink's audience (``status.sinkAudience``) is kept fresh in
``<tokens>/<ns>/<name>/token`` (0600) and named by ``K_OIDC_TOKEN_FILE``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.edge.issuer import PlatformIssuer
from bulut.edge.projection import TOKEN_FILE_ENV, ProjectedToken
from bulut.errors import BulutError
from bulut.manifests.feed import ResourceFeed
from bulut.processes import supervise as processes
from bulut.processes.backoff import KUBELET, BackOff

from ..programs import Program, plan_program
from .tasks import SourceTasks

log = logging.getLogger(__name__)

KIND = "ContainerSource"
CONDITION = "ReceiveAdapterReady"
DEFAULT_GRACE = 30.0


@dataclass(frozen=True)
class ContainerSpec:
    """A ContainerSource as its runner needs it."""

    namespace: str
    name: str
    containers: tuple[Mapping[str, Any], ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    sink_uri: str | None = None
    overrides: str | None = None  # K_CE_OVERRIDES (JSON)
    grace: float = DEFAULT_GRACE
    service_account: str | None = None  # status.auth.serviceAccountName (OIDC on)
    sink_audience: str | None = None  # status.sinkAudience (OIDC on)

    @property
    def subject(self) -> str | None:
        """The ``sub`` of the programs' token, when the source has an identity."""
        if not self.service_account:
            return None
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    @property
    def injected(self) -> dict[str, str]:
        """What the SinkBinding puts in every container."""
        env = {"K_SINK": self.sink_uri} if self.sink_uri else {}
        if self.overrides:
            env["K_CE_OVERRIDES"] = self.overrides
        return env


def parse_containersource(obj: Mapping[str, Any]) -> ContainerSpec:
    """Read a ContainerSource object (``status.sinkUri`` is resolved by the control plane)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    pod = template.get("spec") or {}
    overrides = spec.get("ceOverrides")
    grace = pod.get("terminationGracePeriodSeconds")
    status = obj.get("status") or {}
    return ContainerSpec(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta.get("name") or ""),
        containers=tuple(pod.get("containers") or ()),
        annotations={
            str(k): str(v)
            for k, v in ((template.get("metadata") or {}).get("annotations") or {}).items()
        },
        sink_uri=status.get("sinkUri"),
        overrides=json.dumps(overrides, separators=(",", ":"), sort_keys=True)
        if overrides
        else None,
        grace=float(grace) if isinstance(grace, int | float) else DEFAULT_GRACE,
        service_account=(status.get("auth") or {}).get("serviceAccountName"),
        sink_audience=status.get("sinkAudience"),
    )


class ContainerSources:
    """The running ContainerSources of one data plane."""

    def __init__(
        self,
        feed: ResourceFeed,
        *,
        functions_dir: Path,
        logs_dir: Path,
        backoff: BackOff = KUBELET,
        issuer: PlatformIssuer | None = None,
        tokens_dir: Path | None = None,
    ) -> None:
        self._feed = feed
        self.issuer = issuer
        self.tokens_dir = tokens_dir or logs_dir.parent / "oidc"
        self.functions_dir = functions_dir
        self.logs_dir = logs_dir
        self.backoff = backoff
        self._sources = SourceTasks[ContainerSpec](KIND, self._supervise)
        self.restarts: dict[tuple[str, str], int] = {}

    def apply(self, spec: ContainerSpec) -> None:
        """Start a source, or restart its processes when its spec or sink changed."""
        self._sources.apply((spec.namespace, spec.name), spec)

    def remove(self, key: tuple[str, str]) -> None:
        """Stop a source's processes (in the background: SIGTERM, then SIGKILL)."""
        self._sources.remove(key)

    async def aclose(self) -> None:
        """Stop every source and wait for its processes to end."""
        await self._sources.aclose()

    def token(self, spec: ContainerSpec) -> ProjectedToken | None:
        """The source's projected token (auth on, with an identity and a sink audience)."""
        if self.issuer is None or spec.subject is None or not spec.sink_audience:
            return None
        path = self.tokens_dir / spec.namespace / spec.name / "token"
        return ProjectedToken(self.issuer, spec.subject, spec.sink_audience, path)

    async def _supervise(self, spec: ContainerSpec) -> None:
        injected = spec.injected
        token = self.token(spec)
        if token is not None:
            token.write()
            injected[TOKEN_FILE_ENV] = str(token.path)
        try:
            programs = [
                plan_program(container, spec.annotations, self.functions_dir, injected)
                for container in spec.containers
            ]
        except BulutError as error:
            await self._report(spec, "False", "ProgramNotFound", str(error))
            return
        running: set[str] = set()
        await asyncio.gather(
            *(self._keep_running(spec, p, running, len(programs)) for p in programs),
            *([token.keep_fresh()] if token is not None else []),
        )

    async def _keep_running(
        self, spec: ContainerSpec, program: Program, running: set[str], total: int
    ) -> None:
        key = (spec.namespace, spec.name)
        logfile = self.logs_dir / spec.namespace / f"{spec.name}.log"
        backoff = processes.Restarts(self.backoff)

        async def started() -> None:
            running.add(program.name)
            if len(running) == total:
                await self._report(spec, "True")

        while True:
            began = time.monotonic()
            code = await processes.run(
                program.argv,
                cwd=program.cwd,
                env=program.env,
                log=logfile,
                grace=spec.grace,
                started=started,
            )
            running.discard(program.name)
            delay = backoff.next_delay(time.monotonic() - began)
            self.restarts[key] = self.restarts.get(key, 0) + 1
            message = (
                f"container {program.name} exited with code {code}; restarting in {delay:g} s "
                "(back-off)"
            )
            log.warning("containersource %s/%s: %s", spec.namespace, spec.name, message)
            await self._report(spec, "Unknown", "DeploymentUnavailable", message)
            await asyncio.sleep(delay)

    async def _report(
        self, spec: ContainerSpec, status: str, reason: str = "", message: str = ""
    ) -> None:
        condition = {"type": CONDITION, "status": status, "reason": reason, "message": message}
        try:
            await self._feed.report(KIND, spec.namespace, spec.name, {"conditions": [condition]})
        except Exception as error:  # the source may be gone already
            log.info("containersource %s/%s: report failed: %s", spec.namespace, spec.name, error)
