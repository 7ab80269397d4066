"""Loading function folders: the two flavours, and errors that name the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.errors import FunctionProjectError
from bulut.functions.project import Flavour, load_project

from tests.support.projects import gff_project, kn_func_project


def test_a_kn_func_project_with_invoke_cloudevent_is_the_cloudevents_flavour(
    tmp_path: Path,
) -> None:
    project = load_project(kn_func_project(tmp_path, "hello", invoke="cloudevent"))
    assert (project.name, project.flavour) == ("hello", Flavour.CLOUDEVENTS)
    assert project.path == tmp_path / "hello"
    assert project.func_yaml["specVersion"] == "0.36.0"
    assert (project.target, project.signature_type) == (None, None)


def test_a_kn_func_project_without_invoke_is_the_http_flavour(tmp_path: Path) -> None:
    assert load_project(kn_func_project(tmp_path, invoke=None)).flavour is Flavour.HTTP


def test_the_name_comes_from_func_yaml_not_the_folder(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path, "orders", folder="shop-orders"))
    assert project.name == "orders"


def test_a_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kn_func_project(tmp_path, "hello")
    monkeypatch.chdir(tmp_path)
    assert load_project(Path("hello")).path == tmp_path / "hello"


def test_a_functions_framework_folder_is_named_after_the_folder(tmp_path: Path) -> None:
    project = load_project(gff_project(tmp_path, "greeter"))
    assert (project.name, project.flavour) == ("greeter", Flavour.FUNCTIONS_FRAMEWORK)
    assert (project.target, project.signature_type) == ("receive", "cloudevent")
    assert project.func_yaml == {}


def test_an_http_signature_is_recognised(tmp_path: Path) -> None:
    main = (
        "import functions_framework\n\n@functions_framework.http\ndef hello(request):\n    pass\n"
    )
    project = load_project(gff_project(tmp_path, main=main))
    assert (project.target, project.signature_type) == ("hello", "http")


def test_an_asgi_decorator_of_functions_framework_aio_is_recognised(tmp_path: Path) -> None:
    main = (
        "import functions_framework.aio\n\n"
        "@functions_framework.aio.http\nasync def hello(request):\n    pass\n"
    )
    project = load_project(gff_project(tmp_path, main=main))
    assert (project.target, project.signature_type) == ("hello", "http")


def test_a_buildpacks_descriptor_names_the_target_among_several(tmp_path: Path) -> None:
    main = (
        "import functions_framework\n\n"
        "@functions_framework.http\ndef a(request):\n    pass\n\n"
        "@functions_framework.cloud_event\ndef b(event):\n    pass\n"
    )
    path = gff_project(tmp_path, main=main)
    (path / "project.toml").write_text(
        '[_]\nschema-version = "0.2"\n\n'
        '[[io.buildpacks.build.env]]\nname = "GOOGLE_FUNCTION_TARGET"\nvalue = "b"\n'
    )
    project = load_project(path)
    assert (project.target, project.signature_type) == ("b", "cloudevent")


def test_two_decorated_functions_without_a_descriptor_are_ambiguous(tmp_path: Path) -> None:
    main = (
        "import functions_framework\n\n"
        "@functions_framework.http\ndef a(request):\n    pass\n\n"
        "@functions_framework.http\ndef b(request):\n    pass\n"
    )
    with pytest.raises(
        FunctionProjectError, match=r"main\.py.*found: a, b.*GOOGLE_FUNCTION_TARGET"
    ):
        load_project(gff_project(tmp_path, main=main))


def test_a_main_py_without_a_decorated_function_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FunctionProjectError, match="found: none"):
        load_project(gff_project(tmp_path, main="def handler(request):\n    pass\n"))


def test_a_main_py_with_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(FunctionProjectError, match=r"main\.py:1: syntax error"):
        load_project(gff_project(tmp_path, main="def (:\n"))


def test_a_folder_that_is_neither_flavour_names_both_files(tmp_path: Path) -> None:
    with pytest.raises(FunctionProjectError, match=r"neither func\.yaml .* nor main\.py"):
        load_project(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FunctionProjectError, match="not a directory"):
        load_project(tmp_path / "missing")


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "func.yaml").write_text("name: [unclosed\n")
    with pytest.raises(FunctionProjectError, match=r"func\.yaml: not valid YAML"):
        load_project(path)


def test_an_invalid_name_names_the_field_and_the_fix(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "func.yaml").write_text("specVersion: 0.36.0\nname: Bad_Name\n")
    with pytest.raises(FunctionProjectError, match=r"field `name`.*'Bad_Name'") as caught:
        load_project(path)
    assert caught.value.field == "name"


def test_a_non_python_runtime_is_refused(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "func.yaml").write_text("specVersion: 0.36.0\nname: hello\nruntime: go\n")
    with pytest.raises(FunctionProjectError, match="runtime: python"):
        load_project(path)


def test_an_unknown_invoke_format_is_refused(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "func.yaml").write_text("specVersion: 0.36.0\nname: hello\ninvoke: grpc\n")
    with pytest.raises(FunctionProjectError, match="`invoke`"):
        load_project(path)


def test_a_kn_func_project_needs_a_pyproject(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "pyproject.toml").unlink()
    with pytest.raises(FunctionProjectError, match=r"no pyproject\.toml"):
        load_project(path)


def test_a_top_level_list_in_func_yaml_is_refused(tmp_path: Path) -> None:
    path = kn_func_project(tmp_path)
    (path / "func.yaml").write_text("- name: hello\n")
    with pytest.raises(FunctionProjectError, match="mapping"):
        load_project(path)


@pytest.mark.parametrize(
    ("folder", "flavour"),
    [
        ("orders", Flavour.HTTP),
        ("inventory", Flavour.CLOUDEVENTS),
        ("payments", Flavour.CLOUDEVENTS),
        ("audit", Flavour.CLOUDEVENTS),
        ("notifications", Flavour.FUNCTIONS_FRAMEWORK),
    ],
)
def test_the_sample_functions_load(repo_root: Path, folder: str, flavour: Flavour) -> None:
    project = load_project(repo_root / "functions" / folder)
    assert (project.name, project.flavour) == (folder, flavour)
