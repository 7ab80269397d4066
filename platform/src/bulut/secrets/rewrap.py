"""Rewrap Transit ciphertexts stored in a database column after a key rotation.

Vault re-encrypts each ``vault:vN:...`` value under the key's latest version without the
plaintext ever leaving Vault; rows already at the latest version are left alone. Works on
any SQLAlchemy URL (a function's SQLite file, or PostgreSQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from bulut.errors import InvalidInputError

from .vault import Vault

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSION = re.compile(r"^vault:v(\d+):")


def key_version(ciphertext: str) -> int:
    """The key version a ``vault:vN:...`` ciphertext was made with (0 if not one)."""
    match = _VERSION.match(ciphertext)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class RewrapReport:
    """How many values were looked at and rewrapped."""

    rows: int
    rewrapped: int
    latest_version: int


def rewrap_column(
    vault: Vault, key: str, *, url: str, table: str, column: str, primary_key: str = "id"
) -> RewrapReport:
    """Rewrap every ciphertext in ``table.column`` to the key's latest version."""
    for name, value in (("table", table), ("column", column), ("primary key", primary_key)):
        if not _IDENTIFIER.match(value):
            raise InvalidInputError(f"{name} {value!r} is not a plain SQL identifier", field=name)
    latest = 0
    rows = rewrapped = 0
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            selected = connection.execute(
                sa.text(
                    f"SELECT {primary_key}, {column} FROM {table} WHERE {column} LIKE 'vault:v%'"
                )
            ).all()
            for row_id, ciphertext in selected:
                rows += 1
                version = key_version(ciphertext)
                new = vault.rewrap(key, ciphertext)
                new_version = key_version(new)
                latest = max(latest, new_version)
                if new_version != version:
                    connection.execute(
                        sa.text(f"UPDATE {table} SET {column} = :value WHERE {primary_key} = :id"),
                        {"value": new, "id": row_id},
                    )
                    rewrapped += 1
    finally:
        engine.dispose()
    return RewrapReport(rows=rows, rewrapped=rewrapped, latest_version=latest)
