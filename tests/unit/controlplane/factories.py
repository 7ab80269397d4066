"""Resources and a deterministic Addressing for the pure control-plane tests."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from bulut.controlplane.addresses import Addressing
from bulut.controlplane.admission import admit
from bulut.controlplane.reconcilers import Objects, reconcile_namespace
from bulut.controlplane.reconcilers.revision import apply_report

READY = {
    "conditions": [
        {"type": "ResourcesAvailable", "status": "True"},
        {"type": "ContainerHealthy", "status": "True"},
    ]
}
FAILED = {
    "conditions": [
        {"type": "ResourcesAvailable", "status": "True"},
        {
            "type": "ContainerHealthy",
            "status": "False",
            "reason": "ExitCode1",
            "message": "Container failed with: boom",
        },
    ]
}


def addressing(port: int = 8080, *, oidc: bool = False) -> Addressing:
    counter = itertools.count(1)
    return Addressing(
        data_port=port,
        now=lambda: "2026-01-01T00:00:00Z",
        new_uid=lambda: f"uid-{next(counter)}",
        oidc=oidc,
    )


def service(name: str = "orders", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"template": {"spec": {"containers": [{"image": name}]}}}
    body.update(spec)
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": body,
    }


def resource(api_version: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


class Namespace:
    """A namespace driven like the control plane drives it: admit, reconcile, report."""

    def __init__(self, port: int = 8080, *, oidc: bool = False) -> None:
        self.addressing = addressing(port, oidc=oidc)
        self.objects: Objects = {}

    def apply(self, *documents: dict[str, Any]) -> Namespace:
        for document in documents:
            key = (document["kind"], document["metadata"]["name"])
            admitted = admit(document, self.objects.get(key), addressing=self.addressing)
            self.objects[key] = admitted.resource
        return self.reconcile()

    def delete(self, kind: str, name: str) -> Namespace:
        del self.objects[(kind, name)]
        return self.reconcile()

    def report(self, revision: str, runtime: dict[str, Any]) -> Namespace:
        key = ("Revision", revision)
        self.objects[key] = apply_report(self.objects[key], runtime, now="2026-01-01T00:00:01Z")
        return self.reconcile()

    def reconcile(self) -> Namespace:
        self.objects = reconcile_namespace(self.objects, self.addressing)
        return self

    def __getitem__(self, key: tuple[str, str]) -> dict[str, Any]:
        return self.objects[key]

    def status(self, kind: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.objects[(kind, name)].get("status") or {})

    def condition(self, kind: str, name: str, type_: str = "Ready") -> tuple[str, str, str]:
        for cond in self.status(kind, name).get("conditions", []):
            if cond["type"] == type_:
                return cond["status"], cond.get("reason", ""), cond.get("message", "")
        raise AssertionError(f"{kind}/{name} has no {type_} condition")

    def names(self, kind: str) -> list[str]:
        return sorted(name for (k, name) in self.objects if k == kind)
