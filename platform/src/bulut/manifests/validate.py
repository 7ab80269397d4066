"""Offline validation of Kubernetes/Knative YAML: schemas first, then policy.

Every document is checked against the schema of its kind:

- CRD kinds (Knative, Argo CD, OpenShift Route, Prometheus operator, ...) against their
  ``openAPIV3Schema``, translated and closed by :mod:`bulut.manifests.schemas`, after the
  schema's defaults are applied;
- core Kubernetes kinds with kubernetes-validate's *strict* schemas (unknown fields fail);
- kinds with neither are listed as unchecked, never silently passed.

Then the rules a cluster applies that schemas cannot express: Knative's webhook
(:mod:`bulut.manifests.knative`, with the ``config-features`` and ``config-defaults`` the
platform runs with) and kube-apiserver's own validation (:mod:`bulut.manifests.kube`), and
:mod:`bulut.manifests.policy` checks pod templates against restricted-v2.
A :class:`Problem` names the file (or kustomization), the document (1-based, as
:mod:`bulut.manifests.loading` counts them), and the path.

Across documents, :func:`cluster_problems` runs the named rules of
:mod:`bulut.manifests.cluster` over everything a run rendered.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry, Resource

from bulut.errors import BulutError

from . import policy
from .cluster import ClusterProblem, Inventory, Source, check as check_cluster
from .knative import ServingConfig, serving_config_from_knativeserving, validate_revision_spec
from .knative.config import configmaps_from_knativeserving, is_serving_configmap
from .kube.objects import validate_object
from .kustomize import is_kustomization, kustomization_file, kustomization_roots
from .loading import KustomizeBuilds, LoadedDocument, kustomize_build, load_documents
from .schemas import SchemaStore, apply_defaults

DEFAULT_KUBE_VERSION = "1.33"  # OpenShift 4.20 (the newest OCP OpenShift Serverless 1.38 lists)
_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one document."""

    file: str
    index: int
    label: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.file}: document {self.index} ({self.label}){where}: {self.message}"


@dataclass
class Report:
    """What a validation run looked at and found."""

    documents: int = 0
    problems: list[Problem] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    rendered: list[Source] = field(default_factory=list)
    cluster: list[ClusterProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems and not self.cluster

    @property
    def problem_count(self) -> int:
        """Per-document and cross-object problems together."""
        return len(self.problems) + len(self.cluster)

    def extend(self, other: Report) -> None:
        """Merge another report into this one."""
        self.documents += other.documents
        self.problems.extend(other.problems)
        self.unchecked.extend(item for item in other.unchecked if item not in self.unchecked)
        self.sources.extend(other.sources)
        self.rendered.extend(other.rendered)
        self.cluster.extend(other.cluster)


def label_of(document: Mapping[str, Any]) -> str:
    """``Kind/name`` of a document, for messages."""
    meta = document.get("metadata")
    name = meta.get("name", "?") if isinstance(meta, Mapping) else "?"
    return f"{document.get('kind', '?')}/{name}"


def json_path(parts: Iterable[Any]) -> str:
    """``spec.template.spec.containers[0].image`` from jsonschema's path deque."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_message(error: jsonschema.ValidationError) -> str:
    schema = error.schema
    if (
        error.validator == "additionalProperties"
        and isinstance(error.instance, Mapping)
        and isinstance(schema, Mapping)
    ):
        allowed = set((schema.get("properties") or {}).keys())
        unknown = sorted(key for key in error.instance if key not in allowed)
        return f"unknown field(s) {', '.join(map(repr, unknown))}"
    return error.message


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[tuple[str, str]]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    found: list[tuple[str, str]] = []
    for error in errors:
        # anyOf/oneOf: report the most specific branch error, not the summary.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        found.append((json_path(best.absolute_path), _error_message(best)))
    return found


@functools.cache
def _kube_schema_dir(version: str) -> Any:
    root = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    return root.joinpath(f"v{version}.0-local-strict")


@functools.cache
def _kube_registry(version: str) -> Registry:
    definitions = json.loads(_kube_schema_dir(version).joinpath("_definitions.json").read_text())
    registry: Registry = Resource.from_contents(definitions) @ Registry()
    return registry


def kube_schema(api_version: str, kind: str, version: str) -> dict[str, Any] | None:
    """kubernetes-validate's strict schema for a core kind, or None if it has none."""
    try:
        folder = _kube_schema_dir(version)
    except ModuleNotFoundError:  # kubernetes-validate not installed
        return None
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    entry = folder.joinpath(f"{kind.lower()}-{group_version}.json")
    if not entry.is_file():
        return None
    schema: dict[str, Any] = json.loads(entry.read_text())
    return schema


def kube_validation_available() -> bool:
    """Whether kubernetes-validate (core kind schemas) is installed."""
    try:
        resources.files("kubernetes_validate")
    except ModuleNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class Validator:
    """Validates documents against a :class:`SchemaStore` plus core kinds and policy."""

    store: SchemaStore
    kube_version: str = DEFAULT_KUBE_VERSION
    check_policy: bool = True
    serving: ServingConfig = field(default_factory=ServingConfig)

    def schema_problems(self, item: LoadedDocument) -> tuple[list[tuple[str, str]], bool]:
        """(path, message) pairs, and whether a schema was found at all."""
        document = item.document
        api_version, kind = document.get("apiVersion"), document.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return [("", "apiVersion and kind are required")], True
        crd_schema = self.store.schema_for(api_version, kind)
        if crd_schema is not None:
            defaulted = apply_defaults(document, crd_schema)
            return _errors(Draft4Validator(crd_schema), defaulted), True
        core = kube_schema(api_version, kind, self.kube_version)
        if core is not None:
            validator = Draft202012Validator(core, registry=_kube_registry(self.kube_version))
            return _errors(validator, document), True
        return [], False

    def check(self, items: Sequence[LoadedDocument], source: str) -> Report:
        """Validate documents that came from one file or kustomization."""
        report = Report(documents=len(items), sources=[source])
        for item in items:
            found, known = self.schema_problems(item)
            if not known:
                key = f"{item.document.get('apiVersion')}/{item.document.get('kind')}"
                if key not in report.unchecked:
                    report.unchecked.append(key)
            meta = item.document.get("metadata")
            if not isinstance(meta, Mapping) or not meta.get("name"):
                found.append(("metadata.name", "is required"))
            if not found:  # a document the schema refuses never reaches the webhooks
                found.extend(
                    (e.path, e.message) for e in admission_errors(item.document, self.serving)
                )
            if self.check_policy:
                found.extend((v.path, v.rule) for v in policy.check_document(item.document))
            label = label_of(item.document)
            report.problems.extend(
                Problem(source, item.index, label, path, message) for path, message in found
            )
        report.rendered.append(Source(source, [item.document for item in items]))
        return report


def admission_errors(document: Mapping[str, Any], serving: ServingConfig) -> list[Any]:
    """What Knative's webhook and kube-apiserver refuse in one document."""
    errors = list(validate_object(document))
    located = policy.pod_spec(document)
    if located is not None and str(document.get("apiVersion", "")).startswith(
        "serving.knative.dev/"
    ):
        path, spec = located  # a Knative Service, Configuration or Revision's RevisionSpec
        errors += validate_revision_spec(spec, path, serving)
    return errors


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return set()


@functools.cache
def _referenced(folder: Path) -> frozenset[str]:
    """Every string in a kustomization file (resources, patches, components...)."""
    path = kustomization_file(folder)
    if path is None:
        return frozenset()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return frozenset()
    return frozenset(item.removeprefix("./") for item in _strings(data))


def _loose_yaml_files(root: Path) -> list[Path]:
    """YAML files under ``root`` that no kustomization lists: validated on their own.

    A file in a kustomization folder that its kustomization (or one above) does not name
    is applied by hand (a drill Restore, a standby location, a PVC template), so it is
    validated as it is.
    """
    files: list[Path] = []
    for path in sorted(root.rglob("*")):
        if (
            path.suffix not in _YAML_SUFFIXES
            or not path.is_file()
            or path.name.startswith("kustomization.")
        ):
            continue
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        owners = [path.parent, *path.parent.parents]
        owned = any(
            is_kustomization(owner) and path.relative_to(owner).as_posix() in _referenced(owner)
            for owner in owners
            if owner == root or root in owner.parents or owner in root.parents
        )
        in_kustomization = any(is_kustomization(owner) for owner in owners)
        if not owned and (not in_kustomization or _is_manifest(path)):
            files.append(path)
    return files


def _is_manifest(path: Path) -> bool:
    """Whether every document of a file is a Kubernetes object (not a seed or a scenario)."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except yaml.YAMLError:
        return True  # let the loader report it
    return bool(documents) and all(
        isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in documents
    )


def validate_path(
    path: Path, validator: Validator, build: Callable[[Path], list[LoadedDocument]] | None = None
) -> Report:
    """Validate a YAML file, a kustomization, or every kustomization and YAML file below a folder.

    Each kustomization is built with ``kubectl kustomize`` and its output validated; YAML
    files outside kustomizations are validated as they are.
    """
    report = Report()
    if path.is_file():
        report.extend(validator.check(load_documents(path), str(path)))
        return report
    builds = build or KustomizeBuilds()
    roots = list(kustomization_roots(path))
    if isinstance(builds, KustomizeBuilds):
        builds.prefetch(roots)
    for root in roots:
        report.extend(validator.check(builds(root), str(root)))
    for file in _loose_yaml_files(path):
        report.extend(validator.check(load_documents(file), str(file)))
    return report


SERVING_PLATFORM = Path("gitops/platform/openshift-serverless")


def find_project_root(path: Path) -> Path | None:
    """The folder above ``path`` (or ``path`` itself) that holds a ``gitops/`` tree."""
    start = path.resolve()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        if (folder / "gitops").is_dir():
            return folder
    return None


def serving_config_from(
    documents: Iterable[Mapping[str, Any]], source: str
) -> ServingConfig | None:
    """The Serving config of the first ``KnativeServing`` CR among ``documents``, if any."""
    for document in documents:
        if document.get("kind") == "KnativeServing":
            return serving_config_from_knativeserving(document, source)
    return None


def cluster_serving_config(
    root: Path | None, build: Callable[[Path], list[LoadedDocument]] = kustomize_build
) -> ServingConfig:
    """What the cluster's Knative runs with: the KnativeServing CR of the project's platform.

    Without a project (a lone file) it is Knative's own defaults.
    """
    folder = root / SERVING_PLATFORM if root is not None else None
    if folder is None or not is_kustomization(folder):
        return ServingConfig()
    items = build(folder)
    found = serving_config_from((item.document for item in items), str(folder))
    return found or ServingConfig()


def cluster_serving_configmaps(path: Path) -> list[dict[str, Any]]:
    """The ``config-features``/``config-defaults`` ConfigMaps the cluster's KnativeServing CR
    makes, for the project ``path`` belongs to (none outside a project or without a CR)."""
    root = find_project_root(path)
    folder = root / SERVING_PLATFORM if root is not None else None
    if folder is None or not is_kustomization(folder):
        return []
    for item in kustomize_build(folder):
        if item.document.get("kind") == "KnativeServing":
            return configmaps_from_knativeserving(item.document)
    return []


def serving_configmaps_first(
    kustomization: Path, documents: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """What a local run of ``kustomization`` stores before ``documents``: the cluster's
    Knative gates and limits (:func:`cluster_serving_configmaps`), so admission judges the
    overlay as the cluster's webhook would; nothing when the documents carry their own.

    The one decision `bulut up -k` (``bulut.local.load_paths``) and a GitOps sync
    (``bulut.gitops.controller``) both take.
    """
    if any(is_serving_configmap(document) for document in documents):
        return []
    return cluster_serving_configmaps(kustomization)


def cluster_problems(
    report: Report,
    root: Path | None,
    build: Callable[[Path], list[LoadedDocument]] = kustomize_build,
) -> list[ClusterProblem]:
    """The named cross-object rules over everything the run rendered."""

    def render(relative: str) -> list[dict[str, Any]]:
        assert root is not None
        folder = root / relative
        try:
            if is_kustomization(folder):
                return [item.document for item in build(folder)]
            return [item.document for item in load_documents(folder)]
        except BulutError:
            return []

    inventory = Inventory(report.rendered, root=root, render=render if root else None)
    return check_cluster(inventory)


def serving_config_file(path: Path) -> ServingConfig:
    """A KnativeServing CR, or ``config-features``/``config-defaults`` ConfigMaps, from a file."""
    documents = [item.document for item in load_documents(path)]
    found = serving_config_from(documents, str(path))
    if found is not None:
        return found
    maps = {
        str((d.get("metadata") or {}).get("name")): d.get("data") or {}
        for d in documents
        if d.get("kind") == "ConfigMap"
    }
    config = ServingConfig.from_configmaps(maps)
    return ServingConfig(config.features, config.defaults, source=str(path))


def validate_project(
    path: Path,
    store: SchemaStore,
    *,
    kube_version: str = DEFAULT_KUBE_VERSION,
    check_policy: bool = True,
    cluster_checks: bool = True,
    serving: ServingConfig | None = None,
) -> Report:
    """Validate ``path`` as :func:`validate_path` does, under the cluster's Serving config,
    then run the cross-object rules over everything it rendered."""
    root = find_project_root(path)
    builds = KustomizeBuilds()
    validator = Validator(
        store,
        kube_version=kube_version,
        check_policy=check_policy,
        serving=serving or cluster_serving_config(root, builds),
    )
    report = validate_path(path, validator, builds)
    if cluster_checks:
        report.cluster = cluster_problems(report, root, builds)
    return report
