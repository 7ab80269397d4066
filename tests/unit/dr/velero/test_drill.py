"""The cluster drill's flow, driven against a scripted kubectl (no cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulut.dr.drills.scenario import load_scenario
from bulut.dr.velero.drill import Kubectl, run_cluster_drill

REPO = Path(__file__).resolve().parents[4]
READY = {
    "metadata": {"generation": 1},
    "status": {"observedGeneration": 1, "latestReadyRevisionName": "audit-00001",
               "conditions": [{"type": "Ready", "status": "True"}]},
}  # fmt: skip


class ScriptedKubectl(Kubectl):
    """Answers like a cluster where every Backup and Restore completes."""

    def __init__(self, restore_phase: str = "Completed") -> None:
        super().__init__(Path("kubectl"))
        self.created: list[dict[str, Any]] = []
        self.commands: list[tuple[str, ...]] = []
        self.restore_phase = restore_phase

    def run(self, *args: str, stdin: str | None = None) -> str:
        self.commands.append(args)
        return ""

    def create(self, obj: dict[str, Any]) -> None:
        self.created.append(obj)

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        if kind == "ksvc":
            return READY
        phase = "Completed" if kind.startswith("backups") else self.restore_phase
        return {"status": {"phase": phase}}

    def items(self, kinds: str, namespace: str) -> list[dict[str, Any]]:
        return [{"kind": "Service", "metadata": {"name": "audit"}}]


def test_the_drill_backs_up_restores_services_first_probes_and_cleans_up() -> None:
    scenario = load_scenario(REPO / "disaster-recovery" / "drills" / "cluster.yaml")
    kubectl = ScriptedKubectl()
    report = run_cluster_drill(scenario, kubectl=kubectl, timeout=1.0)
    assert report.error is None and report.passed, report.to_markdown()
    kinds = [(obj["kind"], obj["metadata"]["name"].rsplit("-", 1)[-1]) for obj in kubectl.created]
    assert kinds == [("Backup", kinds[0][1]), ("Restore", "services"), ("Restore", "eventing")]
    assert kubectl.created[1]["spec"]["namespaceMapping"] == {"shop-dev": "shop-dev-drill"}
    assert any(c[:3] == ("delete", "namespace", "shop-dev-drill") for c in kubectl.commands)
    assert any("audit-00001-private" in " ".join(c) for c in kubectl.commands)


def test_a_partially_failed_restore_fails_the_drill() -> None:
    scenario = load_scenario(REPO / "disaster-recovery" / "drills" / "cluster.yaml")
    report = run_cluster_drill(scenario, kubectl=ScriptedKubectl("PartiallyFailed"), timeout=1.0)
    assert not report.passed
    assert next(c.name for c in report.checks if not c.ok).endswith("-services")
