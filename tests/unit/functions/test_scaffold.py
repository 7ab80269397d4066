"""`bulut func create` writes the project kn func would, runnable as it stands."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft4Validator

from bulut.errors import InvalidInputError
from bulut.functions.project import Flavour, load_project
from bulut.functions.scaffold import Template, create

NOW = datetime.datetime(2026, 12, 7, 1, 2, 3, tzinfo=datetime.UTC)


@pytest.mark.parametrize("template", list(Template))
def test_the_project_has_kn_funcs_layout(tmp_path: Path, template: Template) -> None:
    created = create("greeter", template=template, path=tmp_path / "greeter", now=NOW)
    names = {p.relative_to(created.root).as_posix() for p in created.files}
    assert {
        "func.yaml",
        "pyproject.toml",
        "function/__init__.py",
        "function/func.py",
        "tests/test_func.py",
    } <= names
    project = load_project(created.root)
    assert (project.name, project.flavour) == ("greeter", Flavour(template.value))


@pytest.mark.parametrize("template", list(Template))
def test_func_yaml_validates_against_the_published_schema(
    tmp_path: Path, template: Template, crds_dir: Path
) -> None:
    schema = json.loads((crds_dir / "knative" / "func-yaml-schema.json").read_text())
    root = create("greeter", template=template, path=tmp_path / "g", now=NOW).root
    func_yaml = yaml.safe_load((root / "func.yaml").read_text())
    assert list(Draft4Validator(schema).iter_errors(func_yaml)) == []
    assert func_yaml["created"] == "2026-12-07T01:02:03Z"
    assert ("invoke" in func_yaml) is (template is Template.CLOUDEVENTS)


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(InvalidInputError, match="not empty"):
        create("taken", path=tmp_path / "taken")


@pytest.mark.parametrize("name", ["Orders", "1st", "a_b", "x" * 64])
def test_a_name_that_cannot_name_a_service_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInputError, match="must start with a letter"):
        create(name, path=tmp_path / "f")


def test_only_python_is_offered(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="-l python"):
        create("f", language="go", path=tmp_path / "f")
