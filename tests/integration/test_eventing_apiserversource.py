"""ApiServerSource on the whole local platform: ConfigMap changes become CloudEvents.

A real control plane, eventing plane and a recording sink on loopback: the source's watch
runs in-process on the control plane's watch hub, and its events go through eventing's
delivery path to the sink's URL. One platform serves the module; each test has its own
source and sink.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bulut.local import LocalPlatform
from tests.support.eventing import Subscriber, subscriber
from tests.support.platform import condition
from tests.support.programs import programs_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPlatform]:
    async with programs_platform(tmp_path_factory.mktemp("apiserversource")) as local:
        yield local


@pytest_asyncio.fixture(loop_scope="module")
async def sink() -> AsyncIterator[Subscriber]:
    async with subscriber() as recording:
        yield recording


def source(name: str, sink_url: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "ApiServerSource",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "resources": [{"apiVersion": "v1", "kind": "ConfigMap"}],
            "sink": {"uri": sink_url},
            **spec,
        },
    }


def configmap(
    name: str,
    data: dict[str, str],
    namespace: str = "default",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


async def deployed(local: LocalPlatform, name: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        found = await local.control.get("ApiServerSource", "default", name)
        return found if condition(found, "Ready").get("status") == "True" else None

    return await eventually(check, f"ApiServerSource {name} Ready")


async def test_a_configmap_add_update_and_delete_arrive_as_resource_events(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    await platform.control.apply([configmap("before", {"a": "1"})])  # exists first: no event
    await platform.control.apply([source("watch-cm", sink.url, mode="Resource")])
    status = (await deployed(platform, "watch-cm"))["status"]

    await platform.control.apply([configmap("settings", {"colour": "blue"})])
    await platform.control.apply([configmap("settings", {"colour": "green"})])
    await platform.control.delete("ConfigMap", "default", "settings")
    received = await sink.wait_for(3)

    api = platform.settings.control_url
    assert [r.ce["type"] for r in received] == [
        "dev.knative.apiserver.resource.add",
        "dev.knative.apiserver.resource.update",
        "dev.knative.apiserver.resource.delete",
    ]
    first = received[0].ce
    assert first["source"] == api
    assert first["subject"] == "/apis/v1/namespaces/default/configmaps/settings"
    assert (first["kind"], first["apiversion"], first["name"], first["namespace"]) == (
        "ConfigMap",
        "v1",
        "settings",
        "default",
    )
    assert [json.loads(r.body)["data"]["colour"] for r in received] == ["blue", "green", "green"]
    assert status["sinkUri"] == sink.url and status["namespaces"] == ["default"]
    assert {a["type"] for a in status["ceAttributes"]} == {
        "dev.knative.apiserver.resource.add",
        "dev.knative.apiserver.resource.update",
        "dev.knative.apiserver.resource.delete",
    }
    assert {c["type"] for c in status["conditions"]} >= {
        "SinkProvided",
        "Deployed",
        "SufficientPermissions",
        "Ready",
    }


async def test_reference_mode_sends_the_reference_and_honours_the_label_selector(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    selector = {"matchLabels": {"app": "shop"}}
    await platform.control.apply(
        [
            source(
                "refs",
                sink.url,
                resources=[{"apiVersion": "v1", "kind": "ConfigMap", "selector": selector}],
                ceOverrides={"extensions": {"team": "platform"}},
            )
        ]
    )
    await deployed(platform, "refs")
    await platform.control.apply([configmap("other", {"x": "1"}, labels={"app": "blog"})])
    await platform.control.apply([configmap("mine", {"x": "1"}, labels={"app": "shop"})])
    received = await sink.wait_for(1)

    assert len(received) == 1
    event = received[0]
    assert event.ce["type"] == "dev.knative.apiserver.ref.add"
    assert event.ce["team"] == "platform"
    assert json.loads(event.body) == {
        "kind": "ConfigMap",
        "namespace": "default",
        "name": "mine",
        "apiVersion": "v1",
    }


async def test_a_namespace_selector_watches_the_matching_namespaces_only(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": labels}}
        for n, labels in (("team-a", {"watch": "yes"}), ("team-b", {"watch": "no"}))
    ]
    await platform.control.apply(namespaces)
    await platform.control.apply(
        [source("across", sink.url, namespaceSelector={"matchLabels": {"watch": "yes"}})]
    )

    async def reported() -> list[str] | None:
        found = (await platform.control.get("ApiServerSource", "default", "across"))["status"]
        return (
            found.get("namespaces")
            if condition({"status": found}, "Ready").get("status") == "True"
            and found.get("namespaces")
            else None
        )

    assert await eventually(reported, "the selected namespaces in status") == ["team-a"]
    await platform.control.apply([configmap("skipped", {"x": "1"}, namespace="team-b")])
    await platform.control.apply([configmap("seen", {"x": "1"}, namespace="team-a")])
    received = await sink.wait_for(1)
    assert [r.ce["subject"] for r in received] == ["/apis/v1/namespaces/team-a/configmaps/seen"]
