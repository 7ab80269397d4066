"""Deciding a sync: what is in sync, what a wave holds, what is pruned."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.errors import InvalidInputError
from bulut.gitops.plan import Health, SyncStatus, diff_text, is_subset, plan_sync, worst
from bulut.gitops.tracking import TRACKING_ANNOTATION, ObjectRef, tracked_app, with_tracking


def config_map(name: str, data: dict[str, str], **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop", "annotations": dict(annotations)},
        "data": data,
    }


def live(document: dict[str, Any], app: str = "shop", **extra: Any) -> dict[str, Any]:
    """What the server keeps after applying ``document`` for ``app`` (metadata added)."""
    stored = with_tracking(app, document)
    stored["metadata"].update(uid="u-1", resourceVersion="7", creationTimestamp="t")
    stored["status"] = {"conditions": []}
    stored.update(extra)
    return stored


def test_the_tracking_id_has_argo_cds_format() -> None:
    tracked = with_tracking("shop", config_map("settings", {}))
    assert tracked["metadata"]["annotations"][TRACKING_ANNOTATION] == (
        "shop:/ConfigMap:shop/settings"
    )
    assert tracked_app(tracked) == "shop"


def test_server_added_fields_do_not_make_an_object_out_of_sync() -> None:
    desired = config_map("settings", {"a": "1"})
    plan = plan_sync("shop", [desired], [live(desired, immutable=False)])
    assert plan.status is SyncStatus.SYNCED
    assert plan.to_prune == []


def test_a_value_changed_by_hand_is_drift() -> None:
    desired = config_map("settings", {"a": "1"})
    edited = live(desired)
    edited["data"]["a"] = "2"
    plan = plan_sync("shop", [desired], [edited])
    assert plan.status is SyncStatus.OUT_OF_SYNC
    assert "-  a: '2'" in diff_text(plan.objects[0].desired or {}, edited)


def test_numbers_and_their_strings_compare_equal_as_kubernetes_reads_them() -> None:
    assert is_subset({"a": "1"}, {"a": 1})
    assert not is_subset({"a": [1, 2]}, {"a": [1]})


def test_only_objects_tracked_for_the_app_are_pruned() -> None:
    kept = config_map("kept", {})
    gone = config_map("gone", {})
    by_hand = config_map("by-hand", {})
    other_app = live(config_map("other", {}), app="billing")
    plan = plan_sync("shop", [kept], [live(kept), live(gone), by_hand, other_app])
    assert [str(o.ref) for o in plan.to_prune] == ["ConfigMap shop/gone"]
    assert plan.status is SyncStatus.OUT_OF_SYNC


def test_prune_off_keeps_objects_the_repository_dropped() -> None:
    gone = config_map("gone", {})
    assert plan_sync("shop", [], [live(gone)], prune=False).to_prune == []


def test_waves_are_applied_lowest_first_and_pruned_highest_first() -> None:
    first = config_map("first", {}, **{"argocd.argoproj.io/sync-wave": "-1"})
    second = config_map("second", {})
    third = config_map("third", {}, **{"argocd.argoproj.io/sync-wave": "5"})
    plan = plan_sync("shop", [third, second, first], [])
    assert [wave for wave, _ in plan.waves] == [-1, 0, 5]
    assert [d["metadata"]["name"] for d in plan.to_apply] == ["first", "second", "third"]
    old = [live(first), live(third)]
    assert [o.ref.name for o in plan_sync("shop", [], old).to_prune] == ["third", "first"]


def test_a_sync_wave_that_is_not_a_number_names_the_object() -> None:
    bad = config_map("bad", {}, **{"argocd.argoproj.io/sync-wave": "early"})
    with pytest.raises(InvalidInputError, match=r"ConfigMap shop/bad: annotation .*='early'"):
        plan_sync("shop", [bad], [])


def test_an_object_rendered_twice_is_refused() -> None:
    twice = config_map("twice", {})
    with pytest.raises(InvalidInputError, match="appears twice"):
        plan_sync("shop", [twice, twice], [])


def test_an_apps_health_is_its_worst_objects() -> None:
    assert worst([Health.HEALTHY, Health.DEGRADED, Health.PROGRESSING]) is Health.DEGRADED
    assert worst([]) is Health.HEALTHY


def test_references_read_group_kind_namespace_and_name() -> None:
    ref = ObjectRef.of(
        {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": "orders", "namespace": "shop"},
        }
    )
    assert str(ref) == "Service.serving.knative.dev shop/orders"
