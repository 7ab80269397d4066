"""Derive the compact schema bundle from the vendored CRDs (the one copy, ``bulut/apis/crds``).

    python scripts/extract_schemas.py [CRDS_DIR]

Reads the verbatim CRD files in ``platform/src/bulut/apis/crds`` (its one SOURCES.txt names
the upstream repository, tag and commit), keeps only the served versions of the kinds below,
drops ``description`` texts, and writes one JSON file per kind to
``platform/src/bulut/manifests/schemas/<group>_<version>_<kind>.json`` with its source noted
and the CRD's names, scope, subresources and printer columns (``crd``). ``bulut validate``
loads these at run time, and the registry serves the cluster-only kinds from them (the
multi-megabyte Argo and Tekton CRDs would take seconds to parse at every start). Re-run it
after updating ``bulut/apis/crds``; a contract test fails when the bundle is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from bulut.manifests.schemas import schemas_in_crd, strip_descriptions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "platform/src/bulut/manifests/schemas"

# (file under bulut/apis/crds, kinds wanted from it)
WANTED: dict[str, tuple[str, ...]] = {
    "knative/serving-service-crd.yaml": ("Service",),
    "knative/eventing-broker-crd.yaml": ("Broker",),
    "knative/eventing-trigger-crd.yaml": ("Trigger",),
    "knative/eventing-pingsource-crd.yaml": ("PingSource",),
    "knative/eventing-sinkbinding-crd.yaml": ("SinkBinding",),
    "knative/eventing-sequence-crd.yaml": ("Sequence",),
    "knative/eventing-apiserversource-crd.yaml": ("ApiServerSource",),
    "knative/serving-domainmapping-crd.yaml": ("DomainMapping",),
    "openshift/routes.crd.yaml": ("Route",),
    "prometheus-operator/monitoring.coreos.com_servicemonitors.yaml": ("ServiceMonitor",),
    "prometheus-operator/monitoring.coreos.com_podmonitors.yaml": ("PodMonitor",),
    "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml": ("PrometheusRule",),
    "argo-cd/appproject-crd.yaml": ("AppProject",),
    "argo-cd/applicationset-crd.yaml": ("ApplicationSet",),
    "argo-cd/application-crd.yaml": ("Application",),
    "argo-workflows/argoproj.io_workflowtemplates.yaml": ("WorkflowTemplate",),
    "argo-workflows/argoproj.io_workflows.yaml": ("Workflow",),
    "argo-workflows/argoproj.io_clusterworkflowtemplates.yaml": ("ClusterWorkflowTemplate",),
    "argo-workflows/argoproj.io_cronworkflows.yaml": ("CronWorkflow",),
    # Argo Events' CRDs leave spec open (x-kubernetes-preserve-unknown-fields): they check
    # only the envelope, as the API server does.
    "argo-events/argoproj.io_eventbus.yaml": ("EventBus",),
    "argo-events/argoproj.io_eventsources.yaml": ("EventSource",),
    "argo-events/argoproj.io_sensors.yaml": ("Sensor",),
    "tekton/300-pipeline.yaml": ("Pipeline",),
    "tekton/300-task.yaml": ("Task",),
    "tekton/300-pipelinerun.yaml": ("PipelineRun",),
    "tekton/300-taskrun.yaml": ("TaskRun",),
    "velero/velero.io_backups.yaml": ("Backup",),
    "velero/velero.io_volumesnapshotlocations.yaml": ("VolumeSnapshotLocation",),
    "external-secrets/external-secrets.io_externalsecrets.yaml": ("ExternalSecret",),
    "external-secrets/external-secrets.io_secretstores.yaml": ("SecretStore",),
    "external-secrets/external-secrets.io_clustersecretstores.yaml": ("ClusterSecretStore",),
    "velero/velero.io_schedules.yaml": ("Schedule",),
    "velero/velero.io_backupstoragelocations.yaml": ("BackupStorageLocation",),
    "velero/velero.io_restores.yaml": ("Restore",),
    "velero/oadp.openshift.io_dataprotectionapplications.yaml": ("DataProtectionApplication",),
}


def upstream_of(crds: Path, relative: str) -> str:
    """The SOURCES.txt row (repository, path, ref, commit, license) of one vendored file."""
    for line in (crds / "SOURCES.txt").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells and cells[0] == relative and len(cells) == 7:
            return " | ".join(cells[2:])
    raise SystemExit(f"error: {relative} has no row in {crds / 'SOURCES.txt'}")


def crd_index(document: dict[str, Any], version: str) -> dict[str, Any]:
    """What the registry needs besides the schema: group, names, scope, subresources, columns."""
    spec = document["spec"]
    served = next(v for v in spec["versions"] if v["name"] == version)
    return {
        "group": spec["group"],
        "names": spec["names"],
        "scope": spec.get("scope", "Namespaced"),
        "subresources": served.get("subresources") or {},
        "additionalPrinterColumns": served.get("additionalPrinterColumns") or [],
    }


def bundle(schemas: Path) -> dict[str, str]:
    """File name -> JSON text for every wanted kind."""
    files: dict[str, str] = {}
    for relative, kinds in WANTED.items():
        path = schemas / relative
        source = upstream_of(schemas, relative)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        for document in yaml.load_all(path.read_text(), Loader=loader):
            if not isinstance(document, dict):
                continue
            for crd in schemas_in_crd(document, relative):
                if crd.kind not in kinds:
                    continue
                group, version = crd.api_version.split("/")
                name = f"{group}_{version}_{crd.kind}.json".lower()
                data = {
                    "apiVersion": crd.api_version,
                    "kind": crd.kind,
                    "source": source,
                    "vendored": relative,
                    "crd": crd_index(document, version),
                    "openAPIV3Schema": strip_descriptions(crd.open_api),
                }
                files[name] = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    return files


def main() -> int:
    schemas = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "platform/src/bulut/apis/crds"
    if not schemas.is_dir():
        sys.stderr.write(f"error: {schemas} is not a folder of schemas\n")
        return 2
    files = bundle(schemas)
    for stale in OUT.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in sorted(files.items()):
        (OUT / name).write_text(text)
    sys.stdout.write(f"wrote {len(files)} schemas to {OUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
