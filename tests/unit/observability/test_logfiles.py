"""Instance log files: layout, merging by time, following new output and new instances."""

from __future__ import annotations

from pathlib import Path

from bulut.observability.logfiles import (
    find_sources,
    follow,
    line_time,
    log_path,
    logs_root,
    merge,
)


def write(path: Path, *lines: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write("".join(line + "\n" for line in lines))


def test_lines_carry_their_time_as_json_fields_or_a_leading_stamp() -> None:
    assert line_time('{"time": "2026-11-28T04:00:01Z", "message": "x"}') == 1795838401.0
    assert line_time('{"ts": 12.5}') == 12.5
    assert line_time("2026-11-28 04:00:01,500 INFO started") == 1795838401.5
    assert line_time("[2026-11-28T04:00:01.250+00:00] hi") == 1795838401.25
    assert line_time("no stamp here") is None
    assert line_time("{not json") is None


def test_instances_of_a_service_are_merged_in_time_order_keeping_each_files_order(
    tmp_path: Path,
) -> None:
    root = logs_root(tmp_path)
    first = log_path(root, "shop", "orders", "orders-00001", "101")
    second = log_path(root, "shop", "orders", "orders-00002", "202")
    write(first, "2026-11-28T04:00:01Z a1", "continued without stamp", "2026-11-28T04:00:03Z a3")
    write(second, "2026-11-28T04:00:02Z b2", '{"time": "2026-11-28T04:00:04Z", "msg": "b4"}')
    write(log_path(root, "shop", "payments", "payments-00001", "9"), "other service")
    merged = merge(find_sources(root, "shop", "orders"))
    assert [line.text[-2:] for line in merged] == ["a1", "mp", "b2", "a3", '"}']
    assert merged[0].source.label == "orders-00001/101"
    assert [line.text for line in merge(find_sources(root, "shop", "orders"), last=1)] == [
        '{"time": "2026-11-28T04:00:04Z", "msg": "b4"}'
    ]
    only = find_sources(root, "shop", "orders", revision="orders-00002")
    assert [s.instance for s in only] == ["202"]
    assert find_sources(root, "shop", "missing") == []


def test_following_prints_new_lines_and_instances_that_start_later(tmp_path: Path) -> None:
    root = logs_root(tmp_path)
    first = log_path(root, "default", "orders", "orders-00001", "1")
    write(first, "old line")
    rounds = iter(range(10))

    def sleep(_: float) -> None:
        step = next(rounds, 99)
        if step == 0:
            write(first, "new line", "partial")
        elif step == 1:
            write(log_path(root, "default", "orders", "orders-00001", "2"), "second instance")

    seen: list[str] = []
    for line in follow(root, "default", "orders", sleep=sleep, stop=lambda: len(seen) >= 3):
        seen.append(line.text)
    assert seen == ["new line", "partial", "second instance"]
