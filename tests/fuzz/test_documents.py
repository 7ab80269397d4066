"""YAML documents and backup manifests under random input (issue #20).

``bulut apply -f`` / ``bulut up -f`` load YAML with a budget (aliases, nesting, duplicate
keys); ``bulut dr verify`` / ``restore`` read a manifest from wherever a backup lives. Any
input must end in the platform's own error naming where (file and path; the manifest's
field), within a bounded time, and must write nothing outside its staging directory.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bulut.dr.locations import DirectoryLocation
from bulut.dr.restore import fetch_and_verify, read_manifest
from bulut.errors import BulutError
from bulut.manifests.loading import parse_documents

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALAR = st.sampled_from(["a", "1", "-1e999", "~", "!!binary Zm9v", "'x'", '"y"', "&a x", "*a",
                          "!!python/object:os.system ls", "<<: *a", "{", "[", "- x", "? k",
                          "0x1F", "yes", ".inf", "'", "|", ">-", "%YAML 1.1"])  # fmt: skip
KEY = st.sampled_from(["apiVersion", "kind", "metadata", "name", "spec", "a", "a", "<<", "? x"])


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """Random YAML: keys, anchors, aliases, tags, flow and block forms, several documents."""
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        indent = "  " * draw(st.integers(0, 4))
        kind = draw(st.integers(0, 4))
        if kind == 0:
            lines.append(f"{indent}{draw(KEY)}: {draw(SCALAR)}")
        elif kind == 1:
            lines.append(f"{indent}- {draw(SCALAR)}")
        elif kind == 2:
            lines.append("---")
        elif kind == 3:
            anchor = draw(st.sampled_from(["a", "b"]))
            items = ", ".join(f"*{anchor}" for _ in range(draw(st.integers(1, 9))))
            lines.append(f"{indent}{anchor}: &{anchor} [{items}]")
        else:
            lines.append(indent + draw(st.text(max_size=30)))
    return "\n".join(lines)


@FUZZ
@given(text=yaml_texts() | st.text(max_size=200))
def test_any_yaml_loads_or_is_refused_naming_the_file_quickly(text: str) -> None:
    began = time.perf_counter()
    try:
        documents = parse_documents(text, "fuzz.yaml")
    except BulutError as error:
        assert "fuzz.yaml" in str(error), str(error)
    else:
        assert all(isinstance(loaded.document, dict) for loaded in documents)
    assert time.perf_counter() - began < 2.0


PATHS = st.sampled_from(
    [
        "eventing/broker.db",
        "volumes/svc/data.txt",
        "/etc/passwd",
        "../x",
        "volumes/../../x",
        "",
        ".",
        "vault/../eventing/a",
        "a\x00b",
        "C:\\x",
    ]
)
ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "path": PATHS | st.text(max_size=20) | st.integers(),
        "component": st.sampled_from(["volumes", "eventing", "vault", "x", ""]) | st.integers(),
        "size": st.integers(-5, 10**12) | st.text(max_size=3),
        "sha256": st.text(alphabet="0123456789abcdef", max_size=64) | st.none(),
    },
)
MANIFEST = st.fixed_dictionaries(
    {},
    optional={
        "format": st.just("bulut-backup/1") | st.text(max_size=4),
        "id": st.sampled_from(["b1", "../up", "/abs", "a/b", ""]) | st.text(max_size=9),
        "created": st.text(max_size=12) | st.floats(allow_nan=False),
        "source": st.text(max_size=5),
        "database": st.text(max_size=5),
        "vault": st.text(max_size=5),
        "log": st.dictionaries(st.sampled_from(["head", "segment", "x"]), st.integers()),
        "files": st.lists(ENTRY, max_size=4) | st.text(max_size=5),
        "sealed": st.lists(PATHS, max_size=2) | st.text(max_size=4),
    },
)  # fmt: skip


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup location three folders deep in a root of its own: an escaping path ("../x",
    "volumes/../../x") lands inside the root, where the test looks, and the test never walks
    the worker's whole temporary tree (other tests' virtual environments)."""
    location = tmp_path_factory.mktemp("fuzz-root") / "a" / "b" / "backups"
    location.mkdir(parents=True)
    return location


@FUZZ
@given(document=MANIFEST | st.text(max_size=40).map(json.dumps))
def test_any_manifest_is_verified_or_refused_and_nothing_is_written_outside(
    backups: Path, document: object
) -> None:
    backup = backups / "b1"
    backup.mkdir(exist_ok=True)
    (backup / "manifest.json").write_text(
        document if isinstance(document, str) else json.dumps(document)
    )
    root = backups.parents[2]
    before = set(root.rglob("*"))
    staging = backups / "staging"
    try:
        manifest = read_manifest(DirectoryLocation(backups), "b1")
        fetch_and_verify(DirectoryLocation(backups), manifest, staging)
    except BulutError:
        pass
    after = set(root.rglob("*"))
    assert {p for p in after - before if not p.is_relative_to(staging)} == set()
