"""Bundle the CRD schemas the GitOps tree uses into the bulut package.

    python scripts/extract_schemas.py [SCHEMAS_DIR]

Reads the verbatim CRD files in ``vendor/schemas`` (vendor/SOURCES.txt and each folder's
SOURCES.txt name the upstream repository, tag and commit), keeps only the served versions of
the kinds below, drops ``description`` texts, and writes one JSON file per kind to
``platform/src/bulut/manifests/schemas/<group>_<version>_<kind>.json`` with its source noted.
``bulut validate`` loads these at run time (inside the installed package, no repository needed).
Re-run it after updating ``vendor/schemas``; a contract test fails when the bundle is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from bulut.manifests.schemas import schemas_in_crd, strip_descriptions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "platform/src/bulut/manifests/schemas"

# (file under vendor/schemas, kinds wanted from it)
WANTED: dict[str, tuple[str, ...]] = {
    "knative/serving-service-crd.yaml": ("Service",),
    "knative/eventing-broker-crd.yaml": ("Broker",),
    "knative/eventing-trigger-crd.yaml": ("Trigger",),
    "knative/eventing-pingsource-crd.yaml": ("PingSource",),
    "knative/eventing-sinkbinding-crd.yaml": ("SinkBinding",),
    "openshift/routes.crd.yaml": ("Route",),
    "prometheus-operator/monitoring.coreos.com_servicemonitors.yaml": ("ServiceMonitor",),
    "prometheus-operator/monitoring.coreos.com_podmonitors.yaml": ("PodMonitor",),
    "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml": ("PrometheusRule",),
    "argo-cd/appproject-crd.yaml": ("AppProject",),
    "argo-cd/applicationset-crd.yaml": ("ApplicationSet",),
    "argo-cd/application-crd.yaml": ("Application",),
    "argo-workflows/argoproj.io_workflowtemplates.yaml": ("WorkflowTemplate",),
    "argo-workflows/argoproj.io_cronworkflows.yaml": ("CronWorkflow",),
    # Argo Events' CRDs leave spec open (x-kubernetes-preserve-unknown-fields): they check
    # only the envelope, as the API server does.
    "argo-events/argoproj.io_eventbus.yaml": ("EventBus",),
    "argo-events/argoproj.io_eventsources.yaml": ("EventSource",),
    "argo-events/argoproj.io_sensors.yaml": ("Sensor",),
    "tekton/300-pipeline.yaml": ("Pipeline",),
    "tekton/300-task.yaml": ("Task",),
    "velero/velero.io_schedules.yaml": ("Schedule",),
    "velero/velero.io_backupstoragelocations.yaml": ("BackupStorageLocation",),
    "velero/velero.io_restores.yaml": ("Restore",),
    "velero/oadp.openshift.io_dataprotectionapplications.yaml": ("DataProtectionApplication",),
}


def upstream_of(schemas: Path, relative: str) -> str:
    """The SOURCES.txt line (repository, path, ref, commit) for one file."""
    folder, name = relative.split("/", 1)
    for line in (schemas / folder / "SOURCES.txt").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells and cells[0] == name:
            return " | ".join(cells[1:])
        words = line.split()
        if words and words[0] == name and len(words) >= 3:
            return f"github.com/{words[1]} | {words[2]} | {_commit_of(schemas / folder, words[1])}"
    return f"vendor/schemas/{relative}"


def _commit_of(folder: Path, repository: str) -> str:
    """The commit SOURCES.txt pins for a repository ("  knative/serving  <sha>  (...)")."""
    for line in (folder / "SOURCES.txt").read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == repository and len(words[1]) == 40:
            return f"{words[1]} | Apache-2.0"
    return "commit: see SOURCES.txt"


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
                    "openAPIV3Schema": strip_descriptions(crd.open_api),
                }
                files[name] = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    return files


def main() -> int:
    schemas = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "vendor" / "schemas"
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
