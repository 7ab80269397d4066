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


def test_tracing_is_on_unless_bulut_tracing_says_false(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().tracing is True
    monkeypatch.setenv("BULUT_TRACING", "false")
    assert Settings().tracing is False


def test_metrics_are_recorded_unless_bulut_metrics_says_false(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().metrics is True
    monkeypatch.setenv("BULUT_METRICS", "false")
    assert Settings().metrics is False


def test_a_hundred_new_traces_a_second_are_recorded_unless_configured(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().traces_per_second == 100
    monkeypatch.setenv("BULUT_TRACES_PER_SECOND", "0")
    assert Settings().traces_per_second == 0
