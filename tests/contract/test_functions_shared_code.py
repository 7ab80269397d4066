"""Code the sample functions carry as copies stays one piece of code.

Each function is its own build context (its Containerfile, `kn func deploy` from its folder),
so one cannot import another's module: ``function/database.py`` (warm engines, WAL tuning,
the create-tables race) is copied into every function that has a database. A fix made to
one copy must reach the others, or the functions drift apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
COPIES = sorted(FUNCTIONS.glob("*/function/database.py"))


def test_every_function_with_a_database_carries_the_module() -> None:
    assert [p.parent.parent.name for p in COPIES] == ["audit", "inventory", "orders", "payments"]


@pytest.mark.parametrize("copy", COPIES[1:], ids=lambda p: p.parent.parent.name)
def test_each_copy_of_database_py_is_the_same_as_the_first(copy: Path) -> None:
    first = COPIES[0]
    assert copy.read_text() == first.read_text(), (
        f"{copy} differs from {first}: change every copy of function/database.py together"
    )
