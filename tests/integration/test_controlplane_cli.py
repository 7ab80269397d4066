"""`bulut apply|get|describe|delete` and `bulut service|broker|trigger|source`, against
a real control plane on uvicorn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bulut.cli.main import exit_code_for
from bulut.cli.resources import ControlPlaneClient
from bulut.errors import BulutError, InvalidInputError
from bulut.manifests.kn import ServiceFlags, destination, new_service, update_service
from bulut.settings import Settings
from tests.support.cli import invoke
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration

SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: orders
spec:
  template:
    spec:
      containers:
        - image: orders
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
"""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


class Bulut:
    """Runs `bulut ...` in-process with the environment pointing at the test server."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, stdin: str | None = None) -> Outcome:
        # the tree converted once per process (typer converts it again on every invoke)
        result = invoke(args, env=self.env, stdin=stdin)
        if isinstance(result.exception, BulutError):  # what main.run() does
            return Outcome(
                exit_code_for(result.exception), result.stdout, f"error: {result.exception}\n"
            )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Outcome(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def bulut(tmp_path: Path) -> Iterator[Bulut]:
    port = free_port()
    settings = Settings(state_dir=tmp_path / "state", control_port=port, data_port=8080)
    with serve(settings):
        yield Bulut({"BULUT_CONTROL_PORT": str(port), "COLUMNS": "200"})


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_apply_prints_what_happened_to_each_document(bulut: Bulut, tmp_path: Path) -> None:
    manifest = write(tmp_path / "app.yaml", SERVICE)
    first = bulut("apply", "-f", str(manifest))
    assert first.code == 0, first.stderr
    assert first.stdout.splitlines() == [
        "service.serving.knative.dev/orders created",
        "namespace/shop created",
    ]
    again = bulut("apply", "-f", str(manifest))
    assert again.stdout.splitlines()[0] == "service.serving.knative.dev/orders unchanged"


def test_apply_reads_stdin(bulut: Bulut) -> None:
    outcome = bulut("apply", "-f", "-", stdin=SERVICE)
    assert "service.serving.knative.dev/orders created" in outcome.stdout


def test_get_shows_the_crd_printer_columns_as_kubectl_does(bulut: Bulut, tmp_path: Path) -> None:
    bulut("apply", "-f", str(write(tmp_path / "app.yaml", SERVICE)))
    services = bulut("get", "ksvc").stdout
    assert services.split("\n")[0].split() == [
        "NAME",
        "URL",
        "LATESTCREATED",
        "LATESTREADY",
        "READY",
        "REASON",
    ]
    assert "http://orders.default.localhost:8080" in services
    assert "RevisionMissing" in services
    revisions = bulut("get", "revisions").stdout
    header = revisions.split("\n")[0].split()
    assert header[-5:] == ["REASON", "ACTUAL", "REPLICAS", "DESIRED", "REPLICAS"]
    assert "orders-00001" in revisions and "Deploying" in revisions
    assert "NAMESPACE" in bulut("get", "revisions", "-A").stdout


def test_get_prints_yaml_and_json(bulut: Bulut, tmp_path: Path) -> None:
    bulut("apply", "-f", str(write(tmp_path / "app.yaml", SERVICE)))
    listed = json.loads(bulut("get", "routes", "-o", "json").stdout)
    assert listed["items"][0]["status"]["url"] == "http://orders.default.localhost:8080"
    one = bulut("get", "ksvc", "orders", "-o", "yaml").stdout
    assert "kind: Service" in one and "latestCreatedRevisionName: orders-00001" in one


def test_describe_shows_conditions(bulut: Bulut, tmp_path: Path) -> None:
    bulut("apply", "-f", str(write(tmp_path / "app.yaml", SERVICE)))
    described = bulut("describe", "ksvc", "orders").stdout
    assert "http://orders.default.localhost:8080" in described
    assert "RoutesReady" in described and "RevisionMissing" in described


def test_an_invalid_manifest_is_a_readable_error_and_changes_nothing(
    bulut: Bulut, tmp_path: Path
) -> None:
    bad = SERVICE.replace(
        "        - image: orders", "        - image: orders\n      containerConcurrency: 5000"
    )
    manifest = write(tmp_path / "bad.yaml", bad)
    outcome = bulut("apply", "-f", str(manifest))
    assert outcome.code == 2
    assert outcome.stderr == (
        f"error: {manifest}: document 1 (Service orders): expected 0 <= 5000 <= 1000: "
        "spec.template.spec.containerConcurrency (nothing was applied)\n"
    )
    assert "No services found." in bulut("get", "ksvc").stdout


def test_a_yaml_error_names_file_and_document(bulut: Bulut, tmp_path: Path) -> None:
    manifest = write(tmp_path / "broken.yaml", SERVICE + "---\n- just\n- a list\n")
    outcome = bulut("apply", "-f", str(manifest))
    assert outcome.code == 2
    assert outcome.stderr == f"error: {manifest}: document 3: expected a mapping, got list\n"


def test_apply_builds_a_kustomization(bulut: Bulut, tmp_path: Path) -> None:
    write(tmp_path / "app.yaml", SERVICE)
    write(tmp_path / "kustomization.yaml", "namePrefix: dev-\nresources:\n  - app.yaml\n")
    outcome = bulut("apply", "-k", str(tmp_path))
    assert "service.serving.knative.dev/dev-orders created" in outcome.stdout


def test_delete_removes_a_service_and_its_revisions(bulut: Bulut, tmp_path: Path) -> None:
    bulut("apply", "-f", str(write(tmp_path / "app.yaml", SERVICE)))
    outcome = bulut("delete", "ksvc", "orders")
    assert outcome.stdout.strip() == 'service "orders" deleted'
    assert "No revisions found." in bulut("get", "revisions").stdout
    missing = bulut("delete", "ksvc", "orders")
    assert missing.code == 2 and "not found" in missing.stderr


def test_service_create_and_update_follow_kn(bulut: Bulut) -> None:
    created = bulut(
        "service",
        "create",
        "orders",
        "--image",
        "orders",
        "--env",
        "A=1",
        "--scale-min",
        "1",
        "--concurrency-limit",
        "10",
    )
    assert created.code == 0, created.stderr
    service = json.loads(bulut("get", "ksvc", "orders", "-o", "json").stdout)
    template = service["spec"]["template"]
    assert template["spec"]["containerConcurrency"] == 10
    assert template["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] == "1"
    updated = bulut(
        "service",
        "update",
        "orders",
        "--env",
        "A=2",
        "--traffic",
        "@latest=100",
        "--tag",
        "@latest=live",
    )
    assert updated.code == 0, updated.stderr
    service = json.loads(bulut("get", "ksvc", "orders", "-o", "json").stdout)
    assert service["spec"]["traffic"] == [{"latestRevision": True, "percent": 100, "tag": "live"}]
    assert service["status"]["latestCreatedRevisionName"] == "orders-00002"
    bad = bulut("service", "update", "orders", "--traffic", "@latest=90")
    assert bad.code == 2 and "Traffic targets sum to 90, want 100" in bad.stderr


def test_service_update_that_loses_a_race_reads_again_and_reapplies_the_change(
    bulut: Bulut, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after a create the reconciler writes too; a stale resourceVersion is a 409
    that kn retries (read again, apply the change again), and so does `bulut`."""
    assert bulut("service", "create", "orders", "--image", "orders").code == 0
    path = "/apis/serving.knative.dev/v1/namespaces/default/services/orders"
    real = ControlPlaneClient.request
    raced: list[str] = []

    def request(self: ControlPlaneClient, method: str, url: str, **kwargs: Any) -> Any:
        answer = real(self, method, url, **kwargs)
        if method == "GET" and url == path and not raced:  # another writer wins the race
            other = json.loads(json.dumps(answer))
            other["metadata"].setdefault("labels", {})["team"] = "shop"
            raced.append(real(self, "PUT", path, json=other)["metadata"]["resourceVersion"])
        return answer

    monkeypatch.setattr(ControlPlaneClient, "request", request)
    updated = bulut("service", "update", "orders", "--env", "A=2")

    assert raced, "the race was not staged"
    assert updated.code == 0, updated.stderr
    service = json.loads(bulut("get", "ksvc", "orders", "-o", "json").stdout)
    assert service["metadata"]["labels"]["team"] == "shop"  # the other write is kept
    assert service["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "2"}
    ]


def test_broker_trigger_and_ping_commands_follow_kn(bulut: Bulut) -> None:
    assert bulut("service", "create", "orders", "--image", "orders").code == 0
    assert bulut("broker", "create", "default").code == 0
    trigger = bulut(
        "trigger",
        "create",
        "orders",
        "--broker",
        "default",
        "--filter",
        "type=order.created",
        "--sink",
        "ksvc:orders",
    )
    assert trigger.code == 0, trigger.stderr
    ping = bulut(
        "source",
        "ping",
        "create",
        "tick",
        "--schedule",
        "*/5 * * * *",
        "--data",
        "hi",
        "--sink",
        "broker:default",
    )
    assert ping.code == 0, ping.stderr
    stored = json.loads(bulut("trigger", "describe", "orders", "-o", "json").stdout)
    assert stored["spec"]["filter"] == {"attributes": {"type": "order.created"}}
    assert stored["status"]["subscriberUri"] == "http://orders.default.localhost:8080"
    assert "order" not in bulut("broker", "list").stdout.split("\n")[0]
    assert "http://127.0.0.1:8080/default/default" in bulut("broker", "list").stdout
    assert "*/5 * * * *" in bulut("source", "ping", "list").stdout
    assert bulut("trigger", "delete", "orders").code == 0
    assert "No triggers found." in bulut("trigger", "list").stdout


def test_an_unreachable_control_plane_is_one_line_and_exit_code_1() -> None:
    port = free_port()
    env = {**os.environ, "BULUT_CONTROL_PORT": str(port)}
    bulut_script = Path(sys.executable).parent / "bulut"
    done = subprocess.run(
        [str(bulut_script), "get", "ksvc"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: control plane not reachable at http://127.0.0.1:{port}: start it with `bulut up`\n"
    )


def test_delete_with_a_file_removes_what_it_declares(bulut: Bulut, tmp_path: Path) -> None:
    manifest = write(tmp_path / "app.yaml", SERVICE)
    bulut("apply", "-f", str(manifest))
    outcome = bulut("delete", "-f", str(manifest))
    assert outcome.stdout.splitlines() == ['service "orders" deleted', 'namespace "shop" deleted']
    assert "No services found." in bulut("get", "ksvc").stdout


def test_service_flags_build_a_knative_service(repo_root: Path) -> None:
    flags = ServiceFlags(
        function=repo_root / "functions" / "orders",
        env=["A=1", "B=2", "A-"],
        scale_max=3,
        traffic=["orders-00001=30", "@latest=70"],
        tag=["orders-00001=old"],
    )
    built = update_service(new_service("orders", "default"), flags)
    template = built["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "bulut.dev/function-path": str(repo_root / "functions" / "orders"),
        "autoscaling.knative.dev/max-scale": "3",
    }
    assert template["spec"]["containers"][0] == {
        "image": "orders",
        "env": [{"name": "B", "value": "2"}],
    }
    assert built["spec"]["traffic"] == [
        {"revisionName": "orders-00001", "percent": 30, "tag": "old"},
        {"latestRevision": True, "percent": 70},
    ]


def test_sinks_follow_kn_syntax() -> None:
    assert destination("ksvc:orders") == {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
    }
    assert destination("broker:default")["ref"]["kind"] == "Broker"
    assert destination("http://example.com/x") == {"uri": "http://example.com/x"}
    with pytest.raises(InvalidInputError):
        destination("queue:x")


def test_dry_run_stores_nothing(bulut: Bulut, tmp_path: Path) -> None:
    outcome = bulut("apply", "--dry-run", "-f", str(write(tmp_path / "app.yaml", SERVICE)))
    assert outcome.stdout.splitlines()[0] == "service.serving.knative.dev/orders created (dry run)"
    assert "No services found." in bulut("get", "ksvc").stdout


def test_bulut_apply_stores_cluster_only_kinds_and_get_lists_them_not_reconciled(
    bulut: Bulut,
) -> None:
    documents = """\
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: orders, namespace: pdbs}
        spec: {maxUnavailable: 1, selector: {matchLabels: {app: orders}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: token, namespace: pdbs}
        stringData: {token: not-stored}
        """
    applied = bulut("apply", "-f", "-", stdin=textwrap.dedent(documents))
    assert applied.code == 0, applied.stderr
    assert applied.stdout.splitlines()[:2] == [
        "poddisruptionbudget.policy/orders created",
        "secret/token ignored (cluster only)",
    ]
    listed = bulut("get", "pdb", "-n", "pdbs").stdout.splitlines()
    assert listed[0].split()[:3] == ["NAME", "READY", "REASON"]
    assert listed[1].split()[:3] == ["orders", "Unknown", "NotReconciledLocally"]
