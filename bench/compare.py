"""Print the change between two benchmark runs (files of ``bench/history/``).

    .venv/bin/python bench/compare.py                 # the two newest runs
    .venv/bin/python bench/compare.py OLD.json NEW.json

Every number both runs have is listed with its change. Figures whose name says which way is
better are judged: ratios, rates and counts per second up; latencies (ms, us, p50/p90/p99)
down; a change of more than ``--threshold`` percent the wrong way is marked ``worse``. Load
averages of both runs are printed first: absolute figures from a busy machine move with the
load, ratios to the same-run baseline much less.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HISTORY = Path(__file__).resolve().parent / "history"
HIGHER = ("ratio", "rps", "per_s", "perS", "accepted", "delivered", "completions", "x")
LOWER = ("p50", "p90", "p99", "_ms", "_us", "Ms", "Us", "latency", "cpu")


def leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """(dotted path, value) for every number in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield prefix, float(node)


def better_direction(path: str) -> int:
    """+1 when a larger value is better, -1 when smaller is, 0 when the name does not say."""
    last = path.rsplit(".", 1)[-1]
    if last == "n" or "loadAverage" in path:
        return 0
    if any(word in last for word in LOWER):
        return -1
    if any(word in last for word in HIGHER) or "ratio" in path.lower():
        return 1
    return 0


def compare(old: dict[str, Any], new: dict[str, Any], threshold: float) -> list[str]:
    """The report's lines."""
    lines = [
        f"old: {old.get('started', '?')} commit {old.get('commit', '?')}",
        f"new: {new.get('started', '?')} commit {new.get('commit', '?')}",
    ]
    before = dict(leaves(old.get("benchmarks", {})))
    after = dict(leaves(new.get("benchmarks", {})))
    for name in sorted(set(old.get("benchmarks", {})) | set(new.get("benchmarks", {}))):
        loads = [
            run.get("benchmarks", {}).get(name, {}).get("loadAverage", {}).get("before")
            for run in (old, new)
        ]
        lines.append(f"{name}: load average before, old {loads[0]} / new {loads[1]}")
    width = max((len(path) for path in before.keys() & after.keys()), default=10)
    for path in sorted(before.keys() & after.keys()):
        if "loadAverage" in path:
            continue
        was, now = before[path], after[path]
        change = (now - was) / was * 100 if was else 0.0
        direction = better_direction(path)
        verdict = ""
        if direction and abs(change) > threshold:
            verdict = "better" if change * direction > 0 else "worse"
        lines.append(f"  {path:<{width}}  {was:12.2f} -> {now:12.2f}  {change:+7.1f}%  {verdict}")
    for path in sorted(before.keys() - after.keys()):
        lines.append(f"  {path:<{width}}  only in the old run")
    for path in sorted(after.keys() - before.keys()):
        lines.append(f"  {path:<{width}}  only in the new run")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="OLD.json NEW.json")
    parser.add_argument("--threshold", type=float, default=10.0, help="percent")
    args = parser.parse_args(argv)
    files = list(args.files) or sorted(HISTORY.glob("*.json"))[-2:]  # names sort by time
    if not args.files and len(files) < 2:
        print("compare.py: fewer than two runs in bench/history/: nothing to compare yet")
        return 0
    if len(files) != 2:
        print(
            "compare.py: give two run files, or have two in bench/history/ (make bench writes one)",
            file=sys.stderr,
        )
        return 2
    old, new = (json.loads(path.read_text()) for path in files)
    print("\n".join(compare(old, new, args.threshold)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
