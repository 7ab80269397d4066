"""Which API changes an ApiServerSource turns into which events (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bulut.apis.selectors import selector_text
from bulut.eventing.sources.apiserver import (
    change_event,
    parse_apiserversource,
    plural_of,
    selected,
    subject_of,
)

API = "https://127.0.0.1:8081"


def source(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "ApiServerSource",
        "metadata": {"name": "watch", "namespace": "shop"},
        "spec": {
            "mode": "Reference",
            "resources": [{"apiVersion": "v1", "kind": "ConfigMap"}],
            "sink": {"uri": "http://sink.example/"},
            **spec,
        },
        "status": {"sinkUri": "http://sink.example/"},
    }


def configmap(name: str = "settings", namespace: str = "shop", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "data": {"colour": "blue"},
    }


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("ConfigMap", "configmaps"),
        ("Ingress", "ingresses"),
        ("Policy", "policies"),
        ("Pod", "pods"),
    ],
)
def test_the_plural_is_guessed_from_the_kind_as_the_adapter_does(kind: str, plural: str) -> None:
    assert plural_of(kind) == plural


def test_the_subject_names_the_object_by_its_path() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
    }
    assert subject_of(deployment) == "/apis/apps/v1/namespaces/default/deployments/web"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    assert subject_of(namespace) == "/apis/v1/namespaces//namespaces/shop"


def test_a_reference_mode_event_carries_the_reference_and_the_four_extensions() -> None:
    spec = parse_apiserversource(source())
    event = change_event(spec, "MODIFIED", configmap(), API)
    assert event.get("type") == "dev.knative.apiserver.ref.update"
    assert event.get("source") == API
    assert event.get("datacontenttype") == "application/json"
    assert [event.get(k) for k in ("kind", "apiversion", "name", "namespace")] == [
        "ConfigMap",
        "v1",
        "settings",
        "shop",
    ]
    assert json.loads(event.data or b"") == {
        "kind": "ConfigMap",
        "namespace": "shop",
        "name": "settings",
        "apiVersion": "v1",
    }


def test_a_resource_mode_event_carries_the_object_and_overrides_win() -> None:
    spec = parse_apiserversource(
        source(mode="Resource", ceOverrides={"extensions": {"name": "renamed", "team": "a"}})
    )
    event = change_event(spec, "DELETED", configmap(), API)
    assert event.get("type") == "dev.knative.apiserver.resource.delete"
    assert json.loads(event.data or b"")["data"] == {"colour": "blue"}
    assert (event.get("name"), event.get("team")) == ("renamed", "a")


def test_only_objects_of_the_listed_kinds_in_the_watched_namespaces_are_selected() -> None:
    spec = parse_apiserversource(source())
    assert selected(spec, configmap(), frozenset({"shop"}))
    assert not selected(spec, configmap(namespace="other"), frozenset({"shop"}))
    assert selected(spec, configmap(namespace="other"), None)
    secret = {**configmap(), "kind": "Secret"}
    assert not selected(spec, secret, None)


def test_a_label_selector_and_an_owner_filter_narrow_the_selection() -> None:
    spec = parse_apiserversource(
        source(
            resources=[
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "selector": {
                        "matchLabels": {"app": "shop"},
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}],
                    },
                }
            ],
            owner={"apiVersion": "apps/v1", "kind": "Deployment"},
        )
    )
    owned = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": True}]
    merely_owned = [{**owned[0], "controller": False}]
    labels = {"app": "shop", "tier": "web"}
    assert selected(spec, configmap(labels=labels, ownerReferences=owned), None)
    assert not selected(spec, configmap(labels=labels, ownerReferences=merely_owned), None)
    assert not selected(spec, configmap(labels=labels), None)
    assert not selected(spec, configmap(labels={"app": "shop"}, ownerReferences=owned), None)


def test_the_namespace_selector_picks_namespaces_by_their_labels() -> None:
    labels = {"a": {"team": "x"}, "b": {"team": "y"}, "c": {"team": "x"}}
    assert parse_apiserversource(source()).namespaces(labels) == ["shop"]
    chosen = parse_apiserversource(source(namespaceSelector={"matchLabels": {"team": "x"}}))
    assert chosen.namespaces(labels) == ["a", "c"]
    every = parse_apiserversource(source(namespaceSelector={}))
    assert every.namespace_selector == "" and every.namespaces(labels) == ["a", "b", "c"]


def test_a_label_selector_object_reads_as_kubernetes_renders_it() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "t", "operator": "NotIn", "values": ["y", "x"]},
            {"key": "e", "operator": "Exists"},
            {"key": "g", "operator": "DoesNotExist"},
        ],
    }
    assert selector_text(selector) == "a=1,b=2,t notin (x,y),e,!g"
    assert selector_text({}) == "" and selector_text(None) == ""
