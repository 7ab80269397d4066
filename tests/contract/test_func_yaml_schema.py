"""Every func.yaml in functions/ validates against knative/func's published schema.

The one known gap: the schema's `build.builder` enum lists `pack` and `s2i`, while the
`kn func` CLI also writes and accepts `host` (reference/knative.md §5.1, §8 item 8).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNC_YAMLS = sorted((REPO_ROOT / "functions").glob("*/func.yaml"))
KNOWN_GAP = (("build", "builder"), "host")


@pytest.fixture(scope="module")
def validator(crds_dir: Path) -> Draft4Validator:
    schema = json.loads((crds_dir / "knative" / "func-yaml-schema.json").read_text())
    return Draft4Validator(schema)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path}: not a mapping"
    return document


def test_there_are_kn_func_functions_to_check() -> None:
    assert {path.parent.name for path in FUNC_YAMLS} >= {"orders", "inventory", "payments", "audit"}


@pytest.mark.parametrize("path", FUNC_YAMLS, ids=lambda p: p.parent.name)
def test_func_yaml_matches_the_schema_apart_from_the_host_builder(
    validator: Draft4Validator, path: Path
) -> None:
    errors = [
        f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(load(path))
        if (tuple(error.absolute_path), error.instance) != KNOWN_GAP
    ]
    assert errors == [], f"{path}:\n" + "\n".join(errors)


@pytest.mark.parametrize("path", FUNC_YAMLS, ids=lambda p: p.parent.name)
def test_func_yaml_is_current_and_subscribes_on_the_default_broker(path: Path) -> None:
    document = load(path)
    assert document["specVersion"] == "0.36.0"
    assert document["name"] == path.parent.name
    subscriptions = document["deploy"]["subscriptions"]
    assert subscriptions and all(s["source"] == "default" for s in subscriptions)


def test_the_known_gap_is_still_a_gap(validator: Draft4Validator) -> None:
    # If the schema ever accepts `host`, drop KNOWN_GAP.
    errors = list(
        validator.iter_errors(
            {"specVersion": "0.36.0", "created": "x", "build": {"builder": "host"}}
        )
    )
    assert [tuple(error.absolute_path) for error in errors] == [KNOWN_GAP[0]]


def test_payments_shows_the_hard_concurrency_limit() -> None:
    document = load(REPO_ROOT / "functions" / "payments" / "func.yaml")
    assert document["deploy"]["options"]["resources"]["limits"]["concurrency"] == 1


def test_cloudevents_functions_are_invoked_with_cloudevents() -> None:
    for name in ("inventory", "payments", "audit"):
        assert load(REPO_ROOT / "functions" / name / "func.yaml")["invoke"] == "cloudevent"
