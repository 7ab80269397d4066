"""`bulut --help` and every subcommand's: they work, and boolean flags read naturally."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cli import bulut_command, invoke


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and group of the tree, as argv prefixes."""
    root = bulut_command()

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, child in getattr(command, "commands", {}).items():
            yield from walk(child, (*path, name))

    yield from walk(root, ())


PATHS = list(command_paths())


def test_the_tree_has_every_group_and_its_commands() -> None:
    names = {" ".join(path) for path in PATHS}
    for expected in (
        "up", "apply", "get", "describe", "delete", "render", "validate", "trace", "logs",
        "version", "func run", "func build", "service create", "broker list", "trigger delete",
        "source ping create", "events tail", "secrets rewrap", "dr drill", "pipeline run",
    ):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "bulut")
def test_help_works_and_boolean_flags_read_naturally(path: tuple[str, ...]) -> None:
    result = invoke([*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "--no-no-" not in result.output
    assert not re.search(r"--no-[a-z-]+ / --no-", result.output)


def test_up_says_sample_and_no_sample_and_names_the_environment_twins() -> None:
    result = invoke(["up", "--help"], env={"COLUMNS": "200"})
    assert "--sample" in result.output and "--no-sample" in result.output
    for twin in ("BULUT_STATE_DIR", "BULUT_DATA_PORT", "BULUT_CONTROL_PORT", "BULUT_HOST"):
        assert twin in result.output
