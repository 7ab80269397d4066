"""YAML bombs and duplicate keys are refused with the file and path named (issue #20, item 9).

A 591-byte billion-laughs file made ``bulut apply -f`` run 120 s and reach 6.5 GB: PyYAML
shares an alias's object, and whatever walks the document later pays the expansion.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bulut.errors import ManifestError
from bulut.manifests.loading import ALIAS_BUDGET, load_documents, parse_documents


def billion_laughs() -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:"]
    lines.append('  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_file_is_refused_at_once_naming_file_and_path(tmp_path: Path) -> None:
    bomb = tmp_path / "lol.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 800
    started = time.monotonic()
    with pytest.raises(ManifestError) as refused:
        documents = load_documents(bomb)
        json.dumps([d.document for d in documents])  # what apply does with it next
    assert time.monotonic() - started < 2.0
    message = str(refused.value)
    assert str(bomb) in message and "document 1" in message
    assert "data.e" in message  # the first alias past the budget
    assert "alias" in message


def test_aliases_within_the_budget_are_kept() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x}\ndata: {a: &v hi, b: *v}\n"
    (loaded,) = parse_documents(text, "small.yaml")
    assert loaded.document["data"] == {"a": "hi", "b": "hi"}
    assert ALIAS_BUDGET >= 1000


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ManifestError, match=r"r.yaml: document 1: data.x.*recursive"):
        parse_documents("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: &x [*x]\n", "r.yaml")


def test_a_duplicate_key_is_refused_naming_file_document_and_path() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n" + (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: {x: '1', x: '2'}\n"
    )
    with pytest.raises(ManifestError) as refused:
        parse_documents(text, "dup.yaml")
    assert str(refused.value).startswith("dup.yaml: document 2: metadata.labels: duplicate key 'x'")
    assert refused.value.field == "metadata.labels.x"


def test_duplicate_top_level_keys_are_refused() -> None:
    with pytest.raises(ManifestError, match=r"dup\.yaml: document 1: duplicate key 'kind'"):
        parse_documents("apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", "dup.yaml")
