"""HAProxy on the warm path (ADR 0015) with real function processes: one HAProxy in front of
the gateway serves the module, each test deploys its own service.

The request-path behaviours the gateway's tests pin, as users see them through HAProxy: warm
requests go from HAProxy straight to an instance, a revision at zero is woken by the gateway
behind it (the activator), a malformed CloudEvent gets the gateway's 400 naming the attribute,
the first-byte timeout answers 504, the tag header routes, the router span comes from
HAProxy's log, and the autoscaler counts what HAProxy carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.serving.kingress.haproxy import executable
from bulut.serving.kingress.plan import parse_stat
from tests.contract.test_cloudevents_conformance import as_binary, cases, rejection
from tests.support.serving import DataPlane, revision, route, start_data_plane, stop_data_plane

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(executable() is None, reason="haproxy is not installed"),
]

WARM = {"autoscaling.knative.dev/min-scale": "1"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory,
    fixture_functions: Path,
    builds_dir: Path,
    build_function: Any,
) -> AsyncIterator[DataPlane]:
    for name in ("echo", "slow", "crashy"):
        build_function(name)
    running = await start_data_plane(
        tmp_path_factory.mktemp("haproxy"), fixture_functions, builds_dir, ingress="haproxy"
    )
    yield running
    await stop_data_plane(running)


async def deploy(
    plane: DataPlane,
    service: str,
    function: str,
    *,
    warm: bool = True,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> None:
    """Deploy ``service`` running ``function``; when ``warm``, wait until HAProxy routes it."""
    rev = revision(service, function=function, annotations={**(WARM if warm else {})})
    rev["metadata"]["annotations"].update(annotations or {})
    rev["spec"].update(spec)
    plane.feed.put(rev)
    plane.feed.put(route(service, [(f"{service}-00001", 100, "")]))
    await plane.wait_built(f"{service}-00001")
    if warm:
        await warm_in_haproxy(plane, service)


async def warm_in_haproxy(plane: DataPlane, service: str) -> None:
    assert plane.haproxy is not None
    ingress = plane.haproxy
    await plane.wait_for(
        lambda: f"{service}.default.localhost/0" in ingress.plan.routes,
        f"HAProxy to route {service} to its instance",
    )


async def backend_requests(plane: DataPlane, service: str) -> int:
    """Sessions HAProxy has sent to the service's revision backend."""
    assert plane.haproxy is not None
    loads = parse_stat(await plane.haproxy.process.show("stat -1 2 -1"))
    return sum(load.total for name, load in loads.items() if name.endswith(f":{service}-00001"))


async def test_a_warm_request_goes_from_haproxy_straight_to_the_instance(plane: DataPlane) -> None:
    await deploy(plane, "warm", "crashy")
    before = await backend_requests(plane, "warm")

    reply = await plane.client.get("/", headers=plane.host("warm"))

    assert reply.status_code == 200
    seen = reply.json()["headers"]
    assert reply.json()["env"]["K_REVISION"] == "warm-00001"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert "k-proxy-request" not in seen
    assert seen["traceparent"].startswith("00-")
    assert await backend_requests(plane, "warm") == before + 1


async def test_a_revision_at_zero_is_woken_by_the_activator_behind_haproxy(
    plane: DataPlane,
) -> None:
    await deploy(
        plane,
        "cold",
        "crashy",
        warm=False,
        annotations={"autoscaling.knative.dev/initial-scale": "0"},
    )

    first = await plane.client.get("/", headers=plane.host("cold"))
    await warm_in_haproxy(plane, "cold")
    second = await plane.client.get("/", headers=plane.host("cold"))

    assert first.status_code == 200
    assert first.json()["headers"]["k-proxy-request"] == "activator"
    assert second.status_code == 200
    assert "k-proxy-request" not in second.json()["headers"]


async def test_a_malformed_cloudevent_gets_the_gateways_400_a_valid_one_the_warm_path(
    plane: DataPlane,
) -> None:
    await deploy(plane, "events", "echo")
    event = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/tests",
        "ce-type": "test.ping",
        "content-type": "text/plain",
    }
    before = await backend_requests(plane, "events")

    malformed = await plane.client.post(
        "/",
        headers={**plane.host("events"), **{k: v for k, v in event.items() if k != "ce-source"}},
        content=b"hi",
    )
    warm = await plane.client.post("/", headers={**plane.host("events"), **event}, content=b"hi")
    after_warm = await backend_requests(plane, "events")
    json_data = await plane.client.post(
        "/",
        headers={**plane.host("events"), **event, "content-type": "application/json"},
        content=b'{"n": 1}',
    )
    broken_json = await plane.client.post(
        "/",
        headers={**plane.host("events"), **event, "content-type": "application/json"},
        content=b'{"n": ',
    )

    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")
    assert "source" in malformed.text
    assert warm.status_code == 200 and after_warm == before + 1  # HAProxy carried it
    assert json_data.status_code == 200  # through the gateway, which parsed the data
    assert broken_json.status_code == 400 and "data" in broken_json.text
    assert await backend_requests(plane, "events") == after_warm


async def test_no_invalid_conformance_event_takes_the_warm_path_and_every_valid_one_is_served(
    plane: DataPlane, vendor_dir: Path
) -> None:
    await deploy(plane, "conformance", "echo")
    invalid = [as_binary(test["event"]) for test in cases(vendor_dir, "invalid-events.json")]
    valid = [as_binary(test["event"]) for test in cases(vendor_dir, "valid-events.json")]
    before = await backend_requests(plane, "conformance")

    async def post(message: tuple[dict[str, str], bytes]) -> int:
        headers, body = message
        reply = await plane.client.post(
            "/", headers={**plane.host("conformance"), **headers}, content=body
        )
        return reply.status_code

    refused = [await post(message) for message in invalid if message is not None]
    warm_after_invalid = await backend_requests(plane, "conformance")
    served = [
        await post(message) for message in valid if message is not None and not rejection(*message)
    ]

    assert len(refused) >= 20 and set(refused) == {400}
    assert warm_after_invalid == before  # not one of them reached HAProxy's backend
    assert len(served) >= 5 and set(served) == {200}
    assert await backend_requests(plane, "conformance") > before  # some took the warm path


async def test_the_first_byte_timeout_answers_504_request_timeout(plane: DataPlane) -> None:
    await deploy(plane, "late", "slow", timeoutSeconds=30, responseStartTimeoutSeconds=1)
    started = asyncio.get_running_loop().time()

    reply = await plane.client.get("/?ms=4000", headers=plane.host("late"))

    assert reply.status_code == 504
    assert reply.text.strip() == "request timeout"
    assert asyncio.get_running_loop().time() - started < 3.5


async def test_the_tag_header_routes_when_the_feature_is_enabled(plane: DataPlane) -> None:
    plane.feed.put(revision("tagged", 1, function="crashy", annotations=WARM))
    plane.feed.put(revision("tagged", 2, function="crashy", annotations=WARM))
    plane.feed.put(route("tagged", [("tagged-00001", 0, "old"), ("tagged-00002", 100, "")]))
    plane.feed.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-features", "namespace": "knative-serving"},
            "data": {"tag-header-based-routing": "enabled"},
        }
    )
    assert plane.haproxy is not None
    ingress = plane.haproxy
    await plane.wait_for(
        lambda: ingress.plan.tags.get("tagged.default.localhost@old", "").endswith("tagged-00001"),
        "HAProxy to route the tag to its warm revision",
    )

    async def revision_for(tag: str) -> str:
        reply = await plane.client.get(
            "/", headers={**plane.host("tagged"), "knative-serving-tag": tag}
        )
        return str(reply.json()["env"]["K_REVISION"])

    assert await revision_for("old") == "tagged-00001"
    assert await revision_for("nonexistent") == "tagged-00002"


async def test_the_router_span_and_the_request_metric_come_from_haproxys_log(
    plane: DataPlane,
) -> None:
    await deploy(plane, "traced", "crashy")
    router = plane.serving.router
    router.tracer, router.metrics = Tracer(), PlatformMetrics()
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    try:
        reply = await plane.client.get("/", headers={**plane.host("traced"), "traceparent": parent})
        await plane.wait_for(lambda: bool(router.tracer._pending), "the router span")
        spans = router.tracer.take()
        count = router.metrics.registry.get_sample_value(
            "kn_serving_invocation_duration_seconds_count",
            {
                "k8s_namespace_name": "default",
                "kn_service_name": "traced",
                "kn_configuration_name": "traced",
                "kn_revision_name": "traced-00001",
                "http_response_status_code": "200",
            },
        )
    finally:
        router.tracer, router.metrics = Tracer.disabled(), None

    sent = reply.json()["headers"]["traceparent"].split("-")
    (span,) = [s for s in spans if s.name == "router traced-00001"]
    assert (span.trace_id, span.parent_id) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
    )
    assert span.span_id == sent[2]  # the instance's parent is the router span
    assert span.attributes["http.response.status_code"] == 200
    assert count == 1


async def test_a_request_whose_trace_is_not_recorded_is_counted_but_never_logged(
    plane: DataPlane,
) -> None:
    await deploy(plane, "untraced", "crashy")
    assert plane.haproxy is not None and plane.haproxy.log is not None
    log = plane.haproxy.log
    router = plane.serving.router
    router.tracer, router.metrics = Tracer(), PlatformMetrics()
    labels = {
        "k8s_namespace_name": "default",
        "kn_service_name": "untraced",
        "kn_configuration_name": "untraced",
        "kn_revision_name": "untraced-00001",
    }

    def answered(status_class: str) -> float:
        assert router.metrics is not None
        value = router.metrics.registry.get_sample_value(
            "bulut_ingress_responses_total", {**labels, "http_response_status_class": status_class}
        )
        return value or 0.0

    unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    try:
        records = log.records
        for _ in range(3):
            reply = await plane.client.get(
                "/", headers={**plane.host("untraced"), "traceparent": unsampled}
            )
            assert reply.status_code == 200
        await plane.wait_for(lambda: answered("2xx") == 3, "show stat to count the answers")
        assert log.records == records  # no line was logged, so none was read
        await plane.client.get("/", headers={**plane.host("untraced"), "traceparent": sampled})
        await plane.wait_for(lambda: log.records == records + 1, "the recorded trace's line")
        latencies = router.metrics.registry.get_sample_value(
            "kn_serving_invocation_duration_seconds_count",
            {**labels, "http_response_status_code": "200"},
        )
    finally:
        router.tracer, router.metrics = Tracer.disabled(), None

    assert latencies == 1  # observed for the recorded trace only


async def test_the_autoscaler_counts_the_requests_haproxy_carries(plane: DataPlane) -> None:
    await deploy(plane, "busy", "slow")
    runtime = plane.serving.revisions[("default", "busy-00001")]

    requests = [
        asyncio.ensure_future(plane.client.get("/?ms=1500", headers=plane.host("busy")))
        for _ in range(3)
    ]
    await plane.wait_for(lambda: runtime.tracker.in_flight >= 3, "3 requests in flight", 2.0)
    replies = await asyncio.gather(*requests)

    assert [r.status_code for r in replies] == [200, 200, 200]
    await plane.wait_for(lambda: runtime.tracker.in_flight == 0, "the requests to finish", 2.0)


async def test_a_host_no_route_serves_reaches_the_gateway(plane: DataPlane) -> None:
    reply = await plane.client.get("/", headers={"host": "nothing.default.localhost"})

    assert reply.status_code == 404
    assert reply.text.strip() == "no service for this host"
