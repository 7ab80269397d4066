"""The broker ingress answers as Knative's does, over real HTTP on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.eventing import (
    binary_headers,
    broker,
    eventing_runtime,
    subscriber,
    trigger,
)

pytestmark = pytest.mark.integration


async def test_answers_202_400_404_405_and_options_like_knative(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        base = f"http://127.0.0.1:{rt.port}"
        ok = await http.post(rt.broker_url, headers=binary_headers("1"), content=b"{}")
        assert ok.status_code == 202

        missing = await http.post(rt.broker_url, headers={"ce-specversion": "1.0", "ce-id": "2"})
        assert missing.status_code == 400
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["field"] in {"source", "type"}

        unknown = await http.post(f"{base}/default/nope", headers=binary_headers("3"))
        assert unknown.status_code == 404
        assert (await http.post(f"{base}/", headers=binary_headers("4"))).status_code == 404
        assert (await http.post(f"{base}/a/b/c", headers=binary_headers("5"))).status_code == 400

        get = await http.get(rt.broker_url)
        assert get.status_code == 405
        assert get.headers["allow"] == "POST, OPTIONS"

        options = await http.options(rt.broker_url)
        assert options.status_code == 200
        assert options.headers["webhook-allowed-origin"] == "*"
        assert options.headers["webhook-allowed-rate"] == "*"


async def test_accepts_64_kib_events_and_answers_413_above_the_limit(tmp_path: Path) -> None:
    async with (
        eventing_runtime(tmp_path, [broker()], max_event_bytes=128 * 1024) as rt,
        httpx.AsyncClient() as http,
    ):
        big = b"x" * (64 * 1024)
        headers = {**binary_headers("big"), "content-type": "application/octet-stream"}
        assert (await http.post(rt.broker_url, headers=headers, content=big)).status_code == 202
        huge = b"x" * (128 * 1024 + 1)
        too_big = await http.post(rt.broker_url, headers=headers, content=huge)
        assert too_big.status_code == 413


async def test_structured_and_batched_events_are_delivered_in_binary_mode(tmp_path: Path) -> None:
    async with subscriber() as sub:
        resources = [broker(), trigger("all", sub.url)]
        async with eventing_runtime(tmp_path, resources) as rt, httpx.AsyncClient() as http:
            structured = {
                "specversion": "1.0",
                "id": "s1",
                "source": "/s",
                "type": "t",
                "datacontenttype": "application/json",
                "data": {"a": 1},
            }
            response = await http.post(
                rt.broker_url,
                content=json.dumps(structured),
                headers={"content-type": "application/cloudevents+json"},
            )
            assert response.status_code == 202
            batch = [{**structured, "id": f"b{i}"} for i in range(3)]
            response = await http.post(
                rt.broker_url,
                content=json.dumps(batch),
                headers={"content-type": "application/cloudevents-batch+json"},
            )
            assert response.status_code == 202
            received = await sub.wait_for(4)
    ids = sorted(r.ce["id"] for r in received)
    assert ids == ["b0", "b1", "b2", "s1"]
    first = next(r for r in received if r.ce["id"] == "s1")
    assert first.headers["content-type"] == "application/json"
    assert json.loads(first.body) == {"a": 1}
    assert first.headers["prefer"] == "reply"
    assert first.headers["kn-namespace"] == "default"
    assert "knativearrivaltime" in first.ce
    assert "knativebrokerttl" not in first.ce


async def test_a_batch_with_one_bad_event_is_rejected_whole(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        good = {"specversion": "1.0", "id": "ok", "source": "/s", "type": "t"}
        bad = {"specversion": "1.0", "source": "/s", "type": "t"}
        response = await http.post(
            rt.broker_url,
            content=json.dumps([good, bad]),
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 400
        assert rt.eventing.ingress.accepted == 0


async def test_an_event_whose_ttl_is_spent_is_refused_with_400(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        spent = binary_headers("ttl", knativebrokerttl="1")
        response = await http.post(rt.broker_url, headers=spent, content=b"{}")
        assert response.status_code == 400
        assert response.json()["field"] == "knativebrokerttl"
        alive = binary_headers("ttl2", knativebrokerttl="2")
        assert (await http.post(rt.broker_url, headers=alive, content=b"{}")).status_code == 202


def _cases(vendor_dir: Path, name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (vendor_dir / "conformance" / "cloudevents" / name).read_text()
    )["tests"]
    return cases


async def test_cloudevents_conformance_cases_are_accepted_or_rejected(
    tmp_path: Path, vendor_dir: Path
) -> None:
    structured = {"content-type": "application/cloudevents+json"}
    batched = {"content-type": "application/cloudevents-batch+json"}
    expectations = [
        ("valid-events.json", "event", structured, 202),
        ("invalid-events.json", "event", structured, 400),
        ("valid-batches.json", "batch", batched, 202),
        ("invalid-batches.json", "batch", batched, 400),
    ]
    wrong: list[str] = []
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        for name, key, headers, expected in expectations:
            for case in _cases(vendor_dir, name):
                body = json.dumps(case[key])
                response = await http.post(rt.broker_url, content=body, headers=headers)
                if response.status_code != expected:
                    wrong.append(f"{case['id']}: {response.status_code} != {expected}")
    assert wrong == []
