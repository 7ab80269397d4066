"""Benchmark: bulut.events against the cloudevents SDK 2.x, in the same run.

Measures events per second to decode and to encode one Knative-shaped event (broker
extensions, a small JSON payload) in binary and structured mode, with both codecs, and
prints the ratio ours / SDK. Run: ``.venv/bin/python bench/bench_codec.py``.

The SDK cannot read batches, so the batched row decodes a batch of ``BATCH_SIZE`` such
events with ours and counts events per second, against the SDK decoding the same events
one structured message at a time (what a client of the SDK has to do).

Each figure is the best of ``--repeat`` rounds of ``--number`` calls (timeit's rule: the
minimum is the least disturbed by the rest of the machine); the two codecs take turns.
"""

from __future__ import annotations

import argparse
import os
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudevents.core.bindings.http import (
    HTTPMessage,
    from_http_event,
    to_binary_event,
    to_structured_event,
)

from bulut.events import CloudEvent, decode, encode_batch, encode_binary, encode_structured

PAYLOAD = (
    b'{"order":{"id":"ord-1029","customer":"c-77","items":[{"sku":"A-1","qty":2},'
    b'{"sku":"B-9","qty":1}],"total":129.5,"currency":"EUR"},"note":"gift wrap"}'
)
BINARY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "8c6b2d1e-4a5f-4e7b-9d10-2f4e6a8b0c12",
    "ce-source": "/apis/v1/namespaces/shop/orders",
    "ce-type": "dev.bulut.order.created",
    "ce-time": "2026-11-28T04:05:06.123456Z",
    "ce-subject": "ord-1029",
    "ce-knativearrivaltime": "2026-11-28T04:05:06.2Z",
    "ce-knativebrokerttl": "255",
    "ce-traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "content-type": "application/json",
}
BATCH_SIZE = 10  # events in the batched row's batch


@dataclass(frozen=True)
class Row:
    """One measured operation with both codecs."""

    mode: str
    operation: str
    ours: float
    sdk: float

    @property
    def ratio(self) -> float:
        """How many times faster ours is."""
        return self.ours / self.sdk


def rates(
    ours: Callable[[], object], sdk: Callable[[], object], *, number: int, repeat: int
) -> tuple[float, float]:
    """Calls per second of each: the best of ``repeat`` rounds of ``number`` calls.

    Rounds alternate between the two codecs so a busy moment on the machine hurts both.
    """
    ours_timer, sdk_timer = timeit.Timer(ours), timeit.Timer(sdk)
    ours_best = sdk_best = float("inf")
    for _ in range(repeat):
        ours_best = min(ours_best, ours_timer.timeit(number))
        sdk_best = min(sdk_best, sdk_timer.timeit(number))
    return number / ours_best, number / sdk_best


def measure(number: int, repeat: int) -> list[Row]:
    """Run every operation with both codecs and return the rows."""
    ours_event = decode(BINARY_HEADERS, PAYLOAD)
    assert isinstance(ours_event, CloudEvent)
    structured_headers, structured_body = encode_structured(ours_event)
    batch_headers, batch_body = encode_batch([ours_event] * BATCH_SIZE)
    binary_message = HTTPMessage(headers=dict(BINARY_HEADERS), body=PAYLOAD)
    structured_message = HTTPMessage(headers=structured_headers, body=structured_body)
    sdk_event: Any = from_http_event(binary_message)

    def ours_decode_binary() -> object:
        return decode(BINARY_HEADERS, PAYLOAD)

    def ours_decode_structured() -> object:
        return decode(structured_headers, structured_body)

    def ours_decode_batch() -> object:
        return decode(batch_headers, batch_body)

    def ours_encode_binary() -> object:
        return encode_binary(ours_event)

    def ours_encode_structured() -> object:
        return encode_structured(ours_event)

    def sdk_decode_binary() -> object:
        return from_http_event(binary_message)

    def sdk_decode_structured() -> object:
        return from_http_event(structured_message)

    def sdk_decode_one_by_one() -> object:
        return [from_http_event(structured_message) for _ in range(BATCH_SIZE)]

    def sdk_encode_binary() -> object:
        return to_binary_event(sdk_event)

    def sdk_encode_structured() -> object:
        return to_structured_event(sdk_event)

    plan = [
        ("binary", "decode", ours_decode_binary, sdk_decode_binary),
        ("structured", "decode", ours_decode_structured, sdk_decode_structured),
        ("binary", "encode", ours_encode_binary, sdk_encode_binary),
        ("structured", "encode", ours_encode_structured, sdk_encode_structured),
    ]
    rows = [
        Row(mode, operation, *rates(ours, sdk, number=number, repeat=repeat))
        for mode, operation, ours, sdk in plan
    ]
    # One call decodes BATCH_SIZE events with either codec: rates are in events.
    ours, sdk = rates(
        ours_decode_batch, sdk_decode_one_by_one, number=number // BATCH_SIZE, repeat=repeat
    )
    rows.insert(2, Row("batched", "decode", ours * BATCH_SIZE, sdk * BATCH_SIZE))
    return rows


def render(rows: list[Row]) -> str:
    """The table of rows as text."""
    lines = [
        f"{'mode':<11} {'op':<7} {'bulut ev/s':>12} {'sdk ev/s':>12} {'ratio':>7}",
        "-" * 53,
    ]
    for row in rows:
        lines.append(
            f"{row.mode:<11} {row.operation:<7} {row.ours:>12,.0f} {row.sdk:>12,.0f} "
            f"{row.ratio:>6.1f}x"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse flags, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=20_000, help="calls per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best one counts")
    args = parser.parse_args()
    before = [round(value, 2) for value in os.getloadavg()]
    rows = measure(args.number, args.repeat)
    print(render(rows))
    ratios = ", ".join(f"{row.mode} {row.ratio:.1f}x" for row in rows if row.operation == "decode")
    print(f"\ndecode rate vs the SDK: {ratios} (target: at least 5x)")
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        figures = {
            f"{row.mode}.{row.operation}": {
                "bulut_per_s": round(row.ours),
                "sdk_per_s": round(row.sdk),
                "ratio": round(row.ratio, 2),
            }
            for row in rows
        }
        record("codec", figures, before)


if __name__ == "__main__":
    main()
