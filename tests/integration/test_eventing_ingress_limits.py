"""The broker's limits cannot be bypassed through headers or batches (issue #20, item 6).

A 1 MiB ``ce-source`` or 10,000 ``ce-`` headers were accepted although the event limit is
256 KiB; bodies were buffered up to 64 MiB before the ingress's own limit applied, and
``Expect: 100-continue`` with a 100 MB Content-Length got ``100 Continue``; one
55,000-event batch held other requests for seconds.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bulut.eventing.ingress import MAX_BATCH_EVENTS
from tests.support.eventing import binary_headers, broker, eventing_runtime

pytestmark = pytest.mark.integration

BATCH = {"content-type": "application/cloudevents-batch+json"}


async def test_attributes_count_toward_the_event_limit(tmp_path: Path) -> None:
    async with (
        eventing_runtime(tmp_path, [broker()], max_event_bytes=4096) as rt,
        httpx.AsyncClient() as http,
    ):
        fits = binary_headers("ok", source="/" + "s" * 1000)
        assert (await http.post(rt.broker_url, headers=fits, content=b"{}")).status_code == 202
        big = binary_headers("big", source="/" + "s" * 3000)
        response = await http.post(rt.broker_url, headers=big, content=b"x" * 2000)
        assert response.status_code == 413
        assert "attributes" in response.json()["detail"]


async def test_a_one_mib_attribute_or_ten_thousand_ce_headers_are_refused(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        huge = binary_headers("h", source="/" + "s" * (1 << 20))
        assert (await http.post(rt.broker_url, headers=huge, content=b"{}")).status_code == 431
        # raw bytes: httpx itself is quadratic in the number of headers
        head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("m").items())
        extensions = "".join(f"ce-x{n}: 1\r\n" for n in range(10_000))
        raw = f"POST /default/default HTTP/1.1\r\nhost: 127.0.0.1\r\n{head}{extensions}"
        reader, writer = await asyncio.open_connection("127.0.0.1", rt.port)
        writer.write((raw + "content-length: 2\r\n\r\n{}").encode())
        answer = await asyncio.wait_for(reader.read(), 5.0)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert rt.eventing.ingress.accepted == 0


async def test_a_body_above_the_broker_limit_is_413_before_it_is_read(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt:
        reader, writer = await asyncio.open_connection("127.0.0.1", rt.port)
        head = (
            "POST /default/default HTTP/1.1\r\nhost: 127.0.0.1\r\nce-specversion: 1.0\r\n"
            "ce-id: a\r\nce-source: /s\r\nce-type: t\r\ncontent-type: application/json\r\n"
            "expect: 100-continue\r\ncontent-length: 100000000\r\n\r\n"
        )
        writer.write(head.encode())
        received = await asyncio.wait_for(reader.read(), 5.0)
        writer.close()
        assert received.startswith(b"HTTP/1.1 413 ")
        assert b"100 Continue" not in received


async def test_a_batch_above_the_event_count_is_413_and_nothing_is_logged(tmp_path: Path) -> None:
    events = [
        {"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t"}
        for n in range(MAX_BATCH_EVENTS + 1)
    ]
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        too_many = await http.post(rt.broker_url, headers=BATCH, content=json.dumps(events))
        assert too_many.status_code == 413
        assert str(MAX_BATCH_EVENTS) in too_many.json()["detail"]
        fits = await http.post(rt.broker_url, headers=BATCH, content=json.dumps(events[:-1]))
        assert fits.status_code == 202
        assert rt.eventing.ingress.accepted == MAX_BATCH_EVENTS
