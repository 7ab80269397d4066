"""`bulut func subscribe` edits deploy.subscriptions as kn func subscribe does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bulut.errors import InvalidInputError
from bulut.functions.subscriptions import add_subscription, parse_filters, write_func_yaml


def test_a_subscription_is_added_once() -> None:
    data, added = add_subscription({"name": "f"}, "default", {"type": "a"})
    assert added
    assert data["deploy"]["subscriptions"] == [{"source": "default", "filters": {"type": "a"}}]
    again, added_again = add_subscription(data, "default", {"type": "a"})
    assert not added_again
    assert again == data


def test_filters_need_an_attribute_and_a_value() -> None:
    assert parse_filters(["type=a.b", "source=/x=y"]) == {"type": "a.b", "source": "/x=y"}
    with pytest.raises(InvalidInputError, match="ATTRIBUTE=VALUE"):
        parse_filters(["type"])


def test_writing_keeps_the_header_comments(tmp_path: Path) -> None:
    path = tmp_path / "func.yaml"
    path.write_text("# my function\n# second line\nname: f\nruntime: python\n")
    data, _ = add_subscription(yaml.safe_load(path.read_text()), "default", {"type": "t"})
    write_func_yaml(path, data)
    text = path.read_text()
    assert text.startswith("# my function\n# second line\nname: f\n")
    assert yaml.safe_load(text)["deploy"]["subscriptions"][0]["filters"] == {"type": "t"}
