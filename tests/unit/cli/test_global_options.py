"""--context and --server are global: accepted before or after the command, not after --."""

from __future__ import annotations

from bulut.cli.main import hoist_global_options


def test_context_is_taken_after_the_command() -> None:
    hoisted = hoist_global_options(["get", "ksvc", "--context", "bulut", "-A"])

    assert hoisted == ["--context", "bulut", "get", "ksvc", "-A"]


def test_server_with_an_equals_sign_is_taken_but_not_after_the_double_dash() -> None:
    args = ["func", "test", "f", "--server=http://h:1", "--", "--context"]

    assert hoist_global_options(args) == [
        "--server=http://h:1", "func", "test", "f", "--", "--context",
    ]  # fmt: skip
