"""Seed files: parsed strictly, errors name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.errors import ManifestError
from bulut.secrets.bootstrap import Seed, generated_value


def test_a_seed_file_lists_secrets_and_transit_keys(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("secrets:\n  - path: a/b\n    generate: [api_key, pin]\ntransitKeys: [k]\n")
    assert Seed.load(path) == Seed((("a/b", ("api_key", "pin")),), ("k",))


def test_a_malformed_entry_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("secrets:\n  - generate: [x]\n")
    with pytest.raises(ManifestError, match=r"seed.yaml: secrets\[0\].path: expected a string"):
        Seed.load(path)


def test_generated_values_are_fresh_and_look_like_test_keys() -> None:
    first, second = generated_value("api_key"), generated_value("api_key")
    assert first != second and first.startswith("sk_test_")
