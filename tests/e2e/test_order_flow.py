"""Each overlay on a real Knative cluster: apply it, wait for Ready, run the order flow.

Needs a kubeconfig for a cluster with Knative Serving (Kourier) and Eventing (MT broker), and
the function images pushed to ``BULUT_E2E_REGISTRY`` (``<registry>/<function>:<tag>``, tag
``BULUT_E2E_TAG``, default ``e2e``); .github/workflows/e2e.yml does both on kind for dev.
``BULUT_E2E_OVERLAYS`` (default ``dev,staging,prod``) picks the overlays. staging and prod
need what their overlays name and a cluster provides: Knative's
``kubernetes.podspec-topologyspreadconstraints`` gate on (the KnativeServing CR of
gitops/platform/openshift-serverless), the PostgreSQL Service ``orders-db`` in their
namespace, and Vault with its Agent Injector configured by gitops/platform/vault; each test
skips, saying which, when one is missing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulut.manifests.loading import kustomize_build
from tests.support.waiting import eventually_blocking

from . import cluster

NO_CLUSTER = cluster.no_cluster_reason("Knative Serving and Eventing to run the e2e suite")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NO_CLUSTER is not None, reason=str(NO_CLUSTER)),
]

REPO = Path(__file__).resolve().parents[2]
NAMESPACES = {"dev": "shop-dev", "staging": "shop-staging", "prod": "shop-prod"}
OVERLAYS = [
    name.strip() for name in os.environ.get("BULUT_E2E_OVERLAYS", "dev,staging,prod").split(",")
]
TERMINAL = {"paid", "cancelled", "rejected"}
READY_TIMEOUT_S = int(os.environ.get("BULUT_E2E_READY_TIMEOUT", "600"))


def overlay(name: str, registry: str, tag: str) -> list[dict[str, Any]]:
    """An overlay, with each function's image pointed at the registry the CI pushed to."""
    documents = [item.document for item in kustomize_build(REPO / "gitops" / "overlays" / name)]
    for document in documents:
        if document["kind"] == "Service" and document["apiVersion"].startswith("serving."):
            container = document["spec"]["template"]["spec"]["containers"][0]
            container["image"] = f"{registry}/{document['metadata']['name']}:{tag}"
    return documents


def missing_for(name: str, namespace: str) -> str | None:
    """What the cluster lacks for an overlay beyond Knative (None: nothing)."""
    if name == "dev":
        return None
    features = cluster.kubectl(
        "get", "configmap", "config-features", "-n", "knative-serving", "-o", "json", check=False
    )
    gate = "kubernetes.podspec-topologyspreadconstraints"
    if features.returncode != 0 or json.loads(features.stdout)["data"].get(gate) != "enabled":
        return f"{name} spreads over zones: enable {gate} (gitops/platform/openshift-serverless)"
    if cluster.kubectl("get", "service", "orders-db", "-n", namespace, check=False).returncode:
        return f"{name}'s orders use PostgreSQL: create the Service orders-db in {namespace}"
    webhook = cluster.kubectl("get", "mutatingwebhookconfigurations", "-o", "name", check=False)
    if "vault-agent-injector" not in webhook.stdout:
        return f"{name} reads secrets through Vault Agent: install Vault (gitops/platform/vault)"
    return None


@pytest.fixture(scope="module", params=OVERLAYS)
def deployed(request: pytest.FixtureRequest) -> Iterator[str]:
    name = str(request.param)
    namespace = NAMESPACES[name]
    registry = os.environ.get("BULUT_E2E_REGISTRY")
    if not registry:
        pytest.skip("set BULUT_E2E_REGISTRY to the registry holding the function images")
    crds = cluster.kubectl(
        "get", "crd", "services.serving.knative.dev", "brokers.eventing.knative.dev", check=False
    )
    if crds.returncode != 0:
        pytest.skip(f"the cluster has no Knative Serving/Eventing: {crds.stderr.strip()}")
    missing = missing_for(name, namespace)
    if missing is not None:
        pytest.skip(missing)
    cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    # The provider key is never in Git: create the Secret func.yaml's {{ env:... }} maps to.
    secret = cluster.kubectl(
        "create",
        "secret",
        "generic",
        "payments-env",
        "-n",
        namespace,
        "--from-literal=PAYMENTS_PROVIDER_KEY=e2e-test-key",
        "--dry-run=client",
        "-o",
        "yaml",
    ).stdout
    cluster.kubectl("apply", "-f", "-", stdin=secret)
    cluster.apply(overlay(name, registry, os.environ.get("BULUT_E2E_TAG", "e2e")))
    yield namespace
    if os.environ.get("BULUT_E2E_KEEP") != "1":
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(autouse=True)
def dump_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "report_call", None)
    namespace = getattr(request.node, "funcargs", {}).get("deployed")
    if report is not None and report.failed and namespace:
        text = cluster.diagnostics(str(namespace))
        artifacts = REPO / "tests" / "artifacts" / "e2e"
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / f"{request.node.name}.txt").write_text(text)
        print(text)  # noqa: T201  (shown by pytest for the failed test)


def test_every_function_broker_and_trigger_becomes_ready(deployed: str) -> None:
    for kind in ("broker", "ksvc", "trigger", "sinkbinding"):
        cluster.wait_ready(kind, deployed, READY_TIMEOUT_S)
    services = cluster.get_json("ksvc", "-n", deployed)["items"]
    assert sorted(s["metadata"]["name"] for s in services) == [
        "audit",
        "inventory",
        "notifications",
        "orders",
        "payments",
    ]


def test_the_broker_accepts_a_cloudevent_sent_with_curl(deployed: str) -> None:
    cluster.wait_ready("broker", deployed, READY_TIMEOUT_S)
    broker = cluster.get_json("broker", "default", "-n", deployed)
    url = broker["status"]["address"]["url"]
    status = cluster.curl(
        "default",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        url,
        "-H",
        "ce-specversion: 1.0",
        "-H",
        f"ce-id: e2e-{uuid.uuid4()}",
        "-H",
        "ce-source: /e2e",
        "-H",
        "ce-type: com.example.e2e.ping",
        "-H",
        "content-type: application/json",
        "-d",
        '{"hello": "e2e"}',
    )
    assert status.strip() == "202"


def test_an_order_completes_the_saga_through_the_broker(deployed: str) -> None:
    for kind in ("broker", "ksvc", "trigger", "sinkbinding"):
        cluster.wait_ready(kind, deployed, READY_TIMEOUT_S)
    orders = f"http://orders.{deployed}.svc.cluster.local"
    body = json.dumps(
        {
            "customer": "e2e",
            "items": [{"sku": "WIDGET-1", "quantity": 1}],
            "card_token": "tok_visa",
        }
    )
    created = json.loads(
        cluster.curl(
            "default",
            "-X",
            "POST",
            f"{orders}/orders",
            "-H",
            "content-type: application/json",
            "-d",
            body,
        )
    )
    assert created["status"] == "pending"

    def decided() -> dict[str, Any] | None:
        order: dict[str, Any] = json.loads(
            cluster.curl("default", f"{orders}/orders/{created['id']}")
        )
        return order if order["status"] in TERMINAL else None

    order = eventually_blocking(decided, "the order to be decided", timeout=180, interval=5)
    assert order["status"] == "paid", order


def test_the_order_enrichment_sequence_is_built_from_channels_and_subscriptions(
    deployed: str,
) -> None:
    cluster.wait_ready("sequence", deployed, READY_TIMEOUT_S)
    sequence = cluster.get_json("sequence", "order-enrichment", "-n", deployed)
    address = sequence["status"]["address"]["url"]
    assert address.startswith(f"http://order-enrichment-kn-sequence-0-kn-channel.{deployed}.")
    channels = sorted(c["channel"]["name"] for c in sequence["status"]["channelStatuses"])
    assert channels == ["order-enrichment-kn-sequence-0", "order-enrichment-kn-sequence-1"]
    subscriptions = cluster.get_json("subscriptions", "-n", deployed)["items"]
    replies = {s["metadata"]["name"]: s["spec"].get("reply") for s in subscriptions}
    assert replies["order-enrichment-kn-sequence-0"]["ref"]["name"] == (
        "order-enrichment-kn-sequence-1"
    )
    assert replies["order-enrichment-kn-sequence-1"]["ref"]["kind"] == "Broker"


def test_an_order_posted_to_the_sequence_is_answered_after_both_steps(deployed: str) -> None:
    for kind in ("ksvc", "sequence"):
        cluster.wait_ready(kind, deployed, READY_TIMEOUT_S)
    sequence = cluster.get_json("sequence", "order-enrichment", "-n", deployed)
    order = {
        "id": f"e2e-{uuid.uuid4()}",
        "customer": "e2e",
        "items": [{"sku": "WIDGET-1", "quantity": 1}],
        "card_token": "tok_visa",
        "status": "pending",
    }
    status = cluster.curl(
        "default",
        "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
        sequence["status"]["address"]["url"],
        "-H", "ce-specversion: 1.0",
        "-H", f"ce-id: e2e-{uuid.uuid4()}",
        "-H", "ce-source: /e2e/checkout",
        "-H", "ce-type: com.example.order.created",
        "-H", "content-type: application/json",
        "-d", json.dumps(order),
    )  # fmt: skip
    assert status.strip() == "202"


PUBLIC_HOSTS = {
    "shop-dev": "shop.dev.example.com",
    "shop-staging": "shop.staging.example.com",
    "shop-prod": "shop.example.com",
}
INGRESS = os.environ.get("BULUT_E2E_INGRESS", "http://kourier.kourier-system.svc.cluster.local")


def test_the_apiserversource_watches_the_shop_s_services_with_just_its_role(
    deployed: str,
) -> None:
    """gitops/bases/functions/audit/apiserversource.yaml: Ready on a cluster means Knative
    checked that audit-watcher may get, list and watch Services (SufficientPermissions)."""
    cluster.wait_ready("ksvc", deployed, READY_TIMEOUT_S)
    cluster.wait_ready("apiserversource", deployed, READY_TIMEOUT_S)
    source = cluster.get_json("apiserversource", "shop-changes", "-n", deployed)
    conditions = {c["type"]: c["status"] for c in source["status"]["conditions"]}
    assert conditions.get("SufficientPermissions") == "True", source["status"]
    assert source["status"]["sinkUri"].startswith("http://audit."), source["status"]
    role = cluster.get_json("role", "audit-watcher", "-n", deployed)
    assert role["rules"] == [
        {"apiGroups": ["serving.knative.dev"], "resources": ["services"],
         "verbs": ["get", "list", "watch"]},
    ]  # fmt: skip


def test_the_shop_s_public_host_reaches_orders_through_its_domainmapping(deployed: str) -> None:
    """gitops/overlays/<env>/public-host: its claim is made by the cluster when
    autocreate-cluster-domain-claims is on (OpenShift Serverless's default)."""
    network = cluster.kubectl(
        "get", "configmap", "config-network", "-n", "knative-serving", "-o", "json", check=False
    )
    data = json.loads(network.stdout).get("data", {}) if network.returncode == 0 else {}
    if data.get("autocreate-cluster-domain-claims") != "true":
        pytest.skip(
            'the DomainMapping needs autocreate-cluster-domain-claims: "true" in '
            "knative-serving/config-network (gitops/platform/openshift-serverless sets it)"
        )
    host = PUBLIC_HOSTS[deployed]
    cluster.wait_ready("ksvc", deployed, READY_TIMEOUT_S)
    cluster.wait_ready("domainmapping", deployed, READY_TIMEOUT_S)
    claim = cluster.get_json("clusterdomainclaim", host)
    assert claim["spec"]["namespace"] == deployed
    answer = cluster.curl("default", "-H", f"Host: {host}", f"{INGRESS}/orders/none")
    assert json.loads(answer) == {"detail": "order none not found"}  # orders answered
