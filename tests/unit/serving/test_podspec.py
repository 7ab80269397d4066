"""What `bulut up` does to a revision's pod spec before it starts (bulut.serving.podspec).

ConfigMaps come from a small in-memory control plane; Secrets, tokens and rendered files come
from a real OpenBao dev server, because what matters is what Vault really allows.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulut.edge import PlatformIssuer
from bulut.errors import InvalidResourceError, NotFoundError, SecretUnavailableError
from bulut.secrets.devserver import DevServer
from bulut.secrets.vault import Vault
from bulut.serving.podspec import ConfigMapReader, PodSpecHooks, rewrite_pod_paths

V = "vault.hashicorp.com/"
NAMESPACE = "shop-dev"
CLUSTER_VAULT = "http://vault.vault.svc:8200"
NO_VAULT = Vault("http://127.0.0.1:9", "never-used")
ECHO_POLICY = 'path "secret/data/shop-dev/echo/*" { capabilities = ["read"] }\n'


class InMemoryControlPlane:
    """The one call ConfigMapReader makes: ``get("ConfigMap", namespace, name)``."""

    def __init__(self, configmaps: dict[tuple[str, str], dict[str, str]]) -> None:
        self.configmaps = configmaps

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        assert kind == "ConfigMap"
        if (namespace, name) not in self.configmaps:
            raise NotFoundError(f"configmaps {namespace}/{name} not found")
        return {"data": self.configmaps[(namespace, name)]}


def hooks_with(
    configmaps: dict[str, dict[str, str]] | None = None, vault: Vault = NO_VAULT
) -> PodSpecHooks:
    control = InMemoryControlPlane(
        {(NAMESPACE, name): data for name, data in (configmaps or {}).items()}
    )
    return PodSpecHooks(vault, ConfigMapReader(control))


def revision(
    *,
    env: list[dict[str, Any]] | None = None,
    env_from: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {"image": "registry.example.com/shop/echo", "env": env or []}
    if env_from is not None:
        container["envFrom"] = env_from
    return {
        "metadata": {
            "namespace": NAMESPACE,
            "name": "echo-00001",
            "labels": {"serving.knative.dev/service": "echo"},
            "annotations": annotations or {},
        },
        "spec": {"containers": [container]},
    }


def injection(**extra: str) -> dict[str, str]:
    return {
        V + "agent-inject": "true",
        V + "role": "echo",
        V + "agent-inject-secret-key": "secret/data/shop-dev/echo/key",
        V + "agent-inject-template-key": (
            '{{- with secret "secret/data/shop-dev/echo/key" -}}{{ .Data.data.value }}{{- end -}}'
        ),
        **extra,
    }


def workdir_in(tmp_path: Path) -> Path:
    """Where serving puts a revision: <volumes>/<namespace>/.revisions/<revision>."""
    return tmp_path / "volumes" / NAMESPACE / ".revisions" / "echo-00001"


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[Vault]:
    server = DevServer(tmp_path / "vault", persistent=False)
    await server.start()
    admin = Vault(server.addr, server.token)
    admin.put_policy("echo", ECHO_POLICY)
    yield admin
    await server.stop()


# -- rewrite_pod_paths ----------------------------------------------------------------------
def test_vault_secrets_paths_point_at_the_revisions_secrets_directory() -> None:
    mapped = rewrite_pod_paths(
        {"KEY_FILE": "/vault/secrets/key", "DIR": "/vault/secrets", "NEAR": "/vault/secretsX"},
        Path("/state/echo/tmp"),
        Path("/state/rev/vault-secrets"),
    )
    assert mapped == {
        "KEY_FILE": "/state/rev/vault-secrets/key",
        "DIR": "/state/rev/vault-secrets",
        "NEAR": "/vault/secretsX",
    }


def test_tmp_paths_and_sqlite_urls_point_at_the_services_tmp_directory() -> None:
    mapped = rewrite_pod_paths(
        {
            "CACHE": "/tmp/cache/a.json",
            "DATABASE_URL": "sqlite:////tmp/orders.db",
            "RELATIVE": "sqlite:///orders.db",
            "NEAR": "/tmpfiles/x",
            "PLAIN": "tmp/x",
        },
        Path("/state/echo/tmp"),
        Path("/state/rev/vault-secrets"),
    )
    assert mapped == {
        "CACHE": "/state/echo/tmp/cache/a.json",
        "DATABASE_URL": "sqlite:////state/echo/tmp/orders.db",
        "RELATIVE": "sqlite:///orders.db",
        "NEAR": "/tmpfiles/x",
        "PLAIN": "tmp/x",
    }


def test_values_are_mapped_once_even_when_the_local_directories_are_under_tmp() -> None:
    tmp_dir, secrets_dir = Path("/tmp/bulut/echo/tmp"), Path("/tmp/bulut/rev/vault-secrets")
    mapped = rewrite_pod_paths(
        {
            "KEY_FILE": "/vault/secrets/key",
            "CACHE": "/tmp/a",
            "DATABASE_URL": "sqlite:////tmp/orders.db",
        },
        tmp_dir,
        secrets_dir,
    )
    assert mapped == {
        "KEY_FILE": "/tmp/bulut/rev/vault-secrets/key",
        "CACHE": "/tmp/bulut/echo/tmp/a",
        "DATABASE_URL": "sqlite:////tmp/bulut/echo/tmp/orders.db",
    }


def test_the_platforms_own_variables_already_name_host_paths_and_are_kept() -> None:
    """BULUT_LOG_DIR under a state dir in /tmp (pytest's tmp_path) must not become a pod path."""
    mapped = rewrite_pod_paths(
        {"BULUT_LOG_DIR": "/tmp/state/logs/shop-dev/echo/echo-00001", "CACHE": "/tmp/a"},
        Path("/tmp/state/volumes/shop-dev/echo/tmp"),
        Path("/tmp/state/rev/vault-secrets"),
    )
    assert mapped == {
        "BULUT_LOG_DIR": "/tmp/state/logs/shop-dev/echo/echo-00001",
        "CACHE": "/tmp/state/volumes/shop-dev/echo/tmp/a",
    }


async def test_prepare_maps_tmp_to_a_directory_shared_by_the_services_revisions(
    tmp_path: Path,
) -> None:
    env = await hooks_with().prepare(
        revision(), {"CACHE": "/tmp/cache", "KEY_FILE": "/vault/secrets/key"}, workdir_in(tmp_path)
    )
    service_tmp = tmp_path / "volumes" / NAMESPACE / "echo" / "tmp"
    assert env["CACHE"] == f"{service_tmp}/cache"
    assert service_tmp.is_dir()
    assert env["KEY_FILE"] == f"{workdir_in(tmp_path)}/vault-secrets/key"


# -- envFrom ---------------------------------------------------------------------------------
async def test_env_from_a_configmap_adds_every_key_with_the_prefix(tmp_path: Path) -> None:
    hooks = hooks_with({"shop-config": {"LEVEL": "debug", "REGION": "eu"}})
    env = await hooks.prepare(
        revision(env_from=[{"configMapRef": {"name": "shop-config"}, "prefix": "SHOP_"}]),
        {},
        workdir_in(tmp_path),
    )
    assert env == {"SHOP_LEVEL": "debug", "SHOP_REGION": "eu"}


async def test_optional_missing_sources_in_env_from_are_skipped(
    tmp_path: Path, vault: Vault
) -> None:
    hooks = hooks_with({"present": {"A": "1"}}, vault)
    env = await hooks.prepare(
        revision(
            env_from=[
                {"configMapRef": {"name": "absent", "optional": True}},
                {"configMapRef": {"name": "present"}},
                {"secretRef": {"name": "absent-secret", "optional": True}},
            ]
        ),
        {},
        workdir_in(tmp_path),
    )
    assert env == {"A": "1"}


async def test_a_missing_required_configmap_in_env_from_names_its_index(tmp_path: Path) -> None:
    hooks = hooks_with({"present": {"A": "1"}})
    with pytest.raises(InvalidResourceError) as caught:
        await hooks.prepare(
            revision(
                env_from=[{"configMapRef": {"name": "present"}}, {"configMapRef": {"name": "gone"}}]
            ),
            {},
            workdir_in(tmp_path),
        )
    assert caught.value.field == "spec.containers[0].envFrom[1]"
    assert NAMESPACE in str(caught.value)


async def test_env_from_a_secret_reads_the_kv_path_of_namespace_and_name(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put(f"{NAMESPACE}/payments-env", {"PAYMENTS_PROVIDER_KEY": "sk_test_env_from"})
    env = await hooks_with(vault=vault).prepare(
        revision(env_from=[{"secretRef": {"name": "payments-env"}}]), {}, workdir_in(tmp_path)
    )
    assert env == {"PAYMENTS_PROVIDER_KEY": "sk_test_env_from"}


async def test_a_missing_required_secret_in_env_from_names_its_index(
    tmp_path: Path, vault: Vault
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        await hooks_with(vault=vault).prepare(
            revision(env_from=[{"secretRef": {"name": "payments-env"}}]), {}, workdir_in(tmp_path)
        )
    assert caught.value.field == "spec.containers[0].envFrom[0]"


# -- valueFrom -------------------------------------------------------------------------------
async def test_config_map_key_ref_sets_the_variable_from_one_key(tmp_path: Path) -> None:
    hooks = hooks_with({"shop-config": {"LEVEL": "debug", "OTHER": "x"}})
    env = await hooks.prepare(
        revision(
            env=[
                {
                    "name": "LOG_LEVEL",
                    "valueFrom": {"configMapKeyRef": {"name": "shop-config", "key": "LEVEL"}},
                },
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ]
        ),
        {},
        workdir_in(tmp_path),
    )
    assert env == {"LOG_LEVEL": "debug"}


async def test_a_missing_key_names_the_env_entry_unless_it_is_optional(tmp_path: Path) -> None:
    hooks = hooks_with({"shop-config": {"LEVEL": "debug"}})
    ref = {"name": "shop-config", "key": "NOPE"}
    env = await hooks.prepare(
        revision(env=[{"name": "X", "valueFrom": {"configMapKeyRef": {**ref, "optional": True}}}]),
        {},
        workdir_in(tmp_path),
    )
    assert env == {}
    with pytest.raises(InvalidResourceError) as caught:
        await hooks.prepare(
            revision(
                env=[
                    {"name": "A", "value": "a"},
                    {"name": "X", "valueFrom": {"configMapKeyRef": ref}},
                ]
            ),
            {},
            workdir_in(tmp_path),
        )
    assert caught.value.field == "spec.containers[0].env[1].valueFrom"
    assert "NOPE" in str(caught.value)


async def test_a_missing_configmap_in_config_map_key_ref_names_the_env_entry(
    tmp_path: Path,
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        await hooks_with().prepare(
            revision(
                env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "K"}}}]
            ),
            {},
            workdir_in(tmp_path),
        )
    assert caught.value.field == "spec.containers[0].env[0].valueFrom"


async def test_an_optional_key_ref_to_a_missing_configmap_leaves_the_variable_unset(
    tmp_path: Path,
) -> None:
    ref = {"name": "gone", "key": "K", "optional": True}
    env = await hooks_with().prepare(
        revision(env=[{"name": "X", "valueFrom": {"configMapKeyRef": ref}}]),
        {},
        workdir_in(tmp_path),
    )
    assert env == {}


async def test_secret_key_ref_reads_the_kubernetes_secret_from_kv(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/payments-env", {"PAYMENTS_PROVIDER_KEY": "sk_test_ref", "X": "y"})
    ref = {"name": "payments-env", "key": "PAYMENTS_PROVIDER_KEY"}
    env = await hooks_with(vault=vault).prepare(
        revision(env=[{"name": "PAYMENTS_PROVIDER_KEY", "valueFrom": {"secretKeyRef": ref}}]),
        {},
        workdir_in(tmp_path),
    )
    assert env == {"PAYMENTS_PROVIDER_KEY": "sk_test_ref"}


async def test_a_missing_secret_in_secret_key_ref_names_the_env_entry(
    tmp_path: Path, vault: Vault
) -> None:
    ref = {"name": "payments-env", "key": "PAYMENTS_PROVIDER_KEY"}
    with pytest.raises(InvalidResourceError) as caught:
        await hooks_with(vault=vault).prepare(
            revision(env=[{"name": "K", "valueFrom": {"secretKeyRef": ref}}]),
            {},
            workdir_in(tmp_path),
        )
    assert caught.value.field == "spec.containers[0].env[0].valueFrom"


async def test_an_unreachable_vault_is_a_secret_unavailable_error_not_a_bad_resource(
    tmp_path: Path,
) -> None:
    ref = {"name": "payments-env", "key": "PAYMENTS_PROVIDER_KEY"}
    with pytest.raises(SecretUnavailableError, match=r"unreachable at http://127\.0\.0\.1:9 "):
        await hooks_with().prepare(
            revision(env=[{"name": "K", "valueFrom": {"secretKeyRef": ref}}]),
            {},
            workdir_in(tmp_path),
        )


# -- precedence --------------------------------------------------------------------------------
async def test_env_overrides_env_from_and_value_from_overrides_both(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/payments-env", {"C": "from-secret"})
    hooks = hooks_with(
        {"base": {"A": "from-configmap", "B": "from-configmap", "C": "from-cm"}}, vault
    )
    env_entries: list[dict[str, Any]] = [
        {"name": "B", "value": "from-env"},
        {"name": "C", "value": "from-env"},
        {"name": "C", "valueFrom": {"secretKeyRef": {"name": "payments-env", "key": "C"}}},
    ]
    plain = {"B": "from-env", "C": "from-env"}  # what serving passes: the entries with `value`
    env = await hooks.prepare(
        revision(env=env_entries, env_from=[{"configMapRef": {"name": "base"}}]),
        plain,
        workdir_in(tmp_path),
    )
    assert env == {"A": "from-configmap", "B": "from-env", "C": "from-secret"}


# -- Vault Agent injection -----------------------------------------------------------------
async def test_vault_addr_is_the_local_server_only_for_injected_revisions(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/echo/key", {"value": "v1"})
    hooks = hooks_with(vault=vault)
    plain = await hooks.prepare(revision(), {"VAULT_ADDR": CLUSTER_VAULT}, workdir_in(tmp_path))
    assert plain["VAULT_ADDR"] == CLUSTER_VAULT
    injected = await hooks.prepare(
        revision(annotations=injection()), {"VAULT_ADDR": CLUSTER_VAULT}, workdir_in(tmp_path)
    )
    assert injected["VAULT_ADDR"] == vault.addr
    await hooks.aclose()


async def test_vault_addr_is_added_for_an_injected_token_and_not_invented_otherwise(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/echo/key", {"value": "v1"})
    hooks = hooks_with(vault=vault)
    files_only = await hooks.prepare(revision(annotations=injection()), {}, workdir_in(tmp_path))
    assert "VAULT_ADDR" not in files_only
    with_token = await hooks.prepare(
        revision(annotations=injection(**{V + "agent-inject-token": "true"})),
        {},
        workdir_in(tmp_path),
    )
    assert with_token["VAULT_ADDR"] == vault.addr
    await hooks.aclose()


async def test_injected_files_are_private_and_hold_only_the_rendered_field(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/echo/key", {"value": "sk_test_rendered", "other": "not-rendered"})
    hooks = hooks_with(vault=vault)
    env = await hooks.prepare(
        revision(annotations=injection()), {"KEY_FILE": "/vault/secrets/key"}, workdir_in(tmp_path)
    )
    key_file = Path(env["KEY_FILE"])
    assert key_file.read_text() == "sk_test_rendered"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    await hooks.aclose()


async def test_a_path_outside_the_roles_policy_is_permission_denied(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/payments/provider", {"api_key": "sk_test_not_yours"})
    annotations = injection(
        **{V + "agent-inject-secret-key": "secret/data/shop-dev/payments/provider"}
    )
    del annotations[V + "agent-inject-template-key"]
    with pytest.raises(SecretUnavailableError, match="permission denied") as caught:
        await hooks_with(vault=vault).prepare(
            revision(annotations=annotations), {}, workdir_in(tmp_path)
        )
    assert "sk_test_not_yours" not in str(caught.value)


async def test_release_deletes_the_files_and_stops_re_rendering(
    tmp_path: Path, vault: Vault
) -> None:
    vault.kv_put("shop-dev/echo/key", {"value": "v1"})
    hooks = hooks_with(vault=vault)
    env = await hooks.prepare(
        revision(annotations=injection()), {"KEY_FILE": "/vault/secrets/key"}, workdir_in(tmp_path)
    )
    assert Path(env["KEY_FILE"]).is_file()
    assert (NAMESPACE, "echo-00001") in hooks.renderers
    await hooks.release(NAMESPACE, "echo-00001")
    assert not Path(env["KEY_FILE"]).parent.exists()
    assert hooks.renderers == {}
    assert hooks._loops == {}


async def test_release_revokes_the_revisions_vault_token(tmp_path: Path, vault: Vault) -> None:
    vault.kv_put("shop-dev/echo/key", {"value": "v1"})
    hooks = hooks_with(vault=vault)
    env = await hooks.prepare(
        revision(annotations=injection(**{V + "agent-inject-token": "true"})),
        {"VAULT_TOKEN_FILE": "/vault/secrets/token"},
        workdir_in(tmp_path),
    )
    token = Path(env["VAULT_TOKEN_FILE"]).read_text()
    own = vault.with_token(token)
    assert own.kv_get("shop-dev/echo/key") == {"value": "v1"}
    await hooks.release(NAMESPACE, "echo-00001")
    assert not Path(env["VAULT_TOKEN_FILE"]).exists()
    try:
        own.kv_get("shop-dev/echo/key")
    except SecretUnavailableError:
        return
    raise AssertionError("the released revision's token still reads its secret")


# -- the SinkBinding's OIDC token (authentication-oidc) -------------------------------------
async def test_a_bound_revision_gets_its_bindings_token_in_a_private_file(tmp_path: Path) -> None:
    """Knative mounts it at /oidc/token; locally K_OIDC_TOKEN_FILE names a 0600 file (never
    mapped as a pod path, though the state directory may be under /tmp)."""
    issuer = PlatformIssuer("http://127.0.0.1:1/oidc")
    hooks = PodSpecHooks(NO_VAULT, ConfigMapReader(InMemoryControlPlane({})), issuer=issuer)
    broker = "eventing.knative.dev/broker/shop-dev/default"
    bound = {
        "K_SINK": "http://127.0.0.1:8080/shop-dev/default",
        "K_AUDIENCE": broker,
        "K_OIDC_SERVICE_ACCOUNT": "orders-oidc-sources.knative.dev-sinkbinding",
    }
    try:
        env = await hooks.prepare(revision(), bound, workdir_in(tmp_path))
        token_file = Path(env["K_OIDC_TOKEN_FILE"])
        assert token_file == workdir_in(tmp_path) / "oidc" / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        claims = issuer.verify(token_file.read_text(), broker)
        assert claims["sub"] == (
            "system:serviceaccount:shop-dev:orders-oidc-sources.knative.dev-sinkbinding"
        )
    finally:
        await hooks.aclose()


async def test_without_an_issuer_or_a_binding_identity_there_is_no_token_file(
    tmp_path: Path,
) -> None:
    issuer = PlatformIssuer("http://127.0.0.1:1/oidc")
    with_issuer = PodSpecHooks(NO_VAULT, ConfigMapReader(InMemoryControlPlane({})), issuer=issuer)
    env = await with_issuer.prepare(revision(), {"K_SINK": "http://x/"}, workdir_in(tmp_path))
    assert "K_OIDC_TOKEN_FILE" not in env
    bound = {"K_SINK": "http://x/", "K_AUDIENCE": "a", "K_OIDC_SERVICE_ACCOUNT": "b"}
    env = await hooks_with().prepare(revision(), bound, workdir_in(tmp_path))
    assert "K_OIDC_TOKEN_FILE" not in env
    assert not (workdir_in(tmp_path) / "oidc").exists()
