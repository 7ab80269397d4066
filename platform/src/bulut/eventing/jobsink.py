"""JobSink's data plane: each accepted event starts one run of the job (knative-kinds §10).

Knative's shared ``job-sink`` service answers ``POST /<ns>/<name>``: a valid CloudEvent
with a new (source, id) creates a Job ``<jobsink>-<md5(source+id)>`` whose pods mount the
event (structured JSON) at ``/etc/jobsink-event/event`` and get ``K_EVENT_PATH`` (that
directory) and ``K_EXECUTION_MODE=batch``; the answer is 202 with a ``Location`` that a
``GET`` polls (200 Complete, 400 Failed, 202 running). The same (source, id) again is 202
with the same Location and no new run; an unknown JobSink or a bad event is 400.

Locally a run is the job's containers as processes (:mod:`bulut.eventing.programs`, run by
:mod:`bulut.processes.supervise`) with
the event file in ``<state>/jobsink/<ns>/<job>/event`` and ``K_EVENT_PATH`` naming that
directory. A failed pod is retried as the Job controller does, up to ``backoffLimit``
failures (default 6) with its back-off (10 s doubling, at most 6 min); then the run is
Failed. Runs are reported into the JobSink's ``status.jobs`` (the latest 20).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bulut.errors import BulutError, problem_response
from bulut.events import decode, encode_structured
from bulut.httpd import Request
from bulut.manifests.feed import ResourceFeed
from bulut.processes import supervise as processes
from bulut.processes.backoff import JOB_CONTROLLER, BackOff

from .programs import Program, plan_program

log = logging.getLogger(__name__)

KIND = "JobSink"
HOST = "job-sink.knative-eventing"
EVENT_FILE = "event"
DEFAULT_BACKOFF_LIMIT = 6
STOP_GRACE = 5.0
REPORTED_RUNS = 20
MAX_EVENT_BYTES = 4 * 1024 * 1024
RUNNING, COMPLETE, FAILED = "Running", "Complete", "Failed"
_NO_HEADERS: list[tuple[bytes, bytes]] = []


@dataclass(frozen=True)
class JobSinkSpec:
    """A JobSink's job as its runs need it."""

    namespace: str
    name: str
    containers: tuple[Mapping[str, Any], ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    backoff_limit: int = DEFAULT_BACKOFF_LIMIT


def parse_jobsink(obj: Mapping[str, Any]) -> JobSinkSpec:
    """Read a JobSink object (admitted: its job is valid)."""
    meta = obj.get("metadata") or {}
    job_spec = (((obj.get("spec") or {}).get("job") or {}).get("spec")) or {}
    template = job_spec.get("template") or {}
    limit = job_spec.get("backoffLimit")
    return JobSinkSpec(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta.get("name") or ""),
        containers=tuple((template.get("spec") or {}).get("containers") or ()),
        annotations={
            str(k): str(v)
            for k, v in ((template.get("metadata") or {}).get("annotations") or {}).items()
        },
        backoff_limit=limit if isinstance(limit, int) and limit >= 0 else DEFAULT_BACKOFF_LIMIT,
    )


def job_name(jobsink: str, source: str, event_id: str) -> str:
    """``<jobsink>-<md5 hex of source+id>``, hashed to 63 characters as kmeta.ChildName does."""
    suffix = "-" + hashlib.md5((source + event_id).encode(), usedforsecurity=False).hexdigest()
    name = jobsink + suffix
    if len(name) <= 63:
        return name
    digest = hashlib.md5(jobsink.encode(), usedforsecurity=False).hexdigest()
    return (jobsink[: 63 - len(suffix) - len(digest)] + digest + suffix)[:63]


def location(namespace: str, name: str, source: str, event_id: str) -> str:
    """The path a client polls for a run's outcome."""
    return (
        f"/namespaces/{namespace}/name/{name}/sources/{quote(source, safe='')}"
        f"/ids/{quote(event_id, safe='')}"
    )


def parse_location(path: str) -> tuple[str, str, str, str] | None:
    """(namespace, name, source, id) of a Location path, None for any other path."""
    parts = path.split("/")
    if (
        len(parts) != 9
        or parts[0]
        or (parts[1], parts[3], parts[5], parts[7])
        != (
            "namespaces",
            "name",
            "sources",
            "ids",
        )
    ):
        return None
    return parts[2], parts[4], unquote(parts[6]), unquote(parts[8])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Run:
    """One event's job run."""

    namespace: str
    jobsink: str
    job: str
    source: str
    event_id: str
    started: str = field(default_factory=_now)
    state: str = RUNNING
    failed: int = 0
    succeeded: int = 0
    completed: str | None = None
    reason: str = ""

    def record(self) -> dict[str, Any]:
        """The run as ``status.jobs[]`` shows it."""
        entry: dict[str, Any] = {
            "name": self.job,
            "source": self.source,
            "id": self.event_id,
            "status": self.state,
            "startTime": self.started,
            "failed": self.failed,
            "succeeded": self.succeeded,
        }
        if self.completed:
            entry["completionTime"] = self.completed
        if self.reason:
            entry["reason"] = self.reason
        return entry


class JobSinks:
    """Every JobSink of one data plane: the HTTP handler and the runs."""

    def __init__(
        self,
        feed: ResourceFeed,
        *,
        functions_dir: Path,
        state_dir: Path,
        backoff: BackOff = JOB_CONTROLLER,
    ) -> None:
        self._feed = feed
        self.functions_dir = functions_dir
        self.state_dir = state_dir
        self.backoff = backoff
        self.specs: dict[tuple[str, str], JobSinkSpec] = {}
        self.runs: dict[tuple[str, str, str, str], Run] = {}  # (ns, jobsink, source, id)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- desired state
    def apply(self, obj: Mapping[str, Any]) -> None:
        """A JobSink added or changed: new runs use its job; finished runs it reports are
        remembered (a re-sent event with their (source, id) does not run again)."""
        spec = parse_jobsink(obj)
        self.specs[(spec.namespace, spec.name)] = spec
        for entry in (obj.get("status") or {}).get("jobs") or []:
            key = (spec.namespace, spec.name, str(entry.get("source")), str(entry.get("id")))
            if key not in self.runs and entry.get("status") in (COMPLETE, FAILED):
                self.runs[key] = Run(
                    spec.namespace,
                    spec.name,
                    str(entry.get("name")),
                    key[2],
                    key[3],
                    started=str(entry.get("startTime") or _now()),
                    state=str(entry["status"]),
                    failed=int(entry.get("failed") or 0),
                    succeeded=int(entry.get("succeeded") or 0),
                    completed=entry.get("completionTime"),
                )

    def remove(self, key: tuple[str, str]) -> None:
        """A JobSink deleted: its runs are forgotten (running ones go on to their end)."""
        self.specs.pop(key, None)
        for run_key in [k for k in self.runs if k[:2] == key]:
            del self.runs[run_key]

    async def aclose(self) -> None:
        """Stop every run (SIGTERM, then SIGKILL)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- HTTP
    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """An event of at most 4 MiB (it is stored, as Knative stores it in a Secret)."""
        return MAX_EVENT_BYTES

    def handle_request(self, request: Request, reply: Any) -> None:
        """``POST /<ns>/<name>`` starts a run; ``GET <Location>`` tells its outcome."""
        path = request.path
        try:
            if request.method == b"GET":  # the raw target: a source holds escaped slashes
                self._poll(request.target.decode("latin-1").split("?", 1)[0], reply)
            elif request.method == b"POST":
                self._accept(request, reply)
            else:
                reply.respond(400, _NO_HEADERS, b"")
        except BulutError as error:
            error.http_status = 400  # every bad request is 400 here, as job-sink answers
            reply.respond(*problem_response(error, instance=path))

    def _poll(self, path: str, reply: Any) -> None:
        key = parse_location(path)
        run = self.runs.get(key) if key is not None else None
        if key is None or run is None:
            reply.respond(500 if key is not None else 400, _NO_HEADERS, b"")
        elif run.state == COMPLETE:
            reply.respond(200, [(b"reason", b"Complete")], b"")
        elif run.state == FAILED:
            reply.respond(400, [(b"reason", b"Failed")], b"")
        else:
            reply.respond(202, [(b"location", path.encode())], b"")

    def _accept(self, request: Request, reply: Any) -> None:
        segments = [s for s in request.path.split("/") if s]
        spec = self.specs.get((segments[0], segments[1])) if len(segments) == 2 else None
        if spec is None:
            raise _bad(f"no JobSink at {request.path!r}: POST to /<namespace>/<name>")
        text = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        decoded = decode(text, request.body)
        if isinstance(decoded, list):
            raise _bad("a JobSink takes one event per request, not a batch")
        source, event_id = str(decoded.get("source")), str(decoded.get("id"))
        where = location(spec.namespace, spec.name, source, event_id).encode()
        key = (spec.namespace, spec.name, source, event_id)
        if key not in self.runs:
            run = Run(
                spec.namespace, spec.name, job_name(spec.name, source, event_id), source, event_id
            )
            self.runs[key] = run
            folder = self.state_dir / spec.namespace / run.job
            folder.mkdir(parents=True, exist_ok=True)
            (folder / EVENT_FILE).write_bytes(encode_structured(decoded)[1])
            task = asyncio.get_running_loop().create_task(self._run(spec, run, folder))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        reply.respond(202, [(b"location", where)], b"")

    # -- runs
    async def _run(self, spec: JobSinkSpec, run: Run, folder: Path) -> None:
        injected = {"K_EVENT_PATH": str(folder), "K_EXECUTION_MODE": "batch"}
        await self._report(spec)
        try:
            programs = [
                plan_program(c, spec.annotations, self.functions_dir, injected)
                for c in spec.containers
            ]
        except BulutError as error:
            self._finish(run, FAILED, f"ProgramNotFound: {error}")
            await self._report(spec)
            return
        backoff = processes.Restarts(self.backoff)
        while True:
            codes = await asyncio.gather(*(self._once(p, folder) for p in programs))
            if all(code == 0 for code in codes):
                run.succeeded += 1
                self._finish(run, COMPLETE)
                break
            run.failed += 1
            if run.failed > spec.backoff_limit:
                self._finish(run, FAILED, "BackoffLimitExceeded")
                break
            await self._report(spec)
            await asyncio.sleep(backoff.next_delay())
        await self._report(spec)

    @staticmethod
    async def _once(program: Program, folder: Path) -> int:
        log = folder / f"{program.name}.log"
        return await processes.run(
            program.argv, cwd=program.cwd, env=program.env, log=log, grace=STOP_GRACE
        )

    @staticmethod
    def _finish(run: Run, state: str, reason: str = "") -> None:
        run.state, run.reason = state, reason
        run.completed = _now()

    async def _report(self, spec: JobSinkSpec) -> None:
        mine = [r for k, r in self.runs.items() if k[:2] == (spec.namespace, spec.name)]
        latest = sorted(mine, key=lambda r: (r.started, r.job))[-REPORTED_RUNS:]
        runtime = {"jobs": [r.record() for r in latest]}
        try:
            await self._feed.report(KIND, spec.namespace, spec.name, runtime)
        except Exception as error:  # the JobSink may be gone
            log.info("jobsink %s/%s: report failed: %s", spec.namespace, spec.name, error)


class JobSinkRequestError(BulutError):
    """A request job-sink answers with 400."""

    http_status = 400
    title = "Bad JobSink request"


def _bad(message: str) -> JobSinkRequestError:
    return JobSinkRequestError(message)


__all__ = ["HOST", "JobSinks", "Run", "job_name", "location", "parse_jobsink"]
