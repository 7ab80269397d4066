"""Terminal output shared by every command: consoles, tables, YAML/JSON dumps, errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    """`-o` choices shared by read commands."""

    table = "table"
    yaml = "yaml"
    json = "json"


PIPE_WIDTH = 240


def console() -> Console:
    """Console for normal output (stdout); wide when piped, so tables are never cut."""
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH)
    return out


def err_console() -> Console:
    """Console for progress and errors (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    """Print rows as a borderless table in kubectl/kn style."""
    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


def print_document(document: Any, fmt: OutputFormat) -> None:
    """Print a resource (or list) as YAML or JSON."""
    if fmt is OutputFormat.json:
        print(json.dumps(document, indent=2, sort_keys=False))
    else:
        print(yaml.safe_dump(document, sort_keys=False).rstrip())
