"""`bulut secrets put` reads values from stdin or files, never argv unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.cli.secrets import parse_pairs
from bulut.errors import InvalidInputError


def test_values_come_from_stdin_and_files(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    assert parse_pairs(["a=-", f"b=@{key_file}"], literal=False, stdin="from-stdin\n") == {
        "a": "from-stdin",
        "b": "from-file",
    }


def test_a_value_on_the_command_line_is_refused_without_literal() -> None:
    with pytest.raises(InvalidInputError, match="shell history") as caught:
        parse_pairs(["api_key=sk_live"], literal=False)
    assert caught.value.field == "api_key"
    assert "sk_live" not in str(caught.value)


def test_literal_values_are_allowed_when_asked_for() -> None:
    assert parse_pairs(["a=1"], literal=True) == {"a": "1"}


def test_a_missing_file_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        parse_pairs([f"a=@{tmp_path / 'nope'}"], literal=False)
