"""Where bench_coldstart finds a function and where each of its revisions runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import bench_coldstart


def test_a_sample_function_is_found_by_name_and_an_older_copy_by_its_path(
    tmp_path: Path,
) -> None:
    samples = bench_coldstart.ROOT / "functions"
    assert bench_coldstart.function_folder("inventory") == samples / "inventory"
    assert bench_coldstart.function_folder("echo") == bench_coldstart.FIXTURES / "echo"
    copy = tmp_path / "old" / "functions" / "inventory"
    copy.mkdir(parents=True)
    assert bench_coldstart.function_folder(str(copy)) == copy
    assert bench_coldstart.working_folder(tmp_path, str(copy), copy).name == "inventory@old"
    assert bench_coldstart.working_folder(tmp_path, "inventory", copy).name == "inventory"


def test_an_unknown_function_stops_the_run_with_what_to_fix() -> None:
    with pytest.raises(SystemExit, match="--function nosuch: no such function"):
        bench_coldstart.function_folder("nosuch")


def test_each_revision_of_a_run_starts_on_a_new_database(tmp_path: Path) -> None:
    first = bench_coldstart.revision_folder(tmp_path, "pool")
    (first / "inventory.db").write_bytes(b"stock sold out")
    again = bench_coldstart.revision_folder(tmp_path, "pool")
    assert again == first and not (again / "inventory.db").exists()
    assert (again / "logs").is_dir()
    once = bench_coldstart.revision_folder(tmp_path, "pool", reprime=False)
    plain = bench_coldstart.revision_folder(tmp_path, "pool", prime=False)
    assert {once.name, plain.name} == {"pool-zygote-only", "pool-unprimed"}
