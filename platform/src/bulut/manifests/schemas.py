"""CRD schemas as closed JSON Schemas, indexed by (apiVersion, kind).

A CRD's ``openAPIV3Schema`` is not quite JSON Schema, and the API server prunes unknown
fields instead of rejecting them. To catch typos offline (reference/cluster-ops.md §7) each
schema is translated: ``x-kubernetes-int-or-string`` becomes ``anyOf [integer, string]``,
``nullable`` adds ``null``, other ``x-kubernetes-*`` keys go, and every object that lists
``properties`` without ``x-kubernetes-preserve-unknown-fields`` is closed
(``additionalProperties: false``). ``metadata`` is left to the API server.

Sources of schemas, in the order a :class:`SchemaStore` is usually built:

- the package's own bundle (``bulut/manifests/schemas/*.json``, derived from the vendored CRDs
  by ``scripts/extract_schemas.py``): the kinds the GitOps tree uses;
- any folder of CRD YAML files or bundle JSON files (``--schemas DIR``,
  ``BULUT_SCHEMAS_DIR``), e.g. ``platform/src/bulut/apis/crds``: the upstream CRDs, vendored
  once (the bundle is derived from them).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ConfigError

SchemaKey = tuple[str, str]  # (apiVersion, kind)
# libyaml's loader parses the multi-megabyte CRDs (Argo) about ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def translate(schema: Mapping[str, Any], *, close: bool = True) -> dict[str, Any]:
    """A plain JSON-Schema (draft 4) copy of an openAPIV3Schema node."""
    node: dict[str, Any] = {}
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(schema.get("x-kubernetes-embedded-resource"))
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key == "description":
            continue
        if key == "properties":
            node[key] = {name: translate(sub, close=close) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            node[key] = translate(value, close=close)
        elif key == "not" and isinstance(value, Mapping):
            node[key] = translate(value, close=False)
        elif key in ("allOf", "anyOf", "oneOf"):
            # Branches are extra constraints on a structural node, never closed themselves
            # (openshift/api also writes `anyOf: null` beside int-or-string).
            if value:
                node[key] = [translate(sub, close=False) for sub in value]
        elif key != "nullable":
            node[key] = copy.deepcopy(value)
    if schema.get("x-kubernetes-int-or-string"):
        node.pop("type", None)
        node["anyOf"] = [*node.get("anyOf", []), {"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [*kinds, "null"]
    if embedded:
        properties = node.setdefault("properties", {})
        for name in ("apiVersion", "kind"):
            properties.setdefault(name, {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
    if close and "properties" in node and "additionalProperties" not in node and not preserve:
        node["additionalProperties"] = False
    return node


def resource_schema(open_api: Mapping[str, Any], *, close: bool = True) -> dict[str, Any]:
    """The validation schema of a whole object: translated, with metadata left open."""
    schema = translate(open_api, close=close)
    properties = schema.setdefault("properties", {})
    properties["metadata"] = {"type": "object"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    return schema


def strip_descriptions(node: Any) -> Any:
    """A copy without ``description`` keys (for compact bundles)."""
    if isinstance(node, Mapping):
        return {
            key: strip_descriptions(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


@dataclass(frozen=True)
class CrdSchema:
    """The openAPIV3Schema of one served version of one kind, and where it came from."""

    api_version: str
    kind: str
    open_api: dict[str, Any]
    source: str

    @property
    def key(self) -> SchemaKey:
        """(apiVersion, kind)."""
        return (self.api_version, self.kind)


def schemas_in_crd(crd: Mapping[str, Any], source: str) -> Iterator[CrdSchema]:
    """Every served version of a CustomResourceDefinition that carries a schema."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    for version in spec.get("versions") or []:
        open_api = ((version.get("schema") or {}).get("openAPIV3Schema")) or None
        if group and kind and open_api and version.get("served", True):
            yield CrdSchema(f"{group}/{version['name']}", kind, open_api, source)


def read_schema_file(path: Path) -> Iterator[CrdSchema]:
    """CRDs in a YAML/JSON file, or one bundle file (apiVersion, kind, openAPIV3Schema)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        if isinstance(data, dict) and "openAPIV3Schema" in data:
            yield CrdSchema(
                str(data["apiVersion"]),
                str(data["kind"]),
                data["openAPIV3Schema"],
                str(data.get("source", path.name)),
            )
            return
        documents: Iterable[Any] = [data]
    else:
        documents = yaml.load_all(text, Loader=_Loader)
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
            yield from schemas_in_crd(document, str(path))


@dataclass
class SchemaStore:
    """CRD schemas by (apiVersion, kind); later additions win."""

    crds: dict[SchemaKey, CrdSchema] = field(default_factory=dict)
    _compiled: dict[SchemaKey, dict[str, Any]] = field(default_factory=dict, repr=False)

    def add(self, schema: CrdSchema) -> None:
        """Index one schema."""
        self.crds[schema.key] = schema
        self._compiled.pop(schema.key, None)

    def add_directory(self, directory: Path) -> None:
        """Every CRD (``*.yaml``, ``*.yml``, ``*.json``) under a folder."""
        if not directory.is_dir():
            raise ConfigError(f"schemas folder {directory} does not exist")
        for path in sorted(directory.rglob("*")):
            if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
                try:
                    for schema in read_schema_file(path):
                        self.add(schema)
                except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError):
                    continue  # not a schema file (e.g. a kustomization beside the CRDs)

    def schema_for(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The closed JSON Schema of a kind, or None when no CRD is known."""
        key = (api_version, kind)
        crd = self.crds.get(key)
        if crd is None:
            return None
        if key not in self._compiled:
            self._compiled[key] = resource_schema(crd.open_api)
        return self._compiled[key]

    def source_of(self, api_version: str, kind: str) -> str | None:
        """Where a kind's schema came from."""
        crd = self.crds.get((api_version, kind))
        return crd.source if crd else None

    def __len__(self) -> int:
        return len(self.crds)


def bundled_store() -> SchemaStore:
    """The schemas shipped inside the package."""
    store = SchemaStore()
    folder = resources.files("bulut.manifests").joinpath("schemas")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            store.add(
                CrdSchema(data["apiVersion"], data["kind"], data["openAPIV3Schema"], data["source"])
            )
    return store


def load_store(extra: Path | None = None, *, bundled: bool = True) -> SchemaStore:
    """Bundled schemas, overridden by a folder of CRDs when given."""
    store = bundled_store() if bundled else SchemaStore()
    if extra is not None:
        store.add_directory(extra)
    return store


def apply_defaults(document: Any, schema: Mapping[str, Any]) -> Any:
    """A copy of ``document`` with the schema's ``default`` values filled in (API-server style).

    Offline validators do not default; some CRDs (OpenShift Route) have rules that assume the
    defaults were applied, so this runs before validation.
    """
    if isinstance(document, dict):
        result = dict(document)
        for name, sub in (schema.get("properties") or {}).items():
            if name not in result and "default" in sub:
                result[name] = copy.deepcopy(sub["default"])
            if name in result:
                result[name] = apply_defaults(result[name], sub)
        return result
    if isinstance(document, list) and isinstance(schema.get("items"), Mapping):
        return [apply_defaults(item, schema["items"]) for item in document]
    return document
