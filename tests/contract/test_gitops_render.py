"""`bulut render`: the committed function bases are exactly what func.yaml renders to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bulut.cli.main import build_app
from bulut.manifests import render

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/func.yaml"))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of functions/*/func.yaml and gitops/ to change freely."""
    for name in FUNCTIONS:
        target = tmp_path / "functions" / name
        target.mkdir(parents=True)
        shutil.copy(REPO / "functions" / name / "func.yaml", target / "func.yaml")
    shutil.copytree(REPO / "gitops", tmp_path / "gitops")
    return tmp_path


def run_render(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        build_app(),
        [
            "render",
            "--functions-dir",
            str(root / "functions"),
            "--gitops-dir",
            str(root / "gitops"),
            *args,
        ],
    )
    return result.exit_code, result.output


def test_the_sample_has_kn_func_functions_to_render() -> None:
    assert {"orders", "inventory", "payments", "audit"} <= set(FUNCTIONS)


def test_render_check_passes_on_the_committed_tree() -> None:
    code, output = run_render(REPO, "--check")
    assert code == 0, output
    assert "up to date" in output


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_committed_base_matches_its_func_yaml(name: str) -> None:
    func_yaml = yaml.safe_load((REPO / "functions" / name / "func.yaml").read_text())
    image = render.function_image(func_yaml, "registry.example.com/shop")
    for file, text in render.render_files(func_yaml, image=image).items():
        assert (REPO / "gitops/bases/functions" / name / file).read_text() == text


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_generated_file_is_listed_in_its_kustomization(name: str) -> None:
    base = REPO / "gitops/bases/functions" / name
    listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
    generated = [p.name for p in base.glob("*.yaml") if render.is_generated(p.read_text())]
    assert generated
    assert set(generated) <= set(listed)


def test_a_hand_edit_of_a_generated_file_is_drift(tree: Path) -> None:
    ksvc = tree / "gitops/bases/functions/orders/ksvc.yaml"
    ksvc.write_text(ksvc.read_text().replace("timeoutSeconds: 300", "timeoutSeconds: 301"))
    code, output = run_render(tree, "--check")
    assert code == 1
    assert "ksvc.yaml (rendered)" in output
    assert "+      timeoutSeconds: 300" in output
    assert "out of date" in output


def test_a_changed_func_yaml_is_drift_until_rendered(tree: Path) -> None:
    func_yaml = tree / "functions/inventory/func.yaml"
    func_yaml.write_text(func_yaml.read_text().replace("max: 3", "max: 4"))
    assert run_render(tree, "--check")[0] == 1
    code, output = run_render(tree)
    assert code == 0
    assert "wrote" in output
    assert run_render(tree, "--check")[0] == 0
    text = (tree / "gitops/bases/functions/inventory/ksvc.yaml").read_text()
    assert "autoscaling.knative.dev/max-scale: '4'" in text


def test_a_removed_subscription_removes_its_trigger_file(tree: Path) -> None:
    func_yaml = tree / "functions/inventory/func.yaml"
    data = yaml.safe_load(func_yaml.read_text())
    data["deploy"]["subscriptions"] = data["deploy"]["subscriptions"][:1]
    func_yaml.write_text(yaml.safe_dump(data))
    stale = tree / "gitops/bases/functions/inventory/trigger-1.yaml"
    assert run_render(tree, "--check")[0] == 1
    code, output = run_render(tree)
    assert code == 0
    assert f"removed {stale}" in output
    assert not stale.exists()


def test_a_new_subscription_must_be_listed_in_the_kustomization(tree: Path) -> None:
    func_yaml = tree / "functions/audit/func.yaml"
    data = yaml.safe_load(func_yaml.read_text())
    data["deploy"]["subscriptions"].append({"source": "default"})
    func_yaml.write_text(yaml.safe_dump(data))
    code, output = run_render(tree)
    assert code == 0
    assert "does not list trigger-1.yaml" in output
    code, output = run_render(tree, "--check")
    assert code == 1
    assert "resources does not list trigger-1.yaml" in output
