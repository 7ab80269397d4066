"""Every rendered pipeline document validates against the upstream schemas in bulut/apis/crds.

Argo Workflows and Tekton: their CRDs' openAPIV3Schema, translated and closed (unknown
fields are errors; reference/cluster-ops.md §7). Argo Events' CRDs are permissive, so its
``schema.json`` is used, with objects closed the same way. Core kinds (RBAC, Namespace):
kubernetes-validate through ``bulut validate``'s Validator.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pipelines import render

from bulut.manifests.loading import LoadedDocument
from bulut.manifests.schemas import SchemaStore, read_schema_file
from bulut.manifests.validate import Validator

CRD_FILES = (
    "argo-workflows/argoproj.io_workflowtemplates.yaml",
    "argo-workflows/argoproj.io_cronworkflows.yaml",
    "tekton/300-task.yaml",
    "tekton/300-pipeline.yaml",
)
EVENTS = {"EventSource", "Sensor", "EventBus"}


@cache
def store(schemas: Path) -> SchemaStore:
    found = SchemaStore()
    for relative in CRD_FILES:
        for schema in read_schema_file(schemas / relative):
            found.add(schema)
    return found


def close(node: Any) -> Any:
    """A copy where every object with properties rejects unknown ones."""
    if isinstance(node, dict):
        closed = {key: close(value) for key, value in node.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [close(item) for item in node]
    return node


@cache
def events_validator(schemas: Path, kind: str) -> jsonschema.protocols.Validator:
    definitions = json.loads((schemas / "argo-events" / "schema.json").read_text())["definitions"]
    closed = close(copy.deepcopy(definitions))
    for name, definition in closed.items():
        if name.startswith("io.argoproj.events.v1alpha1.") and "metadata" in definition.get(
            "properties", {}
        ):
            definition["properties"]["metadata"] = {"type": "object"}
    schema = {"$ref": f"#/definitions/io.argoproj.events.v1alpha1.{kind}", "definitions": closed}
    return jsonschema.Draft7Validator(schema)


def rendered() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path}#{index}", doc)
        for path, text in sorted(render.render().items())
        for index, doc in enumerate(yaml.safe_load_all(text))
        if doc and doc["kind"] != "Kustomization"
    ]


@pytest.mark.parametrize(("where", "document"), rendered(), ids=lambda v: str(v)[:60])
def test_every_rendered_document_is_valid(
    crds_dir: Path, where: str, document: dict[str, Any]
) -> None:
    schemas = crds_dir
    if document["kind"] in EVENTS:
        validator = events_validator(schemas, document["kind"])
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], where
        return
    report = Validator(store(schemas), check_policy=False).check(
        [LoadedDocument(where, 0, document)], where
    )
    assert report.unchecked == [], f"{where}: no schema"
    assert [str(p) for p in report.problems] == []


def test_a_misspelled_field_fails_validation(crds_dir: Path) -> None:
    template = next(d for _, d in rendered() if d["kind"] == "WorkflowTemplate")
    broken = copy.deepcopy(template)
    broken["spec"]["podGc"] = broken["spec"].pop("podGC")
    report = Validator(store(crds_dir), check_policy=False).check(
        [LoadedDocument("x", 0, broken)], "x"
    )
    assert any("podGc" in str(problem) for problem in report.problems)


def test_a_misspelled_sensor_field_fails_validation(crds_dir: Path) -> None:
    (sensor,) = [d for _, d in rendered() if d["kind"] == "Sensor"]
    broken = copy.deepcopy(sensor)
    broken["spec"]["dependencies"][0]["eventSource"] = "git"
    errors = list(events_validator(crds_dir, "Sensor").iter_errors(broken))
    assert any("eventSource" in error.message for error in errors)
