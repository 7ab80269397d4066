"""What a revision's runtime reports: conditions and counts (pure).

The control plane upserts these conditions into ``Revision.status`` and derives
``Ready = ResourcesAvailable ∧ ContainerHealthy`` (docs/architecture.md, "Runtime reports").
Reasons are Knative's: ``Deploying``, ``ProgressDeadlineExceeded``, ``ExitCode<N>``,
and for ``Active`` whatever the autoscaler says (``NoTraffic``, ``Queued``, ``TimedOut``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bulut.processes.backoff import REASON as CRASH_LOOP_BACK_OFF, CrashLoop

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
GAUGE_SECONDS = 15.0  # a report changing only gauges waits this long after the last one
MEMORY_FIGURES = ("rssBytes", "pssBytes", "ussBytes")


@dataclass
class RevisionFacts:
    """Everything a report is made of, gathered by the revision runtime."""

    desired: int = 0
    actual: int = 0
    ready: int = 0
    ever_ready: bool = False
    deadline_exceeded: bool = False
    last_exit_code: int | None = None
    last_exit_message: str = ""
    active: tuple[str, str, str] = (UNKNOWN, "Deploying", "")
    zygote: dict[str, Any] | None = None
    cold_starts: dict[str, int] = field(default_factory=lambda: {"pool": 0, "fork": 0, "spawn": 0})
    instances: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    crash_loop: CrashLoop = field(default_factory=CrashLoop)


def condition(type_: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    """One Knative condition; empty reason and message are left out."""
    result = {"type": type_, "status": status}
    if reason:
        result["reason"] = reason
    if message:
        result["message"] = message
    return result


def exit_reason(code: int) -> str:
    """Kubernetes' terminated reason for an exit code (signals as 128 + N)."""
    return f"ExitCode{128 - code if code < 0 else code}"


def conditions(facts: RevisionFacts) -> list[dict[str, str]]:
    """ResourcesAvailable, ContainerHealthy and Active for these facts."""
    if facts.ever_ready:
        resources = condition("ResourcesAvailable", TRUE)
    elif facts.deadline_exceeded:
        resources = condition(
            "ResourcesAvailable",
            FALSE,
            "ProgressDeadlineExceeded",
            "Initial scale was never achieved",
        )
    else:
        resources = condition("ResourcesAvailable", UNKNOWN, "Deploying")
    if facts.last_exit_code is not None and facts.ready == 0:
        message = f"Container failed with: {facts.last_exit_message}".strip()
        if facts.crash_loop.backing_off:
            loop = facts.crash_loop
            message += f" ({CRASH_LOOP_BACK_OFF}: {loop.message()}, restarts {loop.restarts})"
        health = condition("ContainerHealthy", FALSE, exit_reason(facts.last_exit_code), message)
    elif facts.ever_ready:
        health = condition("ContainerHealthy", TRUE)
    else:
        health = condition("ContainerHealthy", UNKNOWN, "Deploying")
    status, reason, message = facts.active
    return [resources, health, condition("Active", status, reason, message)]


def report(facts: RevisionFacts) -> dict[str, Any]:
    """The runtime report JSON for ``ResourceFeed.report("Revision", ...)``."""
    body: dict[str, Any] = {
        "desiredScale": facts.desired,
        "actualScale": facts.actual,
        "readyInstances": facts.ready,
        "conditions": conditions(facts),
        "coldStarts": dict(facts.cold_starts),
        "instances": list(facts.instances),
        "activatorQueue": facts.held,
    }
    if facts.zygote is not None:
        body["zygote"] = dict(facts.zygote)
    if facts.crash_loop.restarts:
        loop = facts.crash_loop
        body["restarts"] = loop.restarts
        if loop.backing_off:
            body["crashLoop"] = {"reason": CRASH_LOOP_BACK_OFF, "backOffSeconds": loop.back_off}
    return body


def only_gauges_changed(sent: dict[str, Any] | None, body: dict[str, Any]) -> bool:
    """Whether ``body`` differs from the report ``sent`` last only in gauges that move under
    load while nothing happens to the revision: the zygote's and its pool's memory figures
    (children forking and writing change the zygote's PSS at every read) and the depth of the
    activator's queue. A gauge going from zero to non-zero (the first memory read, requests
    starting to wait) or back is news, as is any other field.
    """
    return sent is not None and sent != body and _without_gauges(sent) == _without_gauges(body)


def _without_gauges(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with each gauge reduced to whether it is zero."""
    stripped = dict(body)
    stripped["activatorQueue"] = bool(body.get("activatorQueue"))
    zygote = body.get("zygote")
    if isinstance(zygote, dict):
        stripped["zygote"] = zygote = _memory_known(zygote)
        if isinstance(zygote.get("pool"), dict):
            zygote["pool"] = _memory_known(zygote["pool"])
    return stripped


def _memory_known(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: bool(v) if k in MEMORY_FIGURES else v for k, v in figures.items()}
