"""The benchmark history: each ``make bench`` run is one JSON file in ``bench/history/``.

``make bench`` sets ``BULUT_BENCH_RUN`` to ``bench/history/<UTC timestamp>.json``; each
benchmark calls :func:`record` with its figures (baselines of the same run included), which
adds them to that file under the benchmark's name, with the machine's load average before and
after. Without the variable (a benchmark run by hand) nothing is written. ``bench/compare.py``
prints the change between two runs.

A run file::

    {"started": "2026-12-07T01:50:00Z", "commit": "9caf420", "cpus": 2,
     "python": "3.11.7", "benchmarks": {"coldstart": {"loadAverage": {"before": [...],
     "after": [...]}, "figures": {...}}, ...}}
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "bench" / "history"
VARIABLE = "BULUT_BENCH_RUN"


def run_path() -> Path | None:
    """The run file ``make bench`` named, if any."""
    value = os.environ.get(VARIABLE)
    return Path(value) if value else None


def new_run_path(now: datetime.datetime | None = None) -> Path:
    """``bench/history/<UTC timestamp>.json`` for a run starting ``now``."""
    moment = now or datetime.datetime.now(datetime.UTC)
    return FOLDER / f"{moment.strftime('%Y%m%dT%H%M%SZ')}.json"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(value, 2) for value in os.getloadavg()]


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return ""
    return done.stdout.strip()


def _header() -> dict[str, Any]:
    return {
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "benchmarks": {},
    }


def record(
    name: str, figures: dict[str, Any], before: list[float], path: Path | None = None
) -> Path | None:
    """Add benchmark ``name``'s figures (with the load average ``before`` it and now) to the
    run file; None (nothing written) outside ``make bench``."""
    target = path or run_path()
    if target is None:
        return None
    run = json.loads(target.read_text()) if target.is_file() else _header()
    run["benchmarks"][name] = {
        "loadAverage": {"before": before, "after": load_average()},
        "figures": figures,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(run, indent=2, sort_keys=True) + "\n")
    print(f"figures recorded in {target}")
    sys.stdout.flush()
    return target
