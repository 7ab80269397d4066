"""bulut.manifests.validate and .schemas: offline validation with readable errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulut.manifests.kustomize import kustomization_roots
from bulut.manifests.loading import LoadedDocument
from bulut.manifests.schemas import (
    CrdSchema,
    SchemaStore,
    apply_defaults,
    bundled_store,
    load_store,
    translate,
)
from bulut.manifests.validate import Problem, Validator, json_path, validate_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(bundled_store())


def one(document: dict[str, Any]) -> list[LoadedDocument]:
    return [LoadedDocument("mem.yaml", 1, document)]


def messages(report_problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in report_problems]


def test_int_or_string_accepts_both() -> None:
    schema = translate({"x-kubernetes-int-or-string": True})
    assert schema == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_nullable_adds_null_to_the_type() -> None:
    assert translate({"type": "string", "nullable": True}) == {"type": ["string", "null"]}


def test_objects_with_properties_are_closed_unless_preserved() -> None:
    closed = translate({"type": "object", "properties": {"a": {"type": "string"}}})
    assert closed["additionalProperties"] is False
    open_ = translate(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "x-kubernetes-preserve-unknown-fields": True,
        }
    )
    assert "additionalProperties" not in open_


def test_kubernetes_extensions_and_descriptions_are_dropped() -> None:
    schema = translate({"type": "array", "description": "d", "x-kubernetes-list-type": "atomic"})
    assert schema == {"type": "array"}


def test_defaults_are_applied_before_validation_like_the_api_server() -> None:
    schema = {
        "properties": {
            "spec": {"properties": {"wildcardPolicy": {"type": "string", "default": "None"}}}
        }
    }
    assert apply_defaults({"spec": {}}, schema) == {"spec": {"wildcardPolicy": "None"}}


def test_the_bundle_holds_every_knative_kind_the_gitops_tree_uses() -> None:
    store = bundled_store()
    for api_version, kind in [
        ("serving.knative.dev/v1", "Service"),
        ("eventing.knative.dev/v1", "Broker"),
        ("eventing.knative.dev/v1", "Trigger"),
        ("sources.knative.dev/v1", "PingSource"),
        ("sources.knative.dev/v1", "SinkBinding"),
        ("route.openshift.io/v1", "Route"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
    ]:
        assert store.schema_for(api_version, kind) is not None, (api_version, kind)
        assert "github.com/" in (store.source_of(api_version, kind) or "")


def test_a_schema_folder_overrides_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "widget.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "spec:\n  group: example.com\n  names: {kind: Widget}\n  versions:\n"
        "    - name: v1\n      served: true\n      schema:\n        openAPIV3Schema:\n"
        "          type: object\n          properties:\n            spec:\n"
        "              type: object\n              properties: {size: {type: integer}}\n"
    )
    (tmp_path / "notes.yaml").write_text("just: text\n")
    store = load_store(tmp_path)
    assert store.schema_for("example.com/v1", "Widget") is not None
    assert store.schema_for("serving.knative.dev/v1", "Service") is not None


def test_a_knative_typo_is_reported_with_its_path(validator: Validator) -> None:
    report = validator.check(
        one(
            {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "metadata": {"name": "f"},
                "spec": {"template": {"spec": {"containers": [{"imagee": "x"}]}}},
            }
        ),
        "mem.yaml",
    )
    problems = [(p.path, p.message) for p in report.problems]
    assert ("spec.template.spec.containers[0]", "unknown field(s) 'imagee'") in problems


def test_a_core_kind_is_validated_strictly(validator: Validator) -> None:
    report = validator.check(
        one({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dataa": {}}),
        "mem.yaml",
    )
    assert [p.message for p in report.problems] == ["unknown field(s) 'dataa'"]


def test_a_valid_core_kind_passes(validator: Validator) -> None:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    assert validator.check(one(document), "mem.yaml").ok


def test_kinds_without_a_schema_are_listed_not_passed_silently(validator: Validator) -> None:
    document = {
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": "s"},
    }
    report = validator.check(one(document), "mem.yaml")
    assert report.ok
    assert report.unchecked == ["operators.coreos.com/v1alpha1/Subscription"]


def test_documents_need_kind_and_a_name(validator: Validator) -> None:
    report = validator.check(one({"metadata": {}}), "mem.yaml")
    assert {p.message for p in report.problems} == {
        "apiVersion and kind are required",
        "is required",
    }


def test_the_openshift_route_validates_once_defaults_are_applied(validator: Validator) -> None:
    route = {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {"to": {"kind": "Service", "name": "s"}, "tls": {"termination": "edge"}},
    }
    assert validator.check(one(route), "mem.yaml").ok


def test_the_broken_fixture_names_file_document_and_path(validator: Validator) -> None:
    path = FIXTURES / "broken-ksvc.yaml"
    report = validate_path(path, validator)
    assert not report.ok
    assert messages(report.problems) == [
        f"{path}: document 2 (Service/broken) at spec.template.spec.containerConcurrency: "
        "'many' is not of type 'integer'",
        f"{path}: document 2 (Service/broken) at spec.template.spec.containers[0]: "
        "unknown field(s) 'imagee'",
    ]


def test_policy_problems_are_part_of_validation(validator: Validator) -> None:
    report = validate_path(FIXTURES / "insecure-deployment.yaml", validator)
    paths = {problem.path for problem in report.problems}
    assert "spec.template.spec.hostNetwork" in paths
    assert "spec.template.spec.containers[0].securityContext.runAsUser" in paths


def test_policy_checks_can_be_turned_off() -> None:
    quiet = Validator(bundled_store(), check_policy=False)
    assert validate_path(FIXTURES / "insecure-deployment.yaml", quiet).ok


def test_a_kustomization_is_built_before_validation(tmp_path: Path, validator: Validator) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\nnamespace: ns\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    report = validate_path(tmp_path, validator)
    assert report.ok
    assert report.documents == 1
    assert report.sources == [str(tmp_path)]


def test_loose_yaml_files_outside_kustomizations_are_validated(
    tmp_path: Path, validator: Validator
) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tmp_path / "app" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n"
    )
    report = validate_path(tmp_path, validator)
    assert sorted(report.sources) == sorted([str(tmp_path / "app"), str(tmp_path / "cm.yaml")])
    assert report.documents == 2


def test_components_are_not_built_on_their_own(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("kind: Component\n")
    assert list(kustomization_roots(tmp_path)) == []


def test_json_paths_read_like_kubectl_explain() -> None:
    assert json_path(["spec", "containers", 0, "image"]) == "spec.containers[0].image"
    assert json_path([]) == ""


def test_an_empty_store_falls_back_to_unchecked_for_crds() -> None:
    validator = Validator(SchemaStore())
    document = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "b"},
    }
    assert validator.check(one(document), "mem.yaml").unchecked == [
        "eventing.knative.dev/v1/Broker"
    ]


def test_a_store_indexes_by_api_version_and_kind() -> None:
    store = SchemaStore()
    store.add(CrdSchema("example.com/v1", "Thing", {"type": "object"}, "test"))
    assert len(store) == 1
    assert store.source_of("example.com/v1", "Thing") == "test"


def test_constraint_branches_are_not_closed() -> None:
    schema = translate(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "anyOf": [{"properties": {"a": {"maxLength": 0}}}, {"required": ["b"]}],
        }
    )
    assert schema["additionalProperties"] is False
    assert "additionalProperties" not in schema["anyOf"][0]
