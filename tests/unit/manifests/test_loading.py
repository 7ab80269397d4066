"""Loading YAML documents from files, directories, stdin and kustomizations."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from bulut.errors import ManifestError
from bulut.manifests.loading import (
    KustomizeBuilds,
    kustomize_build,
    load_documents,
    parse_documents,
)

SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: orders
spec:
  template:
    spec:
      containers:
        - image: orders
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_file_yields_every_non_empty_document_with_its_index(tmp_path: Path) -> None:
    source = write(
        tmp_path / "all.yaml",
        f"{SERVICE}---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: x}}\n",
    )
    loaded = load_documents(source)
    assert [(d.index, d.document["kind"]) for d in loaded] == [(1, "Service"), (3, "Namespace")]
    assert loaded[0].where == f"{source}: document 1"


def test_a_directory_is_read_in_sorted_order_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", SERVICE.replace("orders", "b"))
    write(tmp_path / "a.yml", SERVICE.replace("orders", "a"))
    write(
        tmp_path / "c.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}'
    )
    write(tmp_path / "README.md", "not yaml: [")
    names = [d.document["metadata"]["name"] for d in load_documents(tmp_path)]
    assert names == ["a", "b", "c"]


def test_stdin_is_read_for_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SERVICE))
    (loaded,) = load_documents("-")
    assert (loaded.file, loaded.document["metadata"]["name"]) == ("<stdin>", "orders")


def test_a_list_kind_expands_to_its_items() -> None:
    text = (
        "apiVersion: v1\nkind: List\n"
        "items:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
    )
    (loaded,) = parse_documents(text, "list.yaml")
    assert loaded.document["metadata"]["name"] == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{SERVICE}---\n- a\n- b\n", "x.yaml: document 2: expected a mapping, got list"),
        (
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: a}\n"
            "spec:\n  template: [1]\n",
            "x.yaml: document 1: spec.template: expected a mapping, got list",
        ),
        (
            "kind: Service\nmetadata: {name: a}\n",
            "x.yaml: document 1: apiVersion: missing or not a string",
        ),
        (
            "apiVersion: v1\nkind: Service\nmetadata: oops\n",
            "x.yaml: document 1: metadata: expected a mapping, got string",
        ),
        (f"{SERVICE}---\na: [1, 2\n", "x.yaml: document 2: line 12 column 1:"),
    ],
)
def test_errors_name_the_file_document_and_path(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_documents(text, "x.yaml")
    assert caught.value.message.startswith(message)


def test_a_missing_path_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_documents(tmp_path / "nope.yaml")


def test_an_empty_directory_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no \*\.yaml"):
        load_documents(tmp_path)


def test_kustomize_builds_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "service.yaml", SERVICE)
    write(
        tmp_path / "kustomization.yaml",
        "namespace: shop\nnamePrefix: dev-\nresources:\n  - service.yaml\n",
    )
    (loaded,) = kustomize_build(tmp_path)
    assert loaded.document["metadata"] == {"name": "dev-orders", "namespace": "shop"}
    assert loaded.file == f"kustomize {tmp_path}"


def test_kustomize_errors_carry_kubectls_message(tmp_path: Path) -> None:
    write(tmp_path / "kustomization.yaml", "resources:\n  - missing.yaml\n")
    with pytest.raises(ManifestError, match=r"missing\.yaml"):
        kustomize_build(tmp_path)


def _kustomization(folder: Path, prefix: str) -> Path:
    folder.mkdir()
    write(folder / "service.yaml", SERVICE)
    write(folder / "kustomization.yaml", f"namePrefix: {prefix}-\nresources:\n  - service.yaml\n")
    return folder


def test_one_runs_builds_build_each_kustomization_once_and_hand_out_copies(tmp_path: Path) -> None:
    folders = [_kustomization(tmp_path / name, name) for name in ("dev", "prod")]
    builds = KustomizeBuilds()
    builds.prefetch(folders)
    write(folders[0] / "kustomization.yaml", "namePrefix: edited-\nresources:\n  - service.yaml\n")
    (first,) = builds(folders[0])
    assert first.document["metadata"]["name"] == "dev-orders"  # built before the edit, once
    first.document["metadata"]["name"] = "changed by a check"
    (again,) = builds(tmp_path / "dev" / ".." / "dev")
    assert again.document["metadata"]["name"] == "dev-orders"
    assert builds(folders[1])[0].document["metadata"]["name"] == "prod-orders"


def test_a_failing_build_among_several_raises_kubectls_message(tmp_path: Path) -> None:
    good = _kustomization(tmp_path / "good", "good")
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad / "kustomization.yaml", "resources:\n  - missing.yaml\n")
    with pytest.raises(ManifestError, match=r"missing\.yaml"):
        KustomizeBuilds().prefetch([good, bad])
