"""The living condition set over plain dicts."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.controlplane.conditions import find, mark, mark_ready_from, mirror


def test_last_transition_time_moves_only_when_status_changes() -> None:
    status: dict[str, Any] = {}
    mark(status, "Ready", "Unknown", "Deploying", now="t1")
    mark(status, "Ready", "Unknown", "Other", now="t2")
    assert find(status, "Ready") == {
        "type": "Ready",
        "status": "Unknown",
        "reason": "Other",
        "lastTransitionTime": "t1",
    }
    mark(status, "Ready", "True", now="t3")
    assert (find(status, "Ready") or {})["lastTransitionTime"] == "t3"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("True", ""), ("True", ""), ("True", "")),
        (("False", "Broken"), ("Unknown", "Waiting"), ("False", "Broken")),
        (("Unknown", "Waiting"), ("False", "Broken"), ("False", "Broken")),
        (("Unknown", "First"), ("Unknown", "Second"), ("Unknown", "Second")),
        (("Unknown", "First"), ("Unknown", ""), ("Unknown", "First")),
        (("True", ""), ("Unknown", "Waiting"), ("Unknown", "Waiting")),
    ],
)
def test_ready_is_true_only_when_all_dependents_are(
    a: tuple[str, str], b: tuple[str, str], expected: tuple[str, str]
) -> None:
    status: dict[str, Any] = {}
    mark(status, "A", a[0], a[1], now="t")  # type: ignore[arg-type]
    mark(status, "B", b[0], b[1], now="t")  # type: ignore[arg-type]
    mark_ready_from(status, ["A", "B"], now="t")
    ready = find(status, "Ready") or {}
    assert (ready["status"], ready.get("reason", "")) == expected


def test_a_missing_dependent_counts_as_unknown() -> None:
    status: dict[str, Any] = {}
    mark(status, "A", "True", now="t")
    mark_ready_from(status, ["A", "B"], now="t")
    assert (find(status, "Ready") or {})["status"] == "Unknown"


def test_mirror_copies_another_resources_ready_condition() -> None:
    source = {
        "status": {
            "conditions": [{"type": "Ready", "status": "False", "reason": "R", "message": "M"}]
        }
    }
    status: dict[str, Any] = {}
    mirror(status, "RoutesReady", source, now="t")
    assert find(status, "RoutesReady") == {
        "type": "RoutesReady",
        "status": "False",
        "reason": "R",
        "message": "M",
        "lastTransitionTime": "t",
    }
