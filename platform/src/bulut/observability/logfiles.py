"""Instance log files: where serving writes them, and how ``bulut logs`` merges and tails them.

Layout (written by serving, one file per instance, stdout and stderr together)::

    <state_dir>/logs/<namespace>/<service>/<revision>/<instance>.log

``<instance>`` is the instance's pid (``zygote`` for the template process). Lines are
kept as the function wrote them. Merging orders lines by the time they carry (a JSON
``time``/``timestamp`` field or a leading RFC 3339 stamp); a line without one keeps the
time of the line before it in the same file, so each file's own order is never changed.
"""

from __future__ import annotations

import heapq
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

LOGS_DIR = "logs"
SUFFIX = ".log"
_STAMP = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
)


@dataclass(frozen=True, slots=True)
class LogSource:
    """One instance's log file."""

    namespace: str
    service: str
    revision: str
    instance: str
    path: Path

    @property
    def label(self) -> str:
        """``revision/instance``, the prefix ``bulut logs`` prints."""
        return f"{self.revision}/{self.instance}"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of one instance's output."""

    source: LogSource
    text: str
    time: float


def logs_root(state_dir: Path) -> Path:
    """``<state_dir>/logs``."""
    return state_dir / LOGS_DIR


def log_path(root: Path, namespace: str, service: str, revision: str, instance: str) -> Path:
    """Where an instance's output goes (``root`` is :func:`logs_root`)."""
    return root / namespace / service / revision / f"{instance}{SUFFIX}"


def find_sources(
    root: Path, namespace: str, service: str, revision: str | None = None
) -> list[LogSource]:
    """The log files of a service (or of one of its revisions), sorted by path."""
    base = root / namespace / service
    if not base.is_dir():
        return []
    pattern = f"{revision or '*'}/*{SUFFIX}"
    return [
        LogSource(namespace, service, path.parent.name, path.stem, path)
        for path in sorted(base.glob(pattern))
        if path.is_file()
    ]


def line_time(text: str) -> float | None:
    """The time a line carries, as Unix seconds, if any."""
    stamp: object = None
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            stamp = document.get("time") or document.get("timestamp") or document.get("ts")
            if isinstance(stamp, int | float):
                return float(stamp)
    if not isinstance(stamp, str):
        match = _STAMP.match(text)
        stamp = match.group(1) if match else None
    if not isinstance(stamp, str):
        return None
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace(",", "."))
    except ValueError:
        return None
    return parsed.timestamp()


def read_source(
    source: LogSource, offset: int = 0, carry: float | None = None
) -> tuple[list[LogLine], int]:
    """Complete lines after byte ``offset`` and the offset after them.

    ``carry`` is the time of the line before ``offset`` (for lines without a stamp);
    the first stamp-less lines of a file get the file's modification time.
    """
    try:
        with source.path.open("rb") as file:
            file.seek(offset)
            data = file.read()
            modified = source.path.stat().st_mtime
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    if end == 0:
        return [], offset
    lines = []
    current = carry
    for raw in data[:end].splitlines():
        text = raw.decode("utf-8", "replace").rstrip("\r")
        stamp = line_time(text)
        current = stamp if stamp is not None else (current if current is not None else modified)
        lines.append(LogLine(source, text, current))
    return lines, offset + end


def merge(sources: Iterable[LogSource], last: int | None = None) -> list[LogLine]:
    """Every line of these files in time order (each file's order kept); the last ``last``."""
    per_file = [read_source(source)[0] for source in sources]
    merged = list(heapq.merge(*per_file, key=lambda line: line.time))
    return merged[-last:] if last is not None and last >= 0 else merged


def follow(
    root: Path,
    namespace: str,
    service: str,
    revision: str | None = None,
    *,
    interval: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] = lambda: False,
    from_end: bool = True,
) -> Iterator[LogLine]:
    """New lines as instances write them, including instances that start later.

    With ``from_end`` the files existing now are followed from their end (print history
    first with :func:`merge`); files that appear later are read from their start.
    """
    offsets: dict[Path, int] = {}
    carries: dict[Path, float | None] = {}
    for source in find_sources(root, namespace, service, revision):
        offsets[source.path] = source.path.stat().st_size if from_end else 0
    while not stop():
        batch: list[LogLine] = []
        for source in find_sources(root, namespace, service, revision):
            lines, offsets[source.path] = read_source(
                source, offsets.get(source.path, 0), carries.get(source.path)
            )
            if lines:
                carries[source.path] = lines[-1].time
                batch.extend(lines)
        yield from sorted(batch, key=lambda line: line.time)
        if not batch:
            sleep(interval)
