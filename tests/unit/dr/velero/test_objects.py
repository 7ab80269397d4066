"""Velero objects the cluster drill creates, and how it reads their status."""

from __future__ import annotations

import pytest

from bulut.dr.velero import objects


def test_a_backup_keeps_services_and_excludes_knative_children() -> None:
    backup = objects.backup("b", ["shop"], labels={"bulut.dev/drill": "true"})
    spec = backup["spec"]
    assert spec["includedNamespaces"] == ["shop"]
    assert "revisions.serving.knative.dev" in spec["excludedResources"]
    assert "services.serving.knative.dev" not in spec["excludedResources"]
    assert set(objects.KEPT).isdisjoint(spec["excludedResources"])


def test_the_restore_plan_puts_services_first_into_the_mapped_namespace() -> None:
    first, second = objects.restore_plan("d", "b", {"shop": "shop-drill"})
    assert first["metadata"]["name"] == "d-services"
    assert "services.serving.knative.dev" in first["spec"]["includedResources"]
    assert "services.serving.knative.dev" in second["spec"]["excludedResources"]
    assert "revisions.serving.knative.dev" in second["spec"]["excludedResources"]
    assert all(r["spec"]["namespaceMapping"] == {"shop": "shop-drill"} for r in (first, second))


@pytest.mark.parametrize(
    ("phase", "verdict"),
    [("Completed", "succeeded"), ("PartiallyFailed", "failed"), ("Failed", "failed"),
     ("FailedValidation", "failed"), ("InProgress", "pending"), ("New", "pending"),
     ("WaitingForPluginOperations", "pending"), ("Finalizing", "pending")],
)  # fmt: skip
def test_phases_map_to_verdicts(phase: str, verdict: str) -> None:
    assert objects.verdict(phase) == verdict


def test_a_missing_status_is_a_new_object() -> None:
    assert objects.phase_of({}) == "New"
    assert objects.problems_of({"status": {"phase": "Completed", "warnings": 2}}) == (
        "phase Completed, 2 warnings, 0 errors"
    )


def test_ready_needs_the_ready_condition_for_the_current_generation() -> None:
    ready = {"type": "Ready", "status": "True"}
    current = {"observedGeneration": 2, "conditions": [ready]}
    assert objects.is_ready({"metadata": {"generation": 2}, "status": current})
    assert not objects.is_ready({"metadata": {"generation": 3}, "status": current})
    assert not objects.is_ready({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})


def test_the_inventory_comparison_lists_what_the_restore_lacks() -> None:
    source = [{"kind": "Service", "metadata": {"name": "orders"}},
              {"kind": "Trigger", "metadata": {"name": "orders"}}]  # fmt: skip
    restored = [{"kind": "Service", "metadata": {"name": "orders"}}]
    assert objects.missing_after_restore(source, restored) == ["Trigger/orders"]
