"""`bulut secrets`: KV v2 secrets and Transit keys in the platform's Vault.

Values never come from the command line by default (shell history keeps argv): they are
read from stdin (``key=-``) or files (``key=@path``). ``--literal`` opts in to ``key=value``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bulut.errors import InvalidInputError
from bulut.settings import Settings

from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, print_document, print_table

if TYPE_CHECKING:
    from bulut.secrets.vault import Vault


def connect(settings: Settings) -> Vault:
    """The platform's Vault (imported on use: hvac costs ~0.2 s at start-up)."""
    from bulut.secrets.connection import connect as connect_vault

    return connect_vault(settings)


def parse_pairs(pairs: list[str], *, literal: bool, stdin: str | None = None) -> dict[str, str]:
    """``key=-`` (stdin), ``key=@file`` and, with ``literal``, ``key=value``."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, source = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(
                f"{pair!r}: expected KEY=-, KEY=@FILE or (with --literal) KEY=VALUE"
            )
        if source == "-":
            values[key] = (stdin if stdin is not None else sys.stdin.read()).rstrip("\n")
        elif source.startswith("@"):
            path = Path(source[1:])
            if not path.is_file():
                raise InvalidInputError(f"{key}: file {path} does not exist", field=key)
            values[key] = path.read_text().rstrip("\n")
        elif literal:
            values[key] = source
        else:
            raise InvalidInputError(
                f"{key}: refusing a value on the command line (shell history keeps it); "
                f"use {key}=- to read stdin, {key}=@FILE, or pass --literal",
                field=key,
            )
    return values


def group() -> typer.Typer:
    """`bulut secrets ...`."""
    return command_group(
        "KV secrets and Transit keys in the platform's Vault.",
        {
            "put": put,
            "get": get,
            "list": list_,
            "delete": delete,
            "rotate-key": rotate_key,
            "rewrap": rewrap,
        },
    )


def put(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="KV path, e.g. shop-dev/payments/provider.")],
    pairs: Annotated[list[str], typer.Argument(help="KEY=- | KEY=@FILE | KEY=VALUE (--literal).")],
    literal: Annotated[bool, typer.Option(help="Allow KEY=VALUE on the command line.")] = False,
) -> None:
    """Write a new version of a secret."""
    version = connect(settings_of(ctx)).kv_put(path, parse_pairs(pairs, literal=literal))
    print(f"secret/{path}: version {version}")


def get(
    ctx: typer.Context,
    path: str,
    field: Annotated[str | None, typer.Option(help="Print only this key's value.")] = None,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
) -> None:
    """Read the latest version of a secret."""
    data = connect(settings_of(ctx)).kv_get(path)
    if field is not None:
        if field not in data:
            raise InvalidInputError(f"secret/{path} has no key {field!r}", field=field)
        print(data[field])
    elif output is OutputFormat.table:
        print_table(["KEY", "VALUE"], sorted(data.items()))
    else:
        print_document(data, output)


def list_(ctx: typer.Context, prefix: Annotated[str, typer.Argument()] = "") -> None:
    """List keys under a prefix."""
    print_table(["KEY"], ([key] for key in connect(settings_of(ctx)).kv_list(prefix)))


def delete(ctx: typer.Context, path: str) -> None:
    """Delete every version of a secret."""
    connect(settings_of(ctx)).kv_delete(path)
    print(f"secret/{path}: deleted")


def rotate_key(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Transit key, e.g. orders-pii.")],
) -> None:
    """Rotate a Transit key; rewrap stored ciphertexts afterwards."""
    print(f"transit/{key}: now at version {connect(settings_of(ctx)).rotate(key)}")


def rewrap(
    ctx: typer.Context,
    key: str,
    ciphertext: Annotated[
        str | None, typer.Argument(help="vault:vN:... or - to read lines from stdin")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL whose column to rewrap in place.")
    ] = None,
    table: Annotated[str, typer.Option(help="Table holding the ciphertexts.")] = "orders",
    column: Annotated[str, typer.Option(help="Column holding the ciphertexts.")] = "email",
) -> None:
    """Re-encrypt ciphertexts under the latest key version (plaintext never leaves Vault)."""
    vault = connect(settings_of(ctx))
    if database is not None:
        from bulut.secrets.rewrap import rewrap_column

        report = rewrap_column(vault, key, url=database, table=table, column=column)
        print(
            f"{table}.{column}: {report.rewrapped} of {report.rows} values rewrapped "
            f"to transit/{key} v{report.latest_version}"
        )
        return
    if ciphertext is None:
        raise InvalidInputError("give a ciphertext, - for stdin, or --database URL")
    lines = sys.stdin.read().split() if ciphertext == "-" else [ciphertext]
    for line in lines:
        print(vault.rewrap(key, line))
