"""gitops external-secrets: the ESO alternative validates and agrees with the Vault setup.

Each overlay is built with external-secrets in place of vault-injection (they are
alternatives: never both); the SecretStore and
ExternalSecret are validated against the upstream CRDs in bulut/apis/crds/external-secrets
and checked against kubernetes-auth-roles.txt and the
Secret the generated payments ksvc reads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.manifests.loading import LoadedDocument, kustomize_build
from bulut.manifests.schemas import load_store
from bulut.manifests.validate import Validator

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "gitops"
VAULT = GITOPS / "platform" / "vault"
NAMESPACES = {"dev": "shop-dev", "staging": "shop-staging", "prod": "shop-prod"}
COMPONENT = GITOPS / "components" / "external-secrets"


def build(overlay: str, workdir: Path) -> list[LoadedDocument]:
    """The overlay with external-secrets instead of vault-injection (a copied kustomization)."""
    folder = GITOPS / "overlays" / overlay
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    wrapper = workdir / overlay
    wrapper.mkdir()

    def moved(path: str) -> str:
        return os.path.relpath((folder / path).resolve(), wrapper)

    components = [
        moved(path)
        for path in kustomization.get("components", [])
        if "components/vault-injection" not in path and "components/external-secrets" not in path
    ]
    components += [os.path.relpath(COMPONENT, wrapper)]
    components += [os.path.relpath(COMPONENT / NAMESPACES[overlay], wrapper)]
    kustomization["resources"] = [moved(path) for path in kustomization.get("resources", [])]
    kustomization["components"] = components
    for patch in kustomization.get("patches", []):
        if "path" in patch:  # kustomize loads patch files only from inside the kustomization
            shutil.copy(folder / patch["path"], wrapper / Path(patch["path"]).name)
            patch["path"] = Path(patch["path"]).name
    (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return kustomize_build(wrapper)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[LoadedDocument]]:
    workdir = tmp_path_factory.mktemp("external-secrets")
    return {overlay: build(overlay, workdir) for overlay in NAMESPACES}


def eso(items: list[LoadedDocument], kind: str) -> dict[str, Any]:
    (found,) = [
        item.document
        for item in items
        if item.document["kind"] == kind
        and item.document["apiVersion"].startswith("external-secrets.io/")
    ]
    return found


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_the_store_and_the_external_secret_validate_against_the_upstream_crds(
    builds: dict[str, list[LoadedDocument]], overlay: str, crds_dir: Path
) -> None:
    store = load_store(bundled=False)
    store.add_directory(crds_dir / "external-secrets")
    items = [
        item
        for item in builds[overlay]
        if item.document["apiVersion"].startswith("external-secrets.io/")
    ]
    assert sorted(item.document["kind"] for item in items) == ["ExternalSecret", "SecretStore"]
    validator = Validator(store)
    for item in items:
        problems, known = validator.schema_problems(item)
        assert known, item.document["kind"]
        assert problems == []


def test_a_misspelled_field_is_caught_so_the_validation_above_means_something(
    crds_dir: Path,
) -> None:
    store = load_store(bundled=False)
    store.add_directory(crds_dir / "external-secrets")
    document = yaml.safe_load((COMPONENT / "externalsecret.yaml").read_text())
    document["spec"]["refreshIntervall"] = "1h"
    problems, known = Validator(store).schema_problems(LoadedDocument("x", 0, document))
    assert known and problems


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_eso_logs_in_as_payments_with_the_same_role_as_the_injector(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    namespace = NAMESPACES[overlay]
    store = eso(builds[overlay], "SecretStore")
    vault = store["spec"]["provider"]["vault"]
    assert store["metadata"]["namespace"] == namespace
    assert vault["server"] == "http://vault.vault.svc:8200"
    assert (vault["path"], vault["version"]) == ("secret", "v2")
    auth = vault["auth"]["kubernetes"]
    assert auth["mountPath"] == f"kubernetes-{namespace}"
    assert auth["serviceAccountRef"] == {"name": auth["role"], "audiences": ["vault"]}
    roles = {
        tuple(line.split()[:2])
        for line in (VAULT / "kubernetes-auth-roles.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert (namespace, auth["role"]) in roles


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_the_external_secret_fills_the_secret_payments_reads_from_its_namespace_path(
    builds: dict[str, list[LoadedDocument]], overlay: str
) -> None:
    namespace = NAMESPACES[overlay]
    external = eso(builds[overlay], "ExternalSecret")["spec"]
    assert external["secretStoreRef"] == {"kind": "SecretStore", "name": "vault-payments"}
    assert external["target"] == {"name": "payments-env", "creationPolicy": "Owner"}
    (entry,) = external["data"]
    assert entry["remoteRef"] == {"key": f"{namespace}/payments/provider", "property": "api_key"}
    (payments,) = [
        item.document
        for item in builds[overlay]
        if item.document["kind"] == "Service" and item.document["metadata"]["name"] == "payments"
    ]
    env = payments["spec"]["template"]["spec"]["containers"][0]["env"]
    reference = {"name": "payments-env", "key": entry["secretKey"]}
    assert {"name": "PAYMENTS_PROVIDER_KEY", "valueFrom": {"secretKeyRef": reference}} in env
    annotations = payments["spec"]["template"]["metadata"].get("annotations") or {}
    assert not any(key.startswith("vault.hashicorp.com/") for key in annotations)
