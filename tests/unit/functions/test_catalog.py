"""The catalog: discovering function folders and mapping a container image to one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.errors import FunctionProjectError, NotFoundError
from bulut.functions.catalog import FUNCTION_PATH_ANNOTATION, discover, image_name, resolve
from bulut.functions.project import Flavour

from tests.support.projects import gff_project, kn_func_project


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    root = tmp_path / "functions"
    kn_func_project(root, "orders", invoke=None)
    kn_func_project(root, "inventory")
    gff_project(root, "notifications")
    (root / "README.md").write_text("not a function\n")
    (root / "docs").mkdir()
    return root


def test_discover_finds_both_flavours_by_name(functions_dir: Path) -> None:
    catalog = discover(functions_dir)
    assert sorted(catalog) == ["inventory", "notifications", "orders"]
    assert catalog["notifications"].flavour is Flavour.FUNCTIONS_FRAMEWORK
    assert catalog["orders"].flavour is Flavour.HTTP


def test_discover_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert discover(tmp_path / "missing") == {}


def test_two_folders_with_one_name_are_refused_naming_both(tmp_path: Path) -> None:
    kn_func_project(tmp_path, "orders", folder="a")
    kn_func_project(tmp_path, "orders", folder="b")
    with pytest.raises(FunctionProjectError, match=r"b: function name 'orders' .* by .*a"):
        discover(tmp_path)


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("orders", "orders"),
        ("orders:latest", "orders"),
        ("ghcr.io/acme/shop/orders:1.2.3", "orders"),
        ("localhost:5000/orders", "orders"),
        ("localhost:5000/orders@sha256:" + "a" * 64, "orders"),
        ("quay.io/acme/orders:v1@sha256:" + "b" * 64, "orders"),
    ],
)
def test_image_name_is_the_last_segment_without_tag_or_digest(image: str, name: str) -> None:
    assert image_name(image) == name


def test_an_image_maps_to_the_function_of_that_name(functions_dir: Path) -> None:
    project = resolve("registry.local:5000/acme/inventory:dev", {}, functions_dir)
    assert project.path == functions_dir / "inventory"


def test_a_functions_framework_image_maps_by_folder_name(functions_dir: Path) -> None:
    assert resolve("acme/notifications", {}, functions_dir).name == "notifications"


def test_the_annotation_wins_over_the_image(functions_dir: Path) -> None:
    annotations = {FUNCTION_PATH_ANNOTATION: str(functions_dir / "orders")}
    assert resolve("acme/inventory", annotations, functions_dir).name == "orders"


def test_a_relative_annotation_is_relative_to_the_working_directory(
    functions_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(functions_dir.parent)
    annotations = {FUNCTION_PATH_ANNOTATION: "functions/orders"}
    project = resolve("whatever:latest", annotations, Path("elsewhere"))
    assert project.path == functions_dir / "orders"


def test_an_annotation_to_a_missing_folder_is_not_found(functions_dir: Path) -> None:
    annotations = {FUNCTION_PATH_ANNOTATION: str(functions_dir / "gone")}
    with pytest.raises(NotFoundError, match=r"bulut\.dev/function-path=.*not a directory"):
        resolve("acme/orders", annotations, functions_dir)


def test_an_unknown_image_names_the_image_and_the_annotation_fix(functions_dir: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        resolve("ghcr.io/acme/shipping:1", {}, functions_dir)
    message = str(caught.value)
    assert "ghcr.io/acme/shipping:1" in message
    assert "known: inventory, notifications, orders" in message
    assert FUNCTION_PATH_ANNOTATION in message
    assert caught.value.field == "spec.template.spec.containers[0].image"


def test_the_sample_functions_are_all_in_the_catalog(repo_root: Path) -> None:
    catalog = discover(repo_root / "functions")
    assert sorted(catalog) == ["audit", "inventory", "notifications", "orders", "payments"]
