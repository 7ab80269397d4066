"""`bulut validate`: the whole tree passes; bad input exits 2 naming file, document and path."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulut.cli.main import build_app

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "manifests"


def validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["validate", *args])
    return result.exit_code, result.output


def test_the_whole_gitops_tree_validates() -> None:
    code, output = validate(str(REPO / "gitops"))
    assert code == 0, output
    assert "0 problem(s)" in output


def test_the_tree_also_validates_against_the_vendored_upstream_schemas(crds_dir: Path) -> None:
    code, output = validate(str(REPO / "gitops" / "overlays" / "prod"), "--schemas", str(crds_dir))
    assert code == 0, output


def test_a_broken_manifest_exits_2_with_one_line_per_problem() -> None:
    path = FIXTURES / "broken-ksvc.yaml"
    code, output = validate(str(path))
    assert code == 2
    assert (
        f"{path}: document 2 (Service/broken) at spec.template.spec.containers[0]: "
        "unknown field(s) 'imagee'"
    ) in output
    assert "2 problem(s)" in output


def test_policy_can_be_switched_off_from_the_command_line() -> None:
    path = str(FIXTURES / "insecure-deployment.yaml")
    assert validate(path)[0] == 2
    assert validate(path, "--no-policy")[0] == 0


def test_a_missing_path_exits_2() -> None:
    code, output = validate("does/not/exist.yaml")
    assert code == 2
    assert "does not exist" in output


@pytest.mark.parametrize("overlay", ["dev", "staging", "prod"])
def test_each_overlay_validates_on_its_own(overlay: str) -> None:
    code, output = validate(str(REPO / "gitops" / "overlays" / overlay))
    assert code == 0, output
