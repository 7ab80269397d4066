"""Rendered pipelines: committed YAML == what Hera renders, kebab-case, one catalog, hygiene."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import Container
from pipelines import ci_dispatch, render

from bulut.manifests.policy import check_container
from bulut.workflows import DR_DRILL, FUNCTION_CI, PROMOTE, Pipeline

REPO = Path(__file__).resolve().parents[2]
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RENDERED = render.render()
WORKFLOW_KINDS = {"WorkflowTemplate", "CronWorkflow"}
NETWORK_STEPS = {"checkout", "scan", "push", "publish", "rollback"}


@functools.cache
def documents() -> list[dict[str, Any]]:
    """Every rendered document but the kustomizations, parsed once (the tests only read them)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [
        doc
        for text in RENDERED.values()
        for doc in yaml.load_all(text, Loader=loader)
        if doc and doc.get("kind") != "Kustomization"
    ]


def workflow(name: str) -> dict[str, Any]:
    (found,) = [
        d for d in documents() if d["metadata"]["name"] == name and d["kind"] in WORKFLOW_KINDS
    ]
    return found


def spec_of(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["spec"]
    return spec["workflowSpec"] if document["kind"] == "CronWorkflow" else spec


def dag_of(document: dict[str, Any]) -> dict[str, Any]:
    spec = spec_of(document)
    (main,) = [t for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    dag: dict[str, Any] = main["dag"]
    return dag


def test_the_committed_pipeline_yaml_is_what_render_produces() -> None:
    assert render.stale(REPO, RENDERED) == [], "run: make render (python -m pipelines.render)"


def test_check_mode_reports_a_hand_edited_file(tmp_path: Path) -> None:
    render.write(tmp_path, RENDERED)
    edited = tmp_path / render.ARGO_WORKFLOWS / "function-ci.yaml"
    edited.write_text(edited.read_text() + "# edited by hand\n")
    assert render.main(["--check", "--root", str(tmp_path)]) == 1
    assert render.stale(tmp_path, RENDERED) == [
        "gitops/platform/argo-workflows/function-ci.yaml: out of date"
    ]


def test_every_file_is_kebab_case_and_says_it_is_generated() -> None:
    for path, text in RENDERED.items():
        assert KEBAB.match(path.stem), path
        assert text.startswith(render.HEADER), path


def test_every_resource_and_template_name_is_kebab_case() -> None:
    for document in documents():
        assert KEBAB.match(document["metadata"]["name"]), document["metadata"]["name"]
        if document["kind"] in WORKFLOW_KINDS:
            for template in spec_of(document)["templates"]:
                assert KEBAB.match(template["name"]), template["name"]


def test_each_kustomization_lists_exactly_its_folder_files() -> None:
    for folder in render.FOLDERS:
        kustomization = yaml.safe_load_all(RENDERED[folder / "kustomization.yaml"])
        (listed,) = [doc["resources"] for doc in kustomization if doc]
        generated = sorted(p.name for p in RENDERED if p.parent == folder)
        templates = ["pvc.yaml"] if folder == render.TEKTON else []  # tkn's claim template
        assert sorted([*listed, "kustomization.yaml", *templates]) == generated


@pytest.mark.parametrize("pipeline", [FUNCTION_CI, PROMOTE, DR_DRILL], ids=lambda p: p.name)
def test_the_workflow_dag_is_the_step_catalog(pipeline: Pipeline) -> None:
    tasks = dag_of(workflow(pipeline.name))["tasks"]
    assert [t["name"] for t in tasks] == [s.name for s in pipeline.steps]
    for task, step in zip(tasks, pipeline.steps, strict=True):
        assert task.get("depends") == step.depends_expression


def test_the_rollback_runs_only_when_the_smoke_test_failed() -> None:
    tasks = {t["name"]: t for t in dag_of(workflow("promote"))["tasks"]}
    assert tasks["rollback"]["depends"] == "smoke-test.Failed"
    wait = tasks["wait-for-sync"]["arguments"]["parameters"][0]["value"]
    assert wait == "{{tasks.publish.outputs.parameters.revision}}"


@pytest.mark.parametrize("name", ["function-ci", "promote", "ci-dispatch", "dr-drill"])
def test_every_workflow_cleans_up_and_runs_non_root(name: str) -> None:
    spec = spec_of(workflow(name))
    assert spec["podGC"]["strategy"] == "OnPodCompletion"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert "runAsUser" not in spec["securityContext"]
    assert spec["serviceAccountName"] != "default"


@pytest.mark.parametrize("name", ["function-ci", "promote", "ci-dispatch", "dr-drill"])
def test_containers_meet_restricted_v2_except_the_documented_buildah_steps(name: str) -> None:
    spec = spec_of(workflow(name))
    for template in spec["templates"]:
        container = template.get("container") or template.get("script")
        if container is None:
            continue
        problems = check_container(template["name"], container, spec["securityContext"])
        if container["image"].startswith("quay.io/buildah/"):
            assert template["serviceAccountName"] == "function-ci-builder"
            assert container["securityContext"]["capabilities"]["add"] == ["SETFCAP"]
            continue
        assert [str(p) for p in problems] == [], template["name"]


def test_network_bound_steps_retry_on_transient_errors() -> None:
    for name in ("function-ci", "promote"):
        for template in spec_of(workflow(name))["templates"]:
            if template["name"] in NETWORK_STEPS:
                assert template["retryStrategy"]["retryPolicy"] == "OnTransientError", template


def test_the_digest_is_a_global_output_of_function_ci() -> None:
    (push,) = [t for t in spec_of(workflow("function-ci"))["templates"] if t["name"] == "push"]
    (digest,) = push["outputs"]["parameters"]
    assert digest["globalName"] == "digest"


def test_the_drill_is_weekly_with_v4_schedules_and_keeps_its_report() -> None:
    cron = workflow("dr-drill")
    assert "schedule" not in cron["spec"]
    assert cron["spec"]["schedules"] == ["0 3 * * 0"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (drill,) = [t for t in spec_of(cron)["templates"] if t["name"] == "drill"]
    assert drill["container"]["command"][5:9] == ["bulut", "dr", "drill", "--cluster"]
    assert drill["outputs"]["artifacts"][0]["name"] == "report"


def test_dispatch_starts_one_function_ci_per_changed_folder() -> None:
    commits = (
        '[{"added": ["functions/inventory/function/x.py", "README.md"],'
        ' "modified": ["functions/orders/func.yaml", "functions/inventory/func.yaml"],'
        ' "removed": ["functions/gone/main.py"]}, {"modified": ["gitops/x.yaml"]}]'
    )
    assert ci_dispatch.changed_functions(commits) == ["inventory", "orders"]
    assert ci_dispatch.changed_functions("[]") == []
    tasks = {t["name"]: t for t in dag_of(workflow("ci-dispatch"))["tasks"]}
    assert tasks["start-function-ci"]["withParam"].startswith("{{tasks.changed-functions.")


def test_hera_rejects_a_misspelled_argument() -> None:
    with pytest.raises(TypeError, match="imagee"):
        Container(name="lint", imagee="python:3.12")  # type: ignore[call-arg]


@pytest.mark.parametrize("pipeline", [FUNCTION_CI, PROMOTE], ids=lambda p: p.name)
def test_the_tekton_pipeline_is_the_same_catalog(pipeline: Pipeline) -> None:
    (tekton,) = [
        d for d in documents() if d["kind"] == "Pipeline" and d["metadata"]["name"] == pipeline.name
    ]
    tasks = {t["name"]: t for t in [*tekton["spec"]["tasks"], *tekton["spec"].get("finally", [])]}
    assert list(tasks) == [s.name for s in pipeline.steps]
    for step in pipeline.steps:
        task = tasks[step.name]
        assert task["taskRef"]["name"] == f"{pipeline.name}-{step.name}"
        if step.on_failure:
            assert task in tekton["spec"]["finally"]
            assert task["when"][0]["values"] == ["Failed"]
        else:
            assert task.get("runAfter", []) == list(step.depends)


def test_tekton_steps_fit_openshift() -> None:
    for document in documents():
        if document["kind"] != "Task":
            continue
        (step,) = document["spec"]["steps"]
        context = step["securityContext"]
        assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
        assert "ALL" in context["capabilities"]["drop"]
        if "runAsUser" in context:
            assert step["image"].startswith("quay.io/buildah/"), document["metadata"]["name"]
