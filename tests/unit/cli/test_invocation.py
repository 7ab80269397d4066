"""One invocation, one Settings: built once from the environment, flags applied on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bulut import settings as settings_module
from bulut.cli import service
from bulut.cli.main import build_app, run
from bulut.errors import ConfigError, NotFoundError
from tests.conftest import free_port


def test_settings_are_built_once_per_invocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    original = settings_module.Settings.__init__

    def counting(self: settings_module.Settings, **values: Any) -> None:
        built.append(self)
        original(self, **values)

    monkeypatch.setattr(settings_module.Settings, "__init__", counting)
    result = CliRunner().invoke(build_app(), ["logs", "orders", "--state-dir", str(tmp_path)])
    assert isinstance(result.exception, NotFoundError)
    assert len(built) == 1


def test_a_flag_named_after_a_setting_overrides_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_STATE_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("BULUT_NAMESPACE", "from-env")
    flagged = tmp_path / "from-flag"
    result = CliRunner().invoke(
        build_app(), ["logs", "orders", "-n", "shop-dev", "--state-dir", str(flagged)]
    )
    assert isinstance(result.exception, NotFoundError)
    assert str(result.exception) == (
        f"no logs for service shop-dev/orders under {flagged / 'logs' / 'shop-dev' / 'orders'}"
    )


def test_without_the_flag_the_environment_twin_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_STATE_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("BULUT_NAMESPACE", "from-env")
    result = CliRunner().invoke(build_app(), ["logs", "orders"])
    assert isinstance(result.exception, NotFoundError)
    assert f"from-env/orders under {tmp_path / 'from-env'}" in str(result.exception)


def test_a_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULUT_DATA_PORT", "eighty")
    result = CliRunner().invoke(build_app(), ["logs", "orders"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith("BULUT_DATA_PORT: ")


def test_a_bad_flag_value_names_the_flag_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["bulut", "up", "--data-port", "70000"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --data-port: ") and "65535" in error
    assert error.count("\n") == 1


def test_a_command_group_runs_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("BULUT_CONTROL_PORT", str(port))
    result = CliRunner().invoke(service.group(), ["list", "-n", "shop-dev"])
    assert str(result.exception) == (
        f"control plane not reachable at http://127.0.0.1:{port}: start it with `bulut up`"
    )


def test_a_command_is_a_module_level_function() -> None:
    assert service.create.__qualname__ == "create"
    assert service.list_services.__module__ == "bulut.cli.service"
