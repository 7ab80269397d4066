"""The schema bundle inside the package is exactly what scripts/extract_schemas.py makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from bulut.manifests.kustomize import kustomization_roots
from bulut.manifests.loading import kustomize_build
from bulut.manifests.schemas import bundled_store

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "platform/src/bulut/manifests/schemas"


@pytest.fixture(scope="module")
def extractor() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "extract_schemas", REPO / "scripts" / "extract_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_is_up_to_date_with_the_vendored_schemas(
    extractor: ModuleType, crds_dir: Path
) -> None:
    expected: dict[str, str] = extractor.bundle(crds_dir)
    on_disk = {path.name: path.read_text() for path in BUNDLE.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run: python scripts/extract_schemas.py"
    stale = [name for name, text in expected.items() if on_disk[name] != text]
    assert stale == [], "run: python scripts/extract_schemas.py"


def test_every_bundled_schema_names_its_upstream_commit() -> None:
    store = bundled_store()
    assert len(store) >= 12
    for crd in store.crds.values():
        assert crd.source.startswith("github.com/"), crd.source
        assert any(len(part.strip()) == 40 for part in crd.source.split("|")), crd.source


def test_every_crd_kind_in_the_gitops_tree_is_in_the_bundle() -> None:
    store = bundled_store()
    operator_groups = (
        "operators.coreos.com/",
        "operator.knative.dev/",
        "maistra.io/",
        "networking.istio.io/",
        "security.istio.io/",
        "loki.grafana.com/",
        "observability.openshift.io/",
    )
    missing: set[str] = set()
    for root in kustomization_roots(REPO / "gitops"):
        for item in kustomize_build(root):
            api_version = str(item.document["apiVersion"])
            if "." not in api_version.partition("/")[0] or "k8s.io/" in api_version:
                continue  # core and kubernetes.io groups: kubernetes-validate's schemas
            if api_version.startswith(operator_groups):
                continue  # OLM / Knative operator: no upstream schema at hand
            if store.schema_for(api_version, item.document["kind"]) is None:
                missing.add(f"{api_version}/{item.document['kind']}")
    assert missing == set()
