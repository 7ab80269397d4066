"""What a validation run rendered, by source, and the questions the rules ask of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Document = Mapping[str, Any]
Renderer = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Source:
    """The documents of one kustomization or file."""

    name: str
    documents: list[dict[str, Any]]


@dataclass(frozen=True)
class ClusterProblem:
    """One broken cross-object rule, and how to fix it."""

    rule: str
    source: str
    subject: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.source}: {self.subject}: [{self.rule}] {self.message}; fix: {self.fix}"


@dataclass(frozen=True)
class Inventory:
    """Every rendered source, the project root (for files), and a renderer for paths in it."""

    sources: list[Source]
    root: Path | None = None
    render: Renderer | None = None
    rendered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def documents(self) -> Iterator[tuple[Source, dict[str, Any]]]:
        """(source, document) for every document."""
        for source in self.sources:
            for document in source.documents:
                yield source, document

    def of_kind(self, group: str, kind: str) -> Iterator[tuple[Source, dict[str, Any]]]:
        """Documents of one group (``""`` for core) and kind."""
        for source, document in self.documents():
            if document.get("kind") == kind and group_of(document) == group:
                yield source, document

    def render_path(self, path: str) -> list[dict[str, Any]] | None:
        """The documents a repository path renders to (cached), None when it cannot."""
        if self.render is None:
            return None
        if path not in self.rendered:
            self.rendered[path] = self.render(path)
        return self.rendered[path]


def group_of(document: Document) -> str:
    """The API group of a document (``""`` for the core group)."""
    return str(document.get("apiVersion", "")).rpartition("/")[0]


def name_of(document: Document) -> str:
    """metadata.name."""
    return str((document.get("metadata") or {}).get("name", "?"))


def namespace_of(document: Document, default: str = "") -> str:
    """metadata.namespace, or ``default``."""
    return str((document.get("metadata") or {}).get("namespace") or default)


def label(document: Document) -> str:
    """``Kind/name`` (``Kind namespace/name`` when namespaced)."""
    namespace = namespace_of(document)
    where = f"{namespace}/" if namespace else ""
    return f"{document.get('kind', '?')} {where}{name_of(document)}"


def is_ksvc(document: Document) -> bool:
    """A Knative Service."""
    return document.get("kind") == "Service" and group_of(document) == "serving.knative.dev"


def ksvc_namespaces(inventory: Inventory) -> dict[str, list[str]]:
    """Namespace -> the sources whose Knative Services run there (namespaced ones only)."""
    found: dict[str, list[str]] = {}
    for source, document in inventory.documents():
        # A Service with no namespace is a kustomize base, not something a cluster runs.
        if is_ksvc(document) and namespace_of(document):
            namespace = namespace_of(document)
            if source.name not in found.setdefault(namespace, []):
                found[namespace].append(source.name)
    return found


def pod_labels(document: Document) -> dict[str, str]:
    """The labels a Knative Service's pods carry: its template's, plus Serving's own."""
    template = (document.get("spec") or {}).get("template") or {}
    labels = {
        str(k): str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()
    }
    name = name_of(document)
    labels.update(
        {
            "serving.knative.dev/service": name,
            "serving.knative.dev/configuration": name,
        }
    )
    return labels
