"""Drill results: RTO and RPO computed from recorded facts, rendered as Markdown and JSON.

Everything here is pure: the runner records times and id sets, these functions decide.

- **RTO** = first good response after recovery − the moment of the disaster.
- **RPO (events)** = acknowledged events (202 from the broker) that are neither in the
  recovered broker log nor in the subscriber's own database.
- **RPO (seconds)** = the span of acknowledged time that was lost: from the newest
  surviving ack before the first lost one to the newest lost ack (0 when none is lost).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Check:
    """One check's verdict."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Loss:
    """What the disaster cost in acknowledged events."""

    events: int
    seconds: float
    lost_ids: tuple[str, ...] = ()


def compute_loss(acks: Mapping[str, float], survived: Set[str]) -> Loss:
    """RPO from ack times (id -> Unix time of the 202) and the ids that survived."""
    lost = sorted((time, event_id) for event_id, time in acks.items() if event_id not in survived)
    if not lost:
        return Loss(0, 0.0)
    first_lost = lost[0][0]
    before = [
        time for event_id, time in acks.items() if event_id in survived and time <= first_lost
    ]
    anchor = max(before) if before else first_lost
    return Loss(len(lost), max(0.0, lost[-1][0] - anchor), tuple(i for _, i in lost[:20]))


def compute_rto(disaster_at: float, first_good_response_at: float | None) -> float | None:
    """Seconds from the disaster to the first good response (None: never recovered)."""
    if first_good_response_at is None:
        return None
    return max(0.0, first_good_response_at - disaster_at)


@dataclass
class DrillReport:
    """Everything a drill measured."""

    scenario: str
    disaster: str
    started: float
    acked: int = 0
    rto_seconds: float | None = None
    loss: Loss = Loss(0, 0.0)
    objectives: dict[str, float] = field(default_factory=dict)
    backup: dict[str, object] = field(default_factory=dict)
    restore_seconds: float | None = None
    replayed_events: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Every check passed, the objectives are met and nothing failed."""
        rto_ok = self.rto_seconds is not None and self.rto_seconds <= self.objectives.get(
            "rtoSeconds", float("inf")
        )
        rpo_ok = self.loss.events <= self.objectives.get("rpoEvents", 0)
        return self.error is None and rto_ok and rpo_ok and all(c.ok for c in self.checks)

    def to_json(self) -> str:
        """The report as JSON."""
        document = asdict(self)
        document["passed"] = self.passed
        document["startedAt"] = _iso(self.started)
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def to_markdown(self) -> str:
        """The report as Markdown (what the runbooks' "Last drilled" links to)."""
        rto = "not recovered" if self.rto_seconds is None else f"{self.rto_seconds:.2f} s"
        lines = [
            f"# Drill report: {self.scenario}",
            "",
            f"- Started: {_iso(self.started)}",
            f"- Disaster: `{self.disaster}`",
            f"- Result: **{'PASSED' if self.passed else 'FAILED'}**",
            "",
            "| measure | value | objective |",
            "|---|---|---|",
            f"| RTO (disaster → first good response) | {rto} | "
            f"≤ {self.objectives.get('rtoSeconds', '-')} s |",
            f"| RPO (acked events lost) | {self.loss.events} of {self.acked} | "
            f"≤ {int(self.objectives.get('rpoEvents', 0))} |",
            f"| RPO (seconds of acked data lost) | {self.loss.seconds:.2f} s | |",
            f"| restore | {_seconds(self.restore_seconds)} | |",
            f"| events replayed from shipped log | {self.replayed_events} | |",
        ]
        if self.backup:
            lines += ["", "## Backup", ""]
            lines += [f"- {key}: {value}" for key, value in sorted(self.backup.items())]
        lines += ["", "## Checks", "", "| check | ok | detail |", "|---|---|---|"]
        lines += [f"| {c.name} | {'yes' if c.ok else 'NO'} | {c.detail} |" for c in self.checks]
        if self.timings:
            lines += ["", "## Timings (s)", ""]
            lines += [f"- {key}: {value:.3f}" for key, value in self.timings.items()]
        if self.loss.lost_ids:
            lines += ["", f"Lost ids (first 20): {', '.join(self.loss.lost_ids)}"]
        if self.error:
            lines += ["", f"Error: {self.error}"]
        return "\n".join(lines) + "\n"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def report_name(report: DrillReport) -> str:
    """``<scenario>-<YYYYmmddTHHMMSSZ>``: the report files' stem."""
    stamp = datetime.fromtimestamp(report.started, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{report.scenario}-{stamp}"
