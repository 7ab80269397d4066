"""managedFields and server-side apply."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.fields import from_fields_v1, record_update, server_side_apply, to_fields_v1
from bulut.apis.status import FieldConflictError

NOW = "2026-12-07T00:00:00Z"


def created() -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "example.dev/v1",
        "kind": "Thing",
        "metadata": {"name": "t", "labels": {"app": "t"}},
        "spec": {"image": "a", "size": 1},
    }
    managed = record_update(
        [], None, body, manager="creator", api_version="example.dev/v1", now=NOW
    )
    body["metadata"]["managedFields"] = managed
    return body


def test_fields_v1_round_trips() -> None:
    paths = {("spec", "image"), ("metadata", "labels", "app")}
    assert to_fields_v1(paths) == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:image": {}},
    }
    assert from_fields_v1(to_fields_v1(paths)) == paths


def test_an_update_takes_the_fields_it_changed() -> None:
    live = created()
    changed = {**live, "spec": {"image": "b", "size": 1}}
    managed = record_update(
        live["metadata"]["managedFields"],
        live,
        changed,
        manager="editor",
        api_version="example.dev/v1",
        now=NOW,
    )
    owners = {m["manager"]: from_fields_v1(m["fieldsV1"]) for m in managed}
    assert owners["editor"] == {("spec", "image")}
    assert ("spec", "image") not in owners["creator"]


def test_applying_another_managers_field_with_a_new_value_conflicts() -> None:
    live = created()
    applied = {
        "apiVersion": "example.dev/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": {"image": "b"},
    }
    with pytest.raises(FieldConflictError) as caught:
        server_side_apply(live, applied, manager="ssa", force=False, api_version="v1", now=NOW)
    assert caught.value.conflicts == [('"creator" using example.dev/v1', ".spec.image")]
    merged, managed = server_side_apply(
        live, applied, manager="ssa", force=True, api_version="v1", now=NOW
    )
    assert merged["spec"] == {"image": "b", "size": 1}
    owners = {m["manager"]: from_fields_v1(m["fieldsV1"]) for m in managed}
    assert owners["ssa"] == {("spec", "image")}
    assert ("spec", "image") not in owners["creator"]


def test_a_field_dropped_from_the_applied_config_is_removed() -> None:
    first = {
        "apiVersion": "v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": {"a": 1, "b": 2},
    }
    live, managed = server_side_apply(
        None, first, manager="m", force=False, api_version="v1", now=NOW
    )
    live["metadata"]["managedFields"] = managed
    second = {**first, "spec": {"a": 1}}
    after, _ = server_side_apply(live, second, manager="m", force=False, api_version="v1", now=NOW)
    assert after["spec"] == {"a": 1}
