"""disaster-recovery/velero validates against the Velero and OADP CRDs, closed objects.

The CRD schemas come from bulut/apis/crds/velero (upstream files, crds/SOURCES.txt),
translated for a plain JSON-Schema validator with every object closed, so a misspelled field fails.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bulut.dr.velero import objects
from bulut.manifests.schemas import SchemaStore, load_store

REPO = Path(__file__).resolve().parents[2]
VELERO = REPO / "disaster-recovery" / "velero"


@pytest.fixture(scope="module")
def store(crds_dir: Path) -> SchemaStore:
    return load_store(crds_dir / "velero", bundled=False)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted([*VELERO.glob("*.yaml"), *VELERO.glob("oadp/*.yaml")]):
        if path.name == "kustomization.yaml":
            continue
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            found.append((f"{path.name}#{index}", document))
    return found


def _errors(store: SchemaStore, document: dict[str, Any]) -> list[str]:
    schema = store.schema_for(document["apiVersion"], document["kind"])
    assert schema is not None, f"no schema for {document['apiVersion']} {document['kind']}"
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.mark.parametrize(
    ("where", "document"), _documents(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_every_velero_spec_is_valid_against_its_crd(
    store: SchemaStore, where: str, document: dict[str, Any]
) -> None:
    assert _errors(store, document) == [], where


def test_a_misspelled_field_fails_validation(store: SchemaStore) -> None:
    schedule = yaml.safe_load((VELERO / "schedule-functions.yaml").read_text())
    broken = copy.deepcopy(schedule)
    broken["spec"]["template"]["excludedResource"] = broken["spec"]["template"].pop(
        "excludedResources"
    )
    assert any("excludedResource" in error for error in _errors(store, broken))


def test_the_schedule_excludes_exactly_the_knative_generated_children_but_pods() -> None:
    schedule = yaml.safe_load((VELERO / "schedule-functions.yaml").read_text())
    template = schedule["spec"]["template"]
    assert template["excludedResources"] == list(objects.BACKUP_EXCLUDED)
    assert set(objects.KNATIVE_GENERATED) - set(objects.BACKUP_EXCLUDED) == {"pods"}
    assert "services.serving.knative.dev" not in template["excludedResources"]


def test_restores_never_bring_pods_back() -> None:
    for restore in yaml.safe_load_all((VELERO / "restore-drill.yaml").read_text()):
        spec = restore["spec"]
        assert "pods" in spec.get("excludedResources", []) or "pods" not in spec.get(
            "includedResources", ["pods"]
        )


def test_every_pre_backup_hook_fails_the_backup_and_has_a_timeout() -> None:
    schedule = yaml.safe_load((VELERO / "schedule-functions.yaml").read_text())
    hooks = [
        hook["exec"]
        for resource in schedule["spec"]["template"]["hooks"]["resources"]
        for hook in resource["pre"]
    ]
    assert hooks
    assert all(hook["onError"] == "Fail" and hook["timeout"] for hook in hooks)


def test_the_standby_location_is_read_only_on_the_same_bucket() -> None:
    primary = yaml.safe_load((VELERO / "backupstoragelocation.yaml").read_text())
    standby = yaml.safe_load((VELERO / "backupstoragelocation-standby.yaml").read_text())
    assert standby["spec"]["accessMode"] == "ReadOnly"
    assert standby["spec"]["objectStorage"] == primary["spec"]["objectStorage"]


def test_the_drill_restores_services_before_eventing_into_a_mapped_namespace() -> None:
    first, second = yaml.safe_load_all((VELERO / "restore-drill.yaml").read_text())
    assert "services.serving.knative.dev" in first["spec"]["includedResources"]
    assert "services.serving.knative.dev" in second["spec"]["excludedResources"]
    for restore in (first, second):
        assert restore["spec"]["namespaceMapping"] == {"shop-prod": "shop-prod-drill"}


def test_the_objects_the_cluster_drill_creates_are_valid(store: SchemaStore) -> None:
    created = [
        objects.backup("drill-x", ["shop"], labels={"bulut.dev/drill": "true"}),
        *objects.restore_plan("drill-x", "drill-x", {"shop": "shop-drill"}),
    ]
    for document in created:
        assert _errors(store, document) == [], document["metadata"]["name"]
