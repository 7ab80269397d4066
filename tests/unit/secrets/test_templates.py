"""Vault Agent templates: the subset injection annotations use renders like Vault Agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bulut.errors import InvalidResourceError
from bulut.secrets.templates import default_template, go_format, render

SECRETS: dict[str, dict[str, Any]] = {
    "secret/data/payments/provider": {"data": {"data": {"api_key": "sk_1", "region": "eu"}}},
    "database/creds/inventory": {"data": {"username": "v-user", "password": "p@ss"}},
}


def read(path: str) -> Mapping[str, Any]:
    return SECRETS[path]


def test_a_field_of_a_kv_secret_renders_alone() -> None:
    template = (
        '{{- with secret "secret/data/payments/provider" -}}{{ .Data.data.api_key }}{{- end }}'
    )
    assert render(template, read, where="t") == "sk_1"


def test_range_renders_every_key_in_order() -> None:
    template = (
        '{{ with secret "secret/data/payments/provider" }}'
        "{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }}\n{{ end }}{{ end }}"
    )
    assert render(template, read, where="t") == "api_key=sk_1\nregion=eu\n"


def test_database_credentials_compose_a_connection_url() -> None:
    template = (
        'postgresql://{{ with secret "database/creds/inventory" }}'
        "{{ .Data.username }}:{{ .Data.password }}{{ end }}@db/inventory"
    )
    assert render(template, read, where="t") == "postgresql://v-user:p@ss@db/inventory"


def test_the_default_template_prints_go_maps_like_vault_agent() -> None:
    rendered = render(default_template("secret/data/payments/provider"), read, where="t")
    assert rendered == "data: map[api_key:sk_1 region:eu]\n"


def test_go_format_prints_booleans_and_missing_values_as_go_does() -> None:
    assert (go_format(True), go_format(None), go_format([1, "a"])) == (
        "true",
        "<no value>",
        "[1 a]",
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{ with secret "x" }}', "missing `{{ end }}`"),
        ("{{ end }}", "`end` without"),
        ('{{ printf "%s" .Data }}', "unsupported template action"),
    ],
)
def test_templates_vault_agent_would_reject_are_rejected(template: str, message: str) -> None:
    with pytest.raises(InvalidResourceError, match=message) as caught:
        render(template, read, where="metadata.annotations.x")
    assert caught.value.field == "metadata.annotations.x"
