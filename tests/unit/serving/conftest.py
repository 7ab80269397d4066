"""Fixtures shared by the serving unit tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from bulut.serving.zygote import HOST_PROGRAM


@pytest.fixture(scope="module")
def host() -> Iterator[ModuleType]:
    """zygote_host.py as a module (the zygote runs it by path, under the function's Python)."""
    spec = importlib.util.spec_from_file_location("zygote_host_under_test", HOST_PROGRAM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # run by path it drops its own folder from sys.path
    yield module
    del sys.modules[spec.name]
