"""Injection annotations: the plan a revision asks for, env rewriting, kn func secret refs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.errors import InvalidResourceError
from bulut.secrets.injection import InjectionPlan, kv_path_for, rewrite_env, secret_ref

V = "vault.hashicorp.com/"


def test_no_plan_without_agent_inject() -> None:
    assert InjectionPlan.from_annotations({V + "role": "payments"}) is None


def test_secret_and_template_annotations_become_files() -> None:
    plan = InjectionPlan.from_annotations(
        {
            V + "agent-inject": "true",
            V + "role": "payments",
            V + "agent-inject-secret-provider": "secret/data/shop/payments/provider",
            V + "agent-inject-template-provider": "{{ .Data }}",
            V + "agent-inject-secret-db": "database/creds/payments",
            V + "agent-inject-file-db": "db.env",
            V + "agent-inject-token": "true",
        }
    )
    assert plan is not None
    assert plan.role == "payments" and plan.inject_token
    files = {item.name: item for item in plan.files}
    assert files["provider"].template == "{{ .Data }}"
    assert files["provider"].filename == "provider"
    assert files["db"].filename == "db.env"
    assert 'with secret "database/creds/payments"' in files["db"].template


def test_injection_without_a_role_names_the_annotation() -> None:
    with pytest.raises(InvalidResourceError) as caught:
        InjectionPlan.from_annotations({V + "agent-inject": "true"})
    assert caught.value.field == "metadata.annotations.vault.hashicorp.com/role"


def test_env_pointing_into_vault_secrets_is_rewritten_to_the_instance_directory() -> None:
    env = {"KEY_FILE": "/vault/secrets/provider", "OTHER": "/vault/secretsX", "PLAIN": "x"}
    assert rewrite_env(env, Path("/run/i1")) == {
        "KEY_FILE": "/run/i1/provider",
        "OTHER": "/vault/secretsX",
        "PLAIN": "x",
    }


def test_kn_func_secret_references_are_recognised() -> None:
    assert secret_ref("{{ secret:provider:api_key }}") == ("provider", "api_key")
    assert secret_ref("{{ env:HOME }}") is None
    assert kv_path_for("shop-dev", "provider") == "shop-dev/provider"
