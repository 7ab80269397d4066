"""Which runtime reports re-reconcile the namespace: only those changing what a reconciler
reads of the revision (its readiness, its spec, its metadata); the rest, scale reports
included, are stored alone."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings, strategies as st

from bulut.controlplane.reconcilers import reconcile_namespace
from bulut.controlplane.reconcilers.reports import apply_runtime_report, reconciles

from .factories import READY, Namespace, resource, service

NOW = "2026-01-01T00:00:02Z"
REVISION = ("Revision", "orders-00001")


def ready_namespace() -> Namespace:
    """A namespace like the sample app's: two services, one split by tag, a broker and a
    trigger to one of them, every revision Ready and scaled to one."""
    split = service(
        "payments",
        traffic=[
            {"latestRevision": True, "percent": 100},
            {"revisionName": "payments-00001", "tag": "current", "percent": 0},
        ],
    )
    broker = resource("eventing.knative.dev/v1", "Broker", "default", {})
    trigger = resource(
        "eventing.knative.dev/v1",
        "Trigger",
        "audit",
        {
            "broker": "default",
            "subscriber": {
                "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
            },
        },
    )
    ns = Namespace().apply(service(), split, broker, trigger)
    scaled = {**READY, "desiredScale": 1, "actualScale": 1}
    return ns.report("orders-00001", scaled).report("payments-00001", scaled)


def runtime(**changes: Any) -> dict[str, Any]:
    """The report of a Ready revision with one instance, with ``changes``."""
    body: dict[str, Any] = copy.deepcopy(
        {**READY, "desiredScale": 1, "actualScale": 1, "readyInstances": 1}
    )
    body["conditions"].append({"type": "Active", "status": "True"})
    body.update(changes)
    return body


def reported(ns: Namespace, body: dict[str, Any]) -> dict[str, Any]:
    return apply_runtime_report("Revision", ns[REVISION], body, now=NOW)


def test_a_report_of_cold_starts_instances_and_memory_is_stored_without_a_reconcile() -> None:
    ns = ready_namespace()
    picture = {"coldStarts": {"pool": 3}, "instances": [{"pid": 7}], "zygote": {"pssBytes": 9}}
    after = reported(ns, runtime(**picture))
    assert after["status"]["bulut"]["coldStarts"] == {"pool": 3}
    assert not reconciles("Revision", ns[REVISION], after)


def test_a_report_of_the_active_condition_alone_is_stored_without_a_reconcile() -> None:
    ns = ready_namespace()
    body = runtime()
    body["conditions"][-1] = {"type": "Active", "status": "False", "reason": "NoTraffic"}
    assert not reconciles("Revision", ns[REVISION], reported(ns, body))


def test_a_report_changing_readiness_reconciles() -> None:
    ns = ready_namespace()
    failing = runtime()
    failing["conditions"][1] = {
        "type": "ContainerHealthy",
        "status": "False",
        "reason": "ExitCode1",
        "message": "Container failed with: boom",
    }
    assert reconciles("Revision", ns[REVISION], reported(ns, failing))


def test_a_report_changing_replicas_alone_is_stored_without_a_reconcile() -> None:
    ns = ready_namespace()
    scaled_up = reported(ns, runtime(desiredScale=2))
    assert scaled_up["status"]["desiredReplicas"] == 2
    assert not reconciles("Revision", ns[REVISION], scaled_up)
    assert not reconciles("Revision", ns[REVISION], reported(ns, runtime(actualScale=0)))


def test_a_scale_report_that_also_changes_readiness_reconciles() -> None:
    ns = ready_namespace()
    failing = runtime(actualScale=0)
    failing["conditions"][0] = {
        "type": "ResourcesAvailable",
        "status": "False",
        "reason": "NoInstances",
    }
    assert reconciles("Revision", ns[REVISION], reported(ns, failing))


def test_reports_on_other_kinds_always_reconcile() -> None:
    source = {"metadata": {"name": "changes"}, "status": {}}
    assert reconciles("ApiServerSource", source, copy.deepcopy(source))


CONDITION = st.sampled_from(["True", "False", "Unknown"])
REPORTS = st.fixed_dictionaries(
    {
        "available": CONDITION,
        "healthy": CONDITION,
        "active": CONDITION,
        "desiredScale": st.integers(0, 2),
        "actualScale": st.integers(0, 2),
        "picture": st.dictionaries(
            st.sampled_from(["coldStarts", "instances", "zygote", "activatorQueue"]),
            st.integers(0, 3),
        ),
    }
)


def as_runtime(drawn: dict[str, Any]) -> dict[str, Any]:
    conditions = [
        {"type": "ResourcesAvailable", "status": drawn["available"]},
        {"type": "ContainerHealthy", "status": drawn["healthy"], "reason": "ExitCode1"},
        {"type": "Active", "status": drawn["active"], "reason": "NoTraffic"},
    ]
    return {
        "conditions": conditions,
        "desiredScale": drawn["desiredScale"],
        "actualScale": drawn["actualScale"],
        **drawn["picture"],
    }


@settings(max_examples=60)
@given(st.lists(REPORTS, min_size=1, max_size=6))
def test_a_report_stored_without_a_reconcile_leaves_what_a_reconcile_would(
    drawn: list[dict[str, Any]],
) -> None:
    """The claim the shortcut rests on: whenever ``reconciles`` says no, reconciling the
    namespace with the report in it changes nothing, neither the revision nor its
    neighbours (Configuration, Route, Service, the trigger addressing the service)."""
    ns = ready_namespace()
    for body in map(as_runtime, drawn):
        after = reported(ns, body)
        staged = {**ns.objects, REVISION: after}
        if not reconciles("Revision", ns[REVISION], after):
            assert reconcile_namespace(staged, ns.addressing) == staged
        ns.objects = reconcile_namespace(staged, ns.addressing)
