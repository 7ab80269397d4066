"""The SQLite span store: lookups by trace id, event id and subject; the size bound."""

from __future__ import annotations

from pathlib import Path

from bulut.observability.spans import FinishedSpan, SpanStore, is_trace_id

T1, T2 = "a" * 32, "b" * 32


def span(trace: str, span_id: str, start: int, parent: str = "", **attrs: str) -> FinishedSpan:
    return FinishedSpan(
        trace, span_id, parent, f"span-{span_id}", start, start + 5, attributes=attrs
    )


def test_a_trace_is_found_by_its_id_its_event_ids_and_its_order_subject(tmp_path: Path) -> None:
    store = SpanStore(tmp_path / "traces.db")
    store.write(
        [
            span(
                T1,
                "1" * 16,
                10,
                **{"cloudevents.event_id": "e-1", "cloudevents.event_subject": "order-7"},
            ),
            span(T1, "2" * 16, 20, "1" * 16, **{"cloudevents.event_id": "e-2"}),
            span(T2, "3" * 16, 30, **{"cloudevents.event_subject": "order-7"}),
        ]
    )
    assert store.find(T1) == [T1]
    assert store.find(T1.upper()) == [T1]
    assert store.find("e-2") == [T1]
    assert store.find("order-7") == [T2, T1]
    assert store.find("nothing") == []
    assert [s.name for s in store.trace(T1)] == ["span-1111111111111111", "span-2222222222222222"]
    assert store.trace(T1)[1].attributes == {"cloudevents.event_id": "e-2"}
    assert [s.trace_id for s in store.recent()] == [T2, T1]
    store.close()


def test_the_store_forgets_the_oldest_traces_beyond_its_bound(tmp_path: Path) -> None:
    store = SpanStore(tmp_path / "traces.db", max_spans=3)
    store.write([span(T1, "1" * 16, 10, **{"cloudevents.event_id": "old"}), span(T1, "2" * 16, 11)])
    store.write([span(T2, "3" * 16, 20), span(T2, "4" * 16, 21)])
    assert store.count() == 2
    assert store.trace(T1) == [] and store.find("old") == []
    assert len(store.trace(T2)) == 2


def test_trace_ids_are_32_lowercase_hex_digits() -> None:
    assert is_trace_id(T1) and not is_trace_id("order-7") and not is_trace_id("A" * 32)


def test_past_its_bound_the_store_forgets_a_tenth_at_once_and_whole_traces(
    tmp_path: Path,
) -> None:
    store = SpanStore(tmp_path / "traces.db", max_spans=100)
    # trace 0 starts first and has one span among the newest: it goes whole or stays whole
    store.write([span(f"{0:032x}", "1" * 16, 0, **{"cloudevents.event_id": "e-0"})])
    for n in range(1, 100):
        store.write([span(f"{n:032x}", "2" * 16, n * 10, **{"cloudevents.event_id": f"e-{n}"})])
    store.write([span(f"{0:032x}", "3" * 16, 995)])
    # past 100: the oldest traces until at most 90 are left; trace 0's late span goes too
    assert store.count() == 101 - 11 - 1
    assert store.trace(f"{0:032x}") == [] and store.find("e-0") == []
    assert store.find("e-10") == [] and store.find("e-11") == [f"{11:032x}"]
    for n in range(100, 111):  # up to the bound again: nothing is forgotten
        store.write([span(f"{n:032x}", "2" * 16, n * 10)])
    assert store.count() == 100
    store.close()
    reopened = SpanStore(tmp_path / "traces.db", max_spans=100)  # counts what it finds
    reopened.write([span(f"{200:032x}", "2" * 16, 2000), span(f"{201:032x}", "2" * 16, 2010)])
    assert reopened.count() == 90 and reopened.find(f"{200:032x}") == [f"{200:032x}"]
    reopened.close()
