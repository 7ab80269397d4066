"""Prepare a dev Vault the way the cluster's is prepared: same policies, generated dev values.

``policies/*.hcl`` are the same files the cluster applies (one policy per function role).
The seed file lists KV secrets to create when missing, with generated values, and the
Transit keys to ensure::

    secrets:
      - path: shop-dev/payments/provider
        generate: [api_key]          # random sk_test_... values, created only if missing
    transitKeys: [orders-pii]
"""

from __future__ import annotations

import secrets as random_tokens
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ManifestError, NotFoundError

from .vault import Vault


@dataclass(frozen=True)
class Seed:
    """What a dev Vault should contain."""

    secrets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    transit_keys: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Seed:
        """Parse a seed file; ManifestError names the file and the field."""
        try:
            document: Any = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ManifestError(f"{path}: not valid YAML: {error}") from None
        entries = []
        for index, entry in enumerate(document.get("secrets", [])):
            where = f"{path}: secrets[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise ManifestError(f"{where}.path: expected a string", field="path")
            generate = entry.get("generate", [])
            if not isinstance(generate, list) or not all(isinstance(k, str) for k in generate):
                raise ManifestError(f"{where}.generate: expected a list of keys", field="generate")
            entries.append((entry["path"], tuple(generate)))
        keys = document.get("transitKeys", [])
        if not isinstance(keys, list):
            raise ManifestError(f"{path}: transitKeys: expected a list", field="transitKeys")
        return cls(tuple(entries), tuple(str(key) for key in keys))


@dataclass
class BootstrapReport:
    """What bootstrap did (names only, never values)."""

    policies: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    transit_keys: list[str] = field(default_factory=list)


def generated_value(key: str) -> str:
    """A fresh random development value for ``key``."""
    return f"sk_test_{random_tokens.token_hex(16)}" if "key" in key else random_tokens.token_hex(16)


def bootstrap(vault: Vault, *, policies_dir: Path | None, seed: Seed | None) -> BootstrapReport:
    """Load policies, create missing seed secrets and Transit keys."""
    report = BootstrapReport()
    if policies_dir is not None and policies_dir.is_dir():
        for policy in sorted(policies_dir.glob("*.hcl")):
            vault.put_policy(policy.stem, policy.read_text())
            report.policies.append(policy.stem)
    if seed is None:
        return report
    for path, keys in seed.secrets:
        try:
            vault.kv_get(path)
        except NotFoundError:
            vault.kv_put(path, {key: generated_value(key) for key in keys})
            report.created.append(path)
    for key in seed.transit_keys:
        vault.ensure_transit_key(key)
        report.transit_keys.append(key)
    return report
