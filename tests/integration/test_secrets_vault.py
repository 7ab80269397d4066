"""Secrets against a real OpenBao dev server (and a real PostgreSQL for dynamic credentials)."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from bulut.errors import NotFoundError, SecretUnavailableError
from bulut.secrets.devserver import DevServer
from bulut.secrets.injection import InjectionPlan, SecretRenderer
from bulut.secrets.vault import Vault
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

V = "vault.hashicorp.com/"
PAYMENTS_POLICY = """
path "secret/data/shop/payments/*" { capabilities = ["read"] }
path "database/creds/payments" { capabilities = ["read"] }
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[DevServer]:
    dev = DevServer(tmp_path / "vault", persistent=False)
    await dev.start()
    yield dev
    await dev.stop()


@pytest.fixture
def vault(server: DevServer) -> Vault:
    admin = Vault(server.addr, server.token)
    admin.put_policy("payments", PAYMENTS_POLICY)
    return admin


def _plan(**files: str) -> InjectionPlan:
    annotations = {V + "agent-inject": "true", V + "role": "payments"}
    for name, value in files.items():
        path, _, template = value.partition("|")
        annotations[V + f"agent-inject-secret-{name}"] = path
        if template:
            annotations[V + f"agent-inject-template-{name}"] = template
    plan = InjectionPlan.from_annotations(annotations)
    assert plan is not None
    return plan


async def test_the_dev_server_keeps_its_root_token_out_of_its_log(server: DevServer) -> None:
    # start() returned once the server answered as active and unsealed: its start-up,
    # the root token's generation included, is in the log by then
    log = await eventually(server.log_path.read_text, "the dev server's log")
    assert server.token not in log
    assert stat.S_IMODE(server.log_path.stat().st_mode) == 0o600


def test_kv_values_round_trip_and_disappear_when_deleted(vault: Vault) -> None:
    assert vault.kv_put("shop/payments/provider", {"api_key": "sk_test_1"}) == 1
    assert vault.kv_put("shop/payments/provider", {"api_key": "sk_test_2"}) == 2
    assert vault.kv_get("shop/payments/provider") == {"api_key": "sk_test_2"}
    assert vault.kv_list("shop/") == ["payments/"]
    vault.kv_delete("shop/payments/provider")
    with pytest.raises(NotFoundError):
        vault.kv_get("shop/payments/provider")


def test_transit_encrypts_rotates_and_rewraps_without_losing_plaintext(vault: Vault) -> None:
    vault.ensure_transit_key("orders-pii")
    first = vault.encrypt("orders-pii", b"ada@example.com")
    assert first.startswith("vault:v1:") and "ada" not in first
    assert vault.rotate("orders-pii") == 2
    rewrapped = vault.rewrap("orders-pii", first)
    assert rewrapped.startswith("vault:v2:")
    assert vault.decrypt("orders-pii", rewrapped) == b"ada@example.com"
    assert vault.decrypt("orders-pii", first) == b"ada@example.com"


def test_a_function_cannot_read_another_functions_secret(vault: Vault, tmp_path: Path) -> None:
    vault.kv_put("shop/orders/db", {"password": "orders-only"})
    renderer = SecretRenderer(vault, _plan(db="secret/data/shop/orders/db"), tmp_path / "s")
    with pytest.raises(SecretUnavailableError, match="permission denied"):
        renderer.render()


def test_rendered_files_are_private_and_follow_changes(vault: Vault, tmp_path: Path) -> None:
    vault.kv_put("shop/payments/provider", {"api_key": "sk_test_1"})
    template = (
        '{{ with secret "secret/data/shop/payments/provider" }}{{ .Data.data.api_key }}{{ end }}'
    )
    directory = tmp_path / "secrets"
    renderer = SecretRenderer(
        vault, _plan(provider=f"secret/data/shop/payments/provider|{template}"), directory
    )
    assert renderer.render() is True
    rendered = directory / "provider"
    assert rendered.read_text() == "sk_test_1"
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o600
    assert renderer.render() is False
    vault.kv_put("shop/payments/provider", {"api_key": "sk_test_2"})
    assert renderer.render() is True
    assert rendered.read_text() == "sk_test_2"
    renderer.close()
    assert not directory.exists()


def test_an_unreachable_vault_is_a_clear_error() -> None:
    with pytest.raises(SecretUnavailableError, match="unreachable"):
        Vault("http://127.0.0.1:9", "t", timeout=0.5).kv_get("x")


def test_dynamic_database_credentials_are_renewed_and_really_revoked(
    vault: Vault, postgres_socket: str, tmp_path: Path
) -> None:
    vault.configure_postgres(
        "shop",
        connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@/postgres?host={postgres_socket}&sslmode=disable",
        username="postgres",
        password="unused",
        roles=["payments"],
    )
    vault.create_database_role(
        "payments",
        db_name="shop",
        creation=[
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}'"
            " VALID UNTIL '{{expiration}}';"
        ],
        revocation=[
            'REASSIGN OWNED BY "{{name}}" TO postgres;',
            'DROP OWNED BY "{{name}}";',
            'DROP ROLE IF EXISTS "{{name}}";',
        ],
        default_ttl="2m",
    )
    template = (
        '{{ with secret "database/creds/payments" }}{{ .Data.username }}'
        "|{{ .Data.password }}{{ end }}"
    )
    renderer = SecretRenderer(
        vault, _plan(db=f"database/creds/payments|{template}"), tmp_path / "s"
    )
    renderer.render()
    username, password = (tmp_path / "s" / "db").read_text().split("|")
    dsn = f"host={postgres_socket} dbname=postgres user={username} password={password}"
    with psycopg.connect(dsn) as connection:
        assert connection.execute("select current_user").fetchone() == (username,)
    assert renderer.render() is False, "a leased secret is reused, not re-issued"
    renderer.renew()
    assert renderer.shortest_lease is not None and renderer.shortest_lease > 0
    renderer.close()
    with pytest.raises(psycopg.OperationalError), psycopg.connect(dsn):
        pass


def test_bootstrap_loads_policies_and_creates_only_missing_secrets(
    vault: Vault, tmp_path: Path
) -> None:
    from bulut.secrets.bootstrap import Seed, bootstrap

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "audit.hcl").write_text(
        'path "secret/data/shop/audit/*" { capabilities = ["read"] }'
    )
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        "secrets:\n  - path: shop/payments/provider\n    generate: [api_key]\n"
        "transitKeys: [orders-pii]\n"
    )
    vault.kv_put("shop/payments/provider", {"api_key": "kept"})
    report = bootstrap(vault, policies_dir=policies, seed=Seed.load(seed_file))
    assert report.policies == ["audit"]
    assert report.created == []
    assert vault.kv_get("shop/payments/provider") == {"api_key": "kept"}
    vault.kv_delete("shop/payments/provider")
    assert bootstrap(vault, policies_dir=None, seed=Seed.load(seed_file)).created == [
        "shop/payments/provider"
    ]
    assert vault.kv_get("shop/payments/provider")["api_key"].startswith("sk_test_")
    assert vault.encrypt("orders-pii", b"x").startswith("vault:v1:")
