"""Settings: defaults, environment twins and derived URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.settings import Settings


def test_defaults_match_the_documented_ports(clean_environ: None) -> None:
    settings = Settings()
    assert (settings.host, settings.data_port, settings.control_port) == ("127.0.0.1", 8080, 8081)
    assert settings.data_url == "http://127.0.0.1:8080"


def test_environment_variables_override_defaults(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BULUT_DATA_PORT", "9999")
    monkeypatch.setenv("BULUT_STATE_DIR", str(tmp_path))
    settings = Settings()
    assert settings.data_port == 9999
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'bulut.db'}"


def test_an_explicit_database_url_wins(clean_environ: None) -> None:
    assert Settings(database_url="postgresql://x/y").resolved_database_url == "postgresql://x/y"


def test_builds_live_in_the_users_cache_outside_the_state_dir(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert Settings().builds == tmp_path / "cache" / "bulut" / "builds"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings().builds == tmp_path / "home" / ".cache" / "bulut" / "builds"


def test_a_builds_dir_wins_over_the_cache(clean_environ: None, tmp_path: Path) -> None:
    assert Settings(builds_dir=tmp_path / "b").builds == tmp_path / "b"


def test_without_a_home_builds_stay_beside_the_state(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert Settings(state_dir=tmp_path / "s").builds == tmp_path / "s" / "builds"


def test_drill_reports_live_in_the_state_dir_unless_told(
    clean_environ: None, tmp_path: Path
) -> None:
    assert Settings(state_dir=tmp_path / "state").reports == tmp_path / "state" / "reports"
    chosen = Settings(state_dir=tmp_path / "state", dr_reports_dir=tmp_path / "elsewhere")
    assert chosen.reports == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("field", "default", "variable", "value", "changed"),
    [
        ("tracing", True, "BULUT_TRACING", "false", False),
        ("metrics", True, "BULUT_METRICS", "false", False),
        ("traces_per_second", 100, "BULUT_TRACES_PER_SECOND", "0", 0),
    ],
)
def test_observability_is_on_with_a_trace_budget_unless_the_environment_says_otherwise(
    clean_environ: None,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    default: object,
    variable: str,
    value: str,
    changed: object,
) -> None:
    assert getattr(Settings(), field) == default
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == changed
