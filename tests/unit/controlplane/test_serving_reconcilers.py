"""Service → Configuration → Revision and Route, with Knative's conditions and reasons."""

from __future__ import annotations

import copy

from bulut.controlplane.reconcilers import reconcile_namespace

from .factories import FAILED, READY, Namespace, service

WAITING = 'Configuration "orders" is waiting for a Revision to become ready.'


def test_a_new_service_stamps_configuration_route_and_first_revision() -> None:
    ns = Namespace().apply(service())
    assert ns.names("Configuration") == ["orders"]
    assert ns.names("Route") == ["orders"]
    assert ns.names("Revision") == ["orders-00001"]
    labels = ns["Revision", "orders-00001"]["metadata"]["labels"]
    assert labels["serving.knative.dev/service"] == "orders"
    assert labels["serving.knative.dev/configuration"] == "orders"
    assert labels["serving.knative.dev/configurationGeneration"] == "1"
    owner = ns["Revision", "orders-00001"]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Configuration", "orders", True)


def test_revision_starts_deploying_and_service_waits_with_revision_missing() -> None:
    ns = Namespace().apply(service())
    assert ns.condition("Revision", "orders-00001") == ("Unknown", "Deploying", "")
    assert ns.condition("Route", "orders", "AllTrafficAssigned") == (
        "Unknown",
        "RevisionMissing",
        WAITING,
    )
    assert ns.condition("Service", "orders") == ("Unknown", "RevisionMissing", WAITING)
    status = ns.status("Service", "orders")
    assert status["latestCreatedRevisionName"] == "orders-00001"
    assert "latestReadyRevisionName" not in status
    assert status["url"] == "http://orders.default.localhost:8080"
    assert status["traffic"] == []


def test_ready_report_makes_configuration_route_and_service_ready() -> None:
    ns = (
        Namespace()
        .apply(service())
        .report("orders-00001", {**READY, "desiredScale": 1, "actualScale": 1})
    )
    assert ns.condition("Revision", "orders-00001")[0] == "True"
    assert ns.status("Configuration", "orders")["latestReadyRevisionName"] == "orders-00001"
    assert ns.condition("Service", "orders")[0] == "True"
    assert ns.status("Service", "orders")["traffic"] == [
        {"revisionName": "orders-00001", "latestRevision": True, "percent": 100}
    ]
    rev_status = ns.status("Revision", "orders-00001")
    assert (rev_status["desiredReplicas"], rev_status["actualReplicas"]) == (1, 1)
    assert (
        ns["Revision", "orders-00001"]["metadata"]["labels"]["serving.knative.dev/routingState"]
        == "active"
    )


def test_runtime_extras_are_kept_under_status_bulut() -> None:
    runtime = {**READY, "readyInstances": 2, "zygote": {"pid": 7}, "coldStarts": {"fork": 3}}
    ns = Namespace().apply(service()).report("orders-00001", runtime)
    assert ns.status("Revision", "orders-00001")["bulut"] == {
        "readyInstances": 2,
        "zygote": {"pid": 7},
        "coldStarts": {"fork": 3},
    }


def test_active_condition_is_informational_and_does_not_block_ready() -> None:
    runtime = copy.deepcopy(READY)
    runtime["conditions"].append({"type": "Active", "status": "False", "reason": "NoTraffic"})
    ns = Namespace().apply(service()).report("orders-00001", runtime)
    assert ns.condition("Revision", "orders-00001") == ("True", "", "")
    active = next(
        c for c in ns.status("Revision", "orders-00001")["conditions"] if c["type"] == "Active"
    )
    assert active["severity"] == "Info"


def test_a_template_change_stamps_a_new_revision_and_traffic_follows_when_ready() -> None:
    ns = Namespace().apply(service()).report("orders-00001", READY)
    changed = service()
    changed["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    ns.apply(changed)
    assert ns.names("Revision") == ["orders-00001", "orders-00002"]
    assert ns.status("Configuration", "orders")["latestCreatedRevisionName"] == "orders-00002"
    assert ns.status("Route", "orders")["traffic"][0]["revisionName"] == "orders-00001"
    assert ns.condition("Configuration", "orders")[0] == "Unknown"
    ns.report("orders-00002", READY)
    assert ns.status("Route", "orders")["traffic"][0]["revisionName"] == "orders-00002"
    assert (
        ns["Revision", "orders-00001"]["metadata"]["labels"]["serving.knative.dev/routingState"]
        == "reserve"
    )


def test_a_metadata_only_change_does_not_stamp_a_revision() -> None:
    ns = Namespace().apply(service())
    relabelled = service()
    relabelled["metadata"]["labels"] = {"team": "a"}
    ns.apply(relabelled)
    assert ns.names("Revision") == ["orders-00001"]
    assert ns["Service", "orders"]["metadata"]["generation"] == 1


def test_a_failed_revision_fails_configuration_route_and_service() -> None:
    ns = Namespace().apply(service()).report("orders-00001", FAILED)
    assert ns.condition("Revision", "orders-00001") == (
        "False",
        "ExitCode1",
        "Container failed with: boom",
    )
    assert ns.condition("Configuration", "orders") == (
        "False",
        "RevisionFailed",
        'Revision "orders-00001" failed with message: Container failed with: boom.',
    )
    assert ns.condition("Route", "orders", "AllTrafficAssigned") == (
        "False",
        "RevisionMissing",
        'Configuration "orders" does not have any ready Revision.',
    )
    assert ns.condition("Service", "orders")[:2] == ("False", "RevisionFailed")


def test_a_named_revision_that_is_not_ready_is_kept_out_of_traffic() -> None:
    ns = Namespace().apply(service()).report("orders-00001", READY)
    changed = service(
        traffic=[
            {"revisionName": "orders-00001", "percent": 50, "tag": "stable"},
            {"revisionName": "orders-00002", "percent": 50, "tag": "next"},
        ]
    )
    changed["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    ns.apply(changed)
    assert [t["revisionName"] for t in ns.status("Route", "orders")["traffic"]] == ["orders-00001"]
    assert ns.condition("Route", "orders", "AllTrafficAssigned") == (
        "Unknown",
        "RevisionMissing",
        'Revision "orders-00002" is not yet ready.',
    )
    ns.report("orders-00002", READY)
    traffic = ns.status("Service", "orders")["traffic"]
    assert [(t["revisionName"], t["percent"], t["tag"]) for t in traffic] == [
        ("orders-00001", 50, "stable"),
        ("orders-00002", 50, "next"),
    ]
    assert traffic[1]["url"] == "http://next-orders.default.localhost:8080"
    assert ns.condition("Service", "orders")[0] == "True"


def test_a_missing_revision_in_traffic_is_a_failure() -> None:
    ns = Namespace().apply(service(traffic=[{"revisionName": "orders-00009", "percent": 100}]))
    assert ns.condition("Route", "orders", "AllTrafficAssigned") == (
        "False",
        "RevisionMissing",
        'Revision "orders-00009" referenced in traffic not found.',
    )


def test_a_route_to_a_missing_configuration_reports_configuration_missing() -> None:
    route = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Route",
        "metadata": {"name": "r", "namespace": "default"},
        "spec": {"traffic": [{"configurationName": "nope", "percent": 100}]},
    }
    ns = Namespace().apply(route)
    assert ns.condition("Route", "r", "AllTrafficAssigned")[:2] == ("False", "ConfigurationMissing")


def test_urls_omit_port_80() -> None:
    ns = Namespace(port=80).apply(service())
    assert ns.status("Route", "orders")["url"] == "http://orders.default.localhost"


def test_bring_your_own_revision_name_is_used() -> None:
    byo = service()
    byo["spec"]["template"]["metadata"] = {"name": "orders-blue"}
    ns = Namespace().apply(byo)
    assert ns.names("Revision") == ["orders-blue"]


def test_a_configuration_owned_by_someone_else_makes_the_service_not_owned() -> None:
    config = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Configuration",
        "metadata": {"name": "orders", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}},
    }
    ns = Namespace().apply(config, service())
    assert ns.condition("Service", "orders", "ConfigurationsReady") == (
        "False",
        "NotOwned",
        'There is an existing Configuration "orders" that we do not own.',
    )


def test_deleting_a_service_collects_its_children() -> None:
    ns = Namespace().apply(service(), service("other")).delete("Service", "orders")
    assert ns.names("Revision") == ["other-00001"]
    assert ns.names("Configuration") == ["other"]
    assert ns.names("Route") == ["other"]


def test_reconciling_twice_changes_nothing() -> None:
    ns = Namespace().apply(service()).report("orders-00001", READY)
    before = copy.deepcopy(ns.objects)
    assert ns.reconcile().objects == before


def test_long_names_are_shortened_like_kmeta_child_name() -> None:
    name = "a" * 63
    ns = Namespace().apply(service(name))
    (revision,) = ns.names("Revision")
    assert len(revision) == 63
    assert revision.endswith("-00001")


def test_reconcile_does_not_modify_its_input() -> None:
    ns = Namespace().apply(service(), service("other")).report("orders-00001", READY)
    changed = service()
    changed["spec"]["template"]["spec"]["containerConcurrency"] = 9
    ns.apply(changed)
    frozen = copy.deepcopy(ns.objects)
    reconcile_namespace(ns.objects, ns.addressing)
    assert ns.objects == frozen
