"""HAProxy's access log lines read back into records (pure parsing)."""

from __future__ import annotations

from bulut.serving.kingress.access_log import parse

TRACE, SPAN, PARENT = "0af7651916cd43dd8448eb211c80319c", "1122334455667788", "b7ad6b7169203331"


def test_a_revision_line_is_a_record_with_its_duration() -> None:
    timing = "1700000000250000|1700000000|251500"  # started at, ended at (s, us)
    line = f'rev:default:a-00001|200|{timing}|{TRACE}|{SPAN}|{PARENT}|01|GET|"-"|"-"|"-"\n'

    record = parse(line)

    assert record is not None
    assert (record.backend, record.status, record.method) == ("rev:default:a-00001", 200, "GET")
    assert abs(record.seconds - 0.0015) < 1e-9
    assert (record.trace_id, record.span_id, record.parent_id, record.flags) == (
        TRACE,
        SPAN,
        PARENT,
        1,
    )
    assert record.event is None


def test_an_event_functions_line_carries_the_event_and_a_root_span_no_parent() -> None:
    line = f'ce:default:e-00001|202|10|0|20|{TRACE}|{SPAN}|-|01|POST|"id|1"|"t.ping"|"/src"'

    record = parse(line)

    assert record is not None and record.parent_id == ""
    assert record.event == ("id|1", "t.ping", "/src")


def test_a_line_that_is_not_a_record_is_ignored() -> None:
    assert parse("garbage") is None
    assert parse(f"b|abc|1|1|1|{TRACE}|{SPAN}|-|01|GET|x") is None
