"""The policy a pod's Vault token carries: its namespace's Kubernetes auth role."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.errors import InvalidResourceError, ManifestError
from bulut.secrets.authroles import AuthRoles

REPO = Path(__file__).resolve().parents[3]
TABLE = REPO / "gitops" / "platform" / "vault" / "kubernetes-auth-roles.txt"


@pytest.mark.parametrize(
    ("namespace", "role", "policy"),
    [
        ("shop-dev", "orders", "orders"),
        ("shop-staging", "orders", "shop-staging-orders"),
        ("shop-prod", "payments", "shop-prod-payments"),
    ],
)
def test_the_repository_table_gives_each_namespace_its_own_policy(
    namespace: str, role: str, policy: str
) -> None:
    roles = AuthRoles.load(TABLE)
    assert roles.policies(namespace, role, f"auth/kubernetes-{namespace}") == [policy]


def test_without_a_table_the_role_is_the_policy() -> None:
    assert AuthRoles().policies("anywhere", "reader", None) == ["reader"]


@pytest.mark.parametrize(
    ("namespace", "role", "auth_path", "field"),
    [
        ("shop-prod", "orders", "auth/kubernetes-shop-staging", "auth-path"),
        ("shop-prod", "orders", None, "auth-path"),
        ("shop-prod", "audit", "auth/kubernetes-shop-prod", "role"),
    ],
)
def test_a_login_vault_would_refuse_names_the_annotation(
    namespace: str, role: str, auth_path: str | None, field: str
) -> None:
    with pytest.raises(InvalidResourceError) as raised:
        AuthRoles.load(TABLE).policies(namespace, role, auth_path)
    assert raised.value.field == f"metadata.annotations.vault.hashicorp.com/{field}"


def test_a_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    table = tmp_path / "roles.txt"
    table.write_text("# ns sa policy\nshop-dev orders\n")
    with pytest.raises(ManifestError, match=r"roles.txt:2: expected"):
        AuthRoles.load(table)
