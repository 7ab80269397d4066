"""The benchmark history: one JSON file per `make bench` run, and the change between two."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import compare, history


def test_each_benchmark_adds_its_figures_and_load_average_to_the_run_file(
    tmp_path: Path,
) -> None:
    run = tmp_path / "20261207T010000Z.json"
    history.record("dataplane", {"ratio_c64": 0.61}, [3.0, 2.0, 1.0], path=run)
    history.record("broker", {"ingest": {"c64": {"ratio": 0.4}}}, [4.0, 2.0, 1.0], path=run)

    written = json.loads(run.read_text())
    assert set(written["benchmarks"]) == {"dataplane", "broker"}
    assert written["benchmarks"]["dataplane"]["figures"] == {"ratio_c64": 0.61}
    load = written["benchmarks"]["broker"]["loadAverage"]
    assert load["before"] == [4.0, 2.0, 1.0] and len(load["after"]) == 3
    assert written["cpus"] >= 1 and written["started"].endswith("Z")


def test_nothing_is_written_outside_make_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(history.VARIABLE, raising=False)
    assert history.record("dataplane", {"ratio_c64": 0.61}, [0.0, 0.0, 0.0]) is None


def test_a_run_file_is_named_after_its_utc_start() -> None:
    import datetime

    moment = datetime.datetime(2026, 12, 7, 1, 2, 3, tzinfo=datetime.UTC)
    assert history.new_run_path(moment).name == "20261207T010203Z.json"


def run_file(path: Path, figures: dict[str, object]) -> Path:
    history.record("dataplane", figures, [1.0, 1.0, 1.0], path=path)
    return path


def test_compare_marks_a_lower_ratio_and_a_higher_latency_as_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = run_file(tmp_path / "a.json", {"ratio_c64": 0.80, "added_p50_us": 40.0, "rounds": 3})
    new = run_file(tmp_path / "b.json", {"ratio_c64": 0.60, "added_p50_us": 30.0, "rounds": 3})

    assert compare.main([str(old), str(new)]) == 0

    lines = capsys.readouterr().out.splitlines()
    ratio = next(line for line in lines if "dataplane.figures.ratio_c64" in line)
    added = next(line for line in lines if "dataplane.figures.added_p50_us" in line)
    rounds = next(line for line in lines if "dataplane.figures.rounds" in line)
    assert "-25.0%" in ratio and ratio.endswith("worse")
    assert "-25.0%" in added and added.endswith("better")
    assert rounds.rstrip().endswith("+0.0%")


def test_compare_without_two_runs_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compare, "HISTORY", tmp_path)
    assert compare.main([]) == 0
    assert "fewer than two runs" in capsys.readouterr().out


def test_every_benchmark_records_its_figures_under_its_own_name() -> None:
    import re

    folder = Path(history.__file__).parent
    benchmarks = sorted(folder.glob("bench_*.py"))
    silent = [
        path.name
        for path in benchmarks
        if not re.search(rf'record\(\s*"{path.stem.removeprefix("bench_")}"', path.read_text())
    ]
    assert len(benchmarks) >= 10 and silent == []
