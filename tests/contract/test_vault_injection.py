"""gitops vault-injection: the annotations land on the right ksvc templates and agree with Vault.

Each overlay is built with the component (directly once the overlay lists it, else through a
wrapper kustomization), then checked against gitops/platform/vault: every role has a policy
file and a Kubernetes auth role for that ServiceAccount in that namespace, every template
renders with the local engine, and the dev seed covers every KV path dev reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.manifests.loading import LoadedDocument, kustomize_build
from bulut.manifests.policy import check_document
from bulut.manifests.schemas import bundled_store
from bulut.manifests.validate import Validator
from bulut.secrets.bootstrap import Seed
from bulut.secrets.injection import PREFIX, InjectionPlan, rewrite_env
from bulut.secrets.templates import render

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "gitops"
VAULT = GITOPS / "platform" / "vault"
POLICIES = VAULT / "policies"
NAMESPACES = {"dev": "shop-dev", "staging": "shop-staging", "prod": "shop-prod"}
WITH_SECRET = re.compile(r'with\s+secret\s+"([^"]+)"')


def build_with(overlay: str, components: list[str], workdir: Path) -> list[dict[str, Any]]:
    """The overlay with ``components`` (paths under gitops/components), wrapped if not listed."""
    folder = GITOPS / "overlays" / overlay
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text()).get("components", [])
    wanted = [f"../../components/{name}" for name in components]
    if all(path in listed for path in wanted):
        return [item.document for item in kustomize_build(folder)]
    wrapper = workdir / f"{overlay}-with-{len(components)}"
    wrapper.mkdir(parents=True, exist_ok=True)
    relative = [os.path.relpath(GITOPS / "components" / name, wrapper) for name in components]
    missing = [rel for rel, path in zip(relative, wanted, strict=True) if path not in listed]
    (wrapper / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": NAMESPACES[overlay],
                "resources": [os.path.relpath(folder, wrapper)],
                "components": missing,
            }
        )
    )
    return [item.document for item in kustomize_build(wrapper)]


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Each overlay built with vault-injection and its namespace's component."""
    workdir = tmp_path_factory.mktemp("vault-injection")
    return {
        overlay: build_with(overlay, ["vault-injection", f"vault-injection/{namespace}"], workdir)
        for overlay, namespace in NAMESPACES.items()
    }


def services(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in documents
        if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev/")
    }


def template_annotations(service: Mapping[str, Any]) -> dict[str, str]:
    return dict(service["spec"]["template"]["metadata"].get("annotations") or {})


def container_env(service: Mapping[str, Any]) -> dict[str, Any]:
    env = service["spec"]["template"]["spec"]["containers"][0].get("env") or []
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in env}


def auth_roles() -> list[tuple[str, str, str]]:
    """(namespace, service account, policy) rows of kubernetes-auth-roles.txt."""
    rows = []
    for line in (VAULT / "kubernetes-auth-roles.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            namespace, account, policy = line.split()
            rows.append((namespace, account, policy))
    return rows


def injected_services(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in services(documents).items()
        if template_annotations(service).get(PREFIX + "agent-inject") == "true"
    }


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_only_payments_and_orders_get_the_injector_on_their_pod_templates(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    documents = injected[overlay]
    assert sorted(injected_services(documents)) == ["orders", "payments"]
    for service in services(documents).values():
        outer = service["metadata"].get("annotations") or {}
        assert not any(key.startswith(PREFIX) for key in outer), (
            "annotations belong on the template"
        )


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_every_injected_role_has_a_policy_file_and_an_auth_role_for_its_service_account(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    rows = {(namespace, account): policy for namespace, account, policy in auth_roles()}
    for service in injected_services(injected[overlay]).values():
        annotations = template_annotations(service)
        namespace = service["metadata"]["namespace"]
        role = annotations[PREFIX + "role"]
        assert annotations[PREFIX + "auth-path"] == f"auth/kubernetes-{namespace}"
        assert role == service["spec"]["template"]["spec"]["serviceAccountName"]
        policy = rows[(namespace, role)]
        assert (POLICIES / f"{policy}.hcl").is_file()
        if namespace == "shop-dev":
            assert policy == role, "the local runtime gives a role the policy of the same name"


def test_every_auth_role_binds_a_function_service_account_and_has_its_policy_file() -> None:
    accounts = {
        yaml.safe_load(path.read_text())["metadata"]["name"]
        for path in (GITOPS / "bases" / "functions").glob("*/serviceaccount.yaml")
    }
    rows = auth_roles()
    assert len(rows) == len({(namespace, account) for namespace, account, _ in rows})
    for namespace, account, policy in rows:
        assert namespace in NAMESPACES.values()
        assert account in accounts
        assert (POLICIES / f"{policy}.hcl").is_file()
    assert {policy for _, _, policy in rows} == {path.stem for path in POLICIES.glob("*.hcl")}


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_every_injection_template_renders_with_the_local_engine(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    namespace = NAMESPACES[overlay]
    read_paths: list[str] = []

    def read(path: str) -> Mapping[str, Any]:
        read_paths.append(path)
        return {"data": {"data": {"api_key": "sk_test_example"}}}

    rendered = {}
    for name, service in injected_services(injected[overlay]).items():
        plan = InjectionPlan.from_annotations(template_annotations(service))
        assert plan is not None
        for item in plan.files:
            assert item.path.startswith(f"secret/data/{namespace}/{name}/")
            where = f"{name}: {item.name}"
            rendered[(name, item.filename)] = render(item.template, read, where=where)
    assert rendered == {("payments", "provider"): "sk_test_example"}
    assert read_paths == [f"secret/data/{namespace}/payments/provider"]


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_payments_reads_the_rendered_file_and_never_the_kubernetes_secret(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    payments = services(injected[overlay])["payments"]
    env = container_env(payments)
    assert "PAYMENTS_PROVIDER_KEY" not in env
    assert env["PAYMENTS_PROVIDER_KEY_FILE"] == "/vault/secrets/provider"
    assert "secretKeyRef" not in str(payments)
    plan = InjectionPlan.from_annotations(template_annotations(payments))
    assert plan is not None and [item.filename for item in plan.files] == ["provider"]
    local = rewrite_env(
        {"PAYMENTS_PROVIDER_KEY_FILE": env["PAYMENTS_PROVIDER_KEY_FILE"]}, Path("/x")
    )
    assert local == {"PAYMENTS_PROVIDER_KEY_FILE": "/x/provider"}


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_orders_gets_a_vault_token_the_cluster_address_and_its_environments_transit_key(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    orders = services(injected[overlay])["orders"]
    plan = InjectionPlan.from_annotations(template_annotations(orders))
    assert plan is not None and plan.inject_token and plan.files == ()
    env = container_env(orders)
    assert env["VAULT_ADDR"] == "http://vault.vault.svc:8200"
    assert env["VAULT_TOKEN_FILE"] == "/vault/secrets/token"
    keys = [line.strip() for line in (VAULT / "transit-keys.txt").read_text().splitlines()]
    assert env["PII_TRANSIT_KEY"] in keys
    policy = {(n, a): p for n, a, p in auth_roles()}[(NAMESPACES[overlay], "orders")]
    hcl = (POLICIES / f"{policy}.hcl").read_text()
    assert f'"transit/encrypt/{env["PII_TRANSIT_KEY"]}"' in hcl
    assert f'"transit/decrypt/{env["PII_TRANSIT_KEY"]}"' in hcl


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_card_tokens_use_one_key_that_orders_only_encrypts_and_payments_only_decrypts(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    found = services(injected[overlay])
    orders, payments = container_env(found["orders"]), container_env(found["payments"])
    key = orders["CARD_TRANSIT_KEY"]
    assert payments["CARD_TRANSIT_KEY"] == key
    assert key in Seed.load(VAULT / "dev-seed.yaml").transit_keys
    assert payments["VAULT_ADDR"] == "http://vault.vault.svc:8200"
    assert payments["VAULT_TOKEN_FILE"] == "/vault/secrets/token"
    plan = InjectionPlan.from_annotations(template_annotations(found["payments"]))
    assert plan is not None and plan.inject_token
    roles = {(n, a): p for n, a, p in auth_roles()}
    namespace = NAMESPACES[overlay]
    orders_hcl = (POLICIES / f"{roles[(namespace, 'orders')]}.hcl").read_text()
    payments_hcl = (POLICIES / f"{roles[(namespace, 'payments')]}.hcl").read_text()
    assert f'"transit/encrypt/{key}"' in orders_hcl
    assert f'"transit/decrypt/{key}"' not in orders_hcl
    assert f'"transit/decrypt/{key}"' in payments_hcl
    assert "transit/encrypt" not in payments_hcl


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_the_agent_logs_in_with_an_audience_bound_token_and_functions_keep_no_api_token(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    documents = injected[overlay]
    for service in injected_services(documents).values():
        spec = service["spec"]["template"]["spec"]
        annotations = template_annotations(service)
        volume_name = annotations[PREFIX + "agent-service-account-token-volume-name"]
        (volume,) = [v for v in spec["volumes"] if v["name"] == volume_name]
        (source,) = volume["projected"]["sources"]
        assert source["serviceAccountToken"]["audience"] == "vault"
        assert source["serviceAccountToken"]["path"] == "token"
        mounts = spec["containers"][0]["volumeMounts"]
        assert any(m["name"] == volume_name and m["readOnly"] for m in mounts)
        assert spec["automountServiceAccountToken"] is False
        assert annotations[PREFIX + "agent-inject-containers"] == "user-container"
        assert not any("run-as-user" in key for key in annotations), "OpenShift assigns the UID"


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_the_injected_overlays_still_validate_and_meet_restricted_v2(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    validator = Validator(bundled_store())
    for document in injected[overlay]:
        assert [str(v) for v in check_document(document)] == []
    for service in services(injected[overlay]).values():
        found, known = validator.schema_problems(LoadedDocument("<build>", 0, service))
        assert known and found == []


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_the_local_seed_covers_every_kv_path_and_transit_key_each_overlay_reads(
    injected: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    """`bulut up -k gitops/overlays/<any>` finds every secret and key its functions read."""
    seed = Seed.load(VAULT / "dev-seed.yaml")
    seeded = {path for path, _ in seed.secrets}
    for service in injected_services(injected[overlay]).values():
        annotations = template_annotations(service)
        for key, value in annotations.items():
            if key.startswith(PREFIX + "agent-inject-secret-") and value.startswith("secret/data/"):
                assert value.removeprefix("secret/data/") in seeded, value
            if key.startswith(PREFIX + "agent-inject-template-"):
                for path in WITH_SECRET.findall(value):
                    assert path.removeprefix("secret/data/") in seeded, path
    namespace = NAMESPACES[overlay]
    assert dict(seed.secrets)[f"{namespace}/payments/provider"] == ("api_key",)
    env = container_env(services(injected[overlay])["orders"])
    assert env["PII_TRANSIT_KEY"] in seed.transit_keys


def test_the_local_seed_makes_the_transit_keys_the_cluster_configures() -> None:
    listed = [
        line.split("#", 1)[0].strip()
        for line in (VAULT / "transit-keys.txt").read_text().splitlines()
    ]
    assert Seed.load(VAULT / "dev-seed.yaml").transit_keys == tuple(k for k in listed if k)


def test_the_vault_platform_folder_ships_every_policy_and_a_restricted_job() -> None:
    documents = [item.document for item in kustomize_build(VAULT)]
    report = Validator(bundled_store()).check(kustomize_build(VAULT), "vault")
    assert [str(problem) for problem in report.problems] == []
    assert report.unchecked == []
    (configmap,) = [d for d in documents if d["kind"] == "ConfigMap"]
    expected = {path.name for path in POLICIES.glob("*.hcl")}
    expected |= {"configure.sh", "kubernetes-auth-roles.txt", "transit-keys.txt"}
    assert set(configmap["data"]) == expected
    (job,) = [d for d in documents if d["kind"] == "Job"]
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["configuration"]["configMap"]["name"] == configmap["metadata"]["name"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"
    (binding,) = [d for d in documents if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "system:auth-delegator"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "vault", "namespace": "vault"}
    ]


def test_no_overlay_delivers_the_payments_key_both_ways() -> None:
    for overlay in NAMESPACES:
        text = (GITOPS / "overlays" / overlay / "kustomization.yaml").read_text()
        components = yaml.safe_load(text).get("components", [])
        uses = {c.split("/")[3] for c in components if c.startswith("../../components/")}
        assert not {"vault-injection", "external-secrets"} <= uses, overlay
        for kind in ("vault-injection", "external-secrets"):
            if kind in uses:
                assert f"../../components/{kind}/{NAMESPACES[overlay]}" in components
