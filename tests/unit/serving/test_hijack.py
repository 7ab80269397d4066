"""Which env names make an interpreter run code, and how they are stripped."""

from __future__ import annotations

import pytest

from bulut.serving.hijack import is_hijacking, strip_hijacking


@pytest.mark.parametrize(
    "name",
    ["PYTHONWARNINGS", "PYTHONSTARTUP", "PYTHONPATH", "BROWSER", "PERL5OPT", "LD_PRELOAD",
     "LD_AUDIT", "BASH_FUNC_x%%", "BASH_ENV", "NODE_OPTIONS", "GCONV_PATH",
     "DYLD_INSERT_LIBRARIES"],
)  # fmt: skip
def test_names_that_run_code_are_hijacking(name: str) -> None:
    assert is_hijacking(name)


@pytest.mark.parametrize("name", ["GREETING", "PYTHONUNBUFFERED", "K_SINK", "PATH", "HOME"])
def test_ordinary_names_are_not(name: str) -> None:
    assert not is_hijacking(name)


def test_stripping_keeps_the_rest_and_what_the_operator_allows() -> None:
    env = {"A": "1", "PYTHONPATH": "/x", "LD_PRELOAD": "/y.so"}
    assert strip_hijacking(env, {"PYTHONPATH"}) == ({"A": "1", "PYTHONPATH": "/x"}, ["LD_PRELOAD"])
