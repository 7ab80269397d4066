"""gitops/overlays: every overlay builds, validates, meets restricted-v2, and wires up."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.manifests.kustomize import kustomization_roots
from bulut.manifests.loading import LoadedDocument, kustomize_build
from bulut.manifests.policy import check_document
from bulut.manifests.schemas import SchemaStore, bundled_store, load_store
from bulut.manifests.validate import Validator, cluster_serving_config

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "gitops"
OVERLAYS = sorted(path.name for path in (GITOPS / "overlays").iterdir() if path.is_dir())
NAMESPACES = {"dev": "shop-dev", "staging": "shop-staging", "prod": "shop-prod"}
KN_FUNC_FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/func.yaml"))
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# The features and defaults the cluster's Knative runs with (the KnativeServing CR).
CLUSTER = cluster_serving_config(REPO)


@pytest.fixture(scope="module")
def upstream_store(crds_dir: Path) -> SchemaStore:
    """The upstream CRDs the overlays need, straight from bulut/apis/crds (no bundle)."""
    store = load_store(bundled=False)
    for area in ("knative", "openshift", "prometheus-operator", "argo-cd"):
        store.add_directory(crds_dir / area)
    return store


@pytest.fixture(scope="module")
def builds() -> dict[str, list[LoadedDocument]]:
    return {name: kustomize_build(GITOPS / "overlays" / name) for name in OVERLAYS}


def docs(builds: dict[str, list[LoadedDocument]], overlay: str) -> list[dict[str, Any]]:
    return [item.document for item in builds[overlay]]


def of_kind(documents: list[dict[str, Any]], group: str, kind: str) -> list[dict[str, Any]]:
    return [
        d
        for d in documents
        if d["kind"] == kind and str(d["apiVersion"]).rpartition("/")[0] == group
    ]


def ksvcs(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return of_kind(documents, "serving.knative.dev", "Service")


def test_the_three_environments_exist() -> None:
    assert OVERLAYS == ["dev", "prod", "staging"]


def test_every_kustomization_in_the_tree_builds() -> None:
    roots = list(kustomization_roots(GITOPS))
    assert len(roots) >= 15
    for root in roots:
        assert kustomize_build(root) is not None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_document_validates_against_the_bundled_schemas(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    report = Validator(bundled_store(), serving=CLUSTER).check(builds[overlay], overlay)
    assert [str(problem) for problem in report.problems] == []
    assert report.unchecked == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_document_validates_against_the_vendored_upstream_schemas(
    builds: dict[str, list[LoadedDocument]], overlay: str, upstream_store: SchemaStore
) -> None:
    report = Validator(upstream_store, serving=CLUSTER).check(builds[overlay], overlay)
    assert [str(problem) for problem in report.problems] == []
    assert report.unchecked == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_template_meets_restricted_v2_with_resources(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    violations = {
        f"{d['kind']}/{d['metadata']['name']}": [str(v) for v in check_document(d)]
        for d in docs(builds, overlay)
    }
    assert {name: found for name, found in violations.items() if found} == {}
    assert len(ksvcs(docs(builds, overlay))) == 5


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_environment_namespace(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    namespaces = {d["metadata"].get("namespace") for d in docs(builds, overlay)}
    assert namespaces == {NAMESPACES[overlay]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_knative_defaults_are_explicit_and_creator_annotations_absent(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    for service in ksvcs(docs(builds, overlay)):
        spec = service["spec"]["template"]["spec"]
        assert spec["containers"][0]["name"] == "user-container"
        assert spec["timeoutSeconds"] == 300
        assert isinstance(spec["containerConcurrency"], int)
        assert spec["enableServiceLinks"] is False
        assert service["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]
        annotations = service["metadata"].get("annotations", {})
        assert "serving.knative.dev/creator" not in annotations
        assert "serving.knative.dev/lastModifier" not in annotations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kn_func_functions_probe_the_func_python_health_paths(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    by_name = {s["metadata"]["name"]: s for s in ksvcs(docs(builds, overlay))}
    for name in KN_FUNC_FUNCTIONS:
        container = by_name[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/liveness"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_functions_framework_service_keeps_the_default_tcp_probe(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    by_name = {s["metadata"]["name"]: s for s in ksvcs(docs(builds, overlay))}
    container = by_name["notifications"]["spec"]["template"]["spec"]["containers"][0]
    assert "livenessProbe" not in container
    assert container["readinessProbe"]["tcpSocket"] == {"port": 0}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_function_runs_under_its_own_service_account_without_a_token(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    documents = docs(builds, overlay)
    accounts = {d["metadata"]["name"]: d for d in of_kind(documents, "", "ServiceAccount")}
    for service in ksvcs(documents):
        name = service["metadata"]["name"]
        spec = service["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == name
        assert spec["automountServiceAccountToken"] is False
        assert accounts[name]["automountServiceAccountToken"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_orders_is_public(builds: dict[str, list[LoadedDocument]], overlay: str) -> None:
    visibility = {
        s["metadata"]["name"]: s["metadata"]["labels"].get("networking.knative.dev/visibility")
        for s in ksvcs(docs(builds, overlay))
    }
    assert visibility.pop("orders") is None
    assert set(visibility.values()) == {"cluster-local"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triggers_point_at_the_broker_and_at_services_in_the_build(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    documents = docs(builds, overlay)
    services = {s["metadata"]["name"] for s in ksvcs(documents)}
    brokers = {b["metadata"]["name"] for b in of_kind(documents, "eventing.knative.dev", "Broker")}
    triggers = of_kind(documents, "eventing.knative.dev", "Trigger")
    assert brokers == {"default"}
    assert len(triggers) >= 10
    for trigger in triggers:
        assert trigger["spec"]["broker"] in brokers
        assert trigger["spec"]["subscriber"]["ref"]["name"] in services


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_orders_gets_k_sink_from_a_sinkbinding_to_the_broker(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    bindings = of_kind(docs(builds, overlay), "sources.knative.dev", "SinkBinding")
    assert [(b["spec"]["subject"]["name"], b["spec"]["sink"]["ref"]) for b in bindings] == [
        ("orders", {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"})
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_broker_retries_then_dead_letters_to_a_service_in_the_build(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    documents = docs(builds, overlay)
    (broker,) = of_kind(documents, "eventing.knative.dev", "Broker")
    delivery = broker["spec"]["delivery"]
    assert delivery["retry"] >= 1
    sink = delivery["deadLetterSink"]["ref"]
    assert sink["name"] in {s["metadata"]["name"] for s in ksvcs(documents)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sync_waves_put_eventing_before_functions_before_wiring(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    def wave(document: dict[str, Any]) -> int:
        annotations = document["metadata"].get("annotations") or {}
        return int(annotations.get("argocd.argoproj.io/sync-wave", "0"))

    documents = docs(builds, overlay)
    broker_waves = {wave(d) for d in of_kind(documents, "eventing.knative.dev", "Broker")}
    service_waves = {wave(d) for d in ksvcs(documents)}
    trigger_waves = {wave(d) for d in of_kind(documents, "eventing.knative.dev", "Trigger")}
    assert max(broker_waves) < min(service_waves) <= max(service_waves) < min(trigger_waves)


def test_dev_maps_every_service_to_its_local_function_folder(
    builds: dict[str, list[LoadedDocument]],
) -> None:
    for service in ksvcs(docs(builds, "dev")):
        name = service["metadata"]["name"]
        annotations = service["spec"]["template"]["metadata"]["annotations"]
        assert annotations["bulut.dev/function-path"] == f"functions/{name}"
        assert (REPO / "functions" / name).is_dir()
        image = service["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.split("@")[0].rsplit("/", 1)[-1] == name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_pinned_by_digest(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    for service in ksvcs(docs(builds, overlay)):
        image = service["spec"]["template"]["spec"]["containers"][0]["image"]
        assert DIGEST.search(image), image


@pytest.mark.parametrize("overlay", ["staging", "prod"])
def test_critical_functions_keep_two_pods_and_a_disruption_budget(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    documents = docs(builds, overlay)
    by_name = {s["metadata"]["name"]: s for s in ksvcs(documents)}
    budgets = {
        p["spec"]["selector"]["matchLabels"]["serving.knative.dev/service"]
        for p in of_kind(documents, "policy", "PodDisruptionBudget")
    }
    for name in ("orders", "payments"):
        annotations = by_name[name]["spec"]["template"]["metadata"]["annotations"]
        assert int(annotations["autoscaling.knative.dev/min-scale"]) >= 2
        assert name in budgets
    for service in by_name.values():
        constraints = service["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert constraints[0]["topologyKey"] == "topology.kubernetes.io/zone"


@pytest.mark.parametrize("overlay", ["staging", "prod"])
def test_audit_scales_on_cpu_with_the_hpa_class(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    by_name = {s["metadata"]["name"]: s for s in ksvcs(docs(builds, overlay))}
    annotations = by_name["audit"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/class"] == "hpa.autoscaling.knative.dev"
    assert annotations["autoscaling.knative.dev/metric"] == "cpu"
    assert int(annotations["autoscaling.knative.dev/min-scale"]) >= 1


def test_dev_uses_no_feature_gated_fields_so_it_runs_on_a_stock_knative(
    builds: dict[str, list[LoadedDocument]],
) -> None:
    for service in ksvcs(docs(builds, "dev")):
        spec = service["spec"]["template"]["spec"]
        assert "topologySpreadConstraints" not in spec
        annotations = service["spec"]["template"]["metadata"]["annotations"]
        assert "autoscaling.knative.dev/class" not in annotations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_admit_knative_system_namespaces(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    policies = {
        p["metadata"]["name"]: p
        for p in of_kind(docs(builds, overlay), "networking.k8s.io", "NetworkPolicy")
    }
    assert policies["deny-all-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    sources = policies["allow-from-knative-system"]["spec"]["ingress"][0]["from"]
    names = sources[1]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert {"knative-serving", "knative-eventing", "knative-serving-ingress"} <= set(names)


def test_overlays_are_small_patches_not_copies() -> None:
    for overlay in OVERLAYS:
        for path in (GITOPS / "overlays" / overlay).glob("*.yaml"):
            assert len(path.read_text().splitlines()) < 80, path


def test_a_name_prefix_renames_knative_references(tmp_path: Path) -> None:
    tree = tmp_path / "gitops"
    shutil.copytree(GITOPS, tree, ignore=shutil.ignore_patterns(".*"))
    prefixed = tree / "overlays" / "prefixed"
    prefixed.mkdir()
    (prefixed / "kustomization.yaml").write_text(
        yaml.safe_dump({"namePrefix": "blue-", "resources": ["../dev"]})
    )
    documents = [item.document for item in kustomize_build(prefixed)]
    services = {s["metadata"]["name"] for s in ksvcs(documents)}
    assert "blue-orders" in services
    for trigger in of_kind(documents, "eventing.knative.dev", "Trigger"):
        assert trigger["spec"]["broker"] == "blue-default"
        assert trigger["spec"]["subscriber"]["ref"]["name"] in services
    (binding,) = of_kind(documents, "sources.knative.dev", "SinkBinding")
    assert binding["spec"]["subject"]["name"] == "blue-orders"
    assert binding["spec"]["sink"]["ref"]["name"] == "blue-default"
    (broker,) = of_kind(documents, "eventing.knative.dev", "Broker")
    assert broker["spec"]["delivery"]["deadLetterSink"]["ref"]["name"] == "blue-audit"


@pytest.mark.parametrize("overlay", ["staging", "prod"])
def test_the_high_availability_overlays_need_the_features_the_cluster_enables(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    """Under Knative's defaults the zone spread is refused; the KnativeServing CR enables it."""
    refused = Validator(bundled_store()).check(builds[overlay], overlay).problems
    assert {p.path for p in refused} == {"spec.template.spec.topologySpreadConstraints"}
    assert {p.message for p in refused} == {"must not set the field(s)"}
    assert CLUSTER.features.allows("kubernetes.podspec-topologyspreadconstraints")
