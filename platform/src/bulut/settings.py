"""One Settings object for the whole platform.

Precedence, highest first: CLI flag > ``BULUT_*`` environment variable > default.
Every field has an environment twin: ``data_port`` <-> ``BULUT_DATA_PORT``.
Nothing here runs at import time; build ``Settings()`` in ``main()`` and pass it down.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings; see the module docstring for precedence."""

    model_config = SettingsConfigDict(env_prefix="BULUT_", extra="ignore")

    # -- where things live -------------------------------------------------
    state_dir: Path = Field(
        default=Path(".bulut"),
        description="State directory: SQLite, event log, Vault, function data.",
    )
    functions_dir: Path = Field(default=Path("functions"), description="Local function folders.")
    schemas_dir: Path | None = Field(
        default=None,
        description="A folder of CRD files `bulut validate` uses on top of the bundled schemas.",
    )
    builds_dir: Path | None = Field(
        default=None,
        description="Function environments, a cache like an image registry "
        "(default ~/.cache/bulut/builds).",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite in state_dir."
    )
    backup_key_file: Path | None = Field(
        default=None,
        description="Backup key (`bulut dr keygen`): backups store Vault's unseal key sealed "
        "(default ~/.config/bulut/backup.key when it exists).",
    )

    # -- network -----------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address to bind (loopback).")
    data_port: int = Field(
        default=8080, ge=0, le=65535, description="Data plane port (router, broker)."
    )
    control_port: int = Field(
        default=8081, ge=0, le=65535, description="Control plane port (API, dashboard)."
    )
    ingress: Literal["gateway", "haproxy"] = Field(
        default="gateway",
        description="What serves the data-plane port: Bulut's gateway, or HAProxy on the warm "
        "path with the gateway behind it as the activator (ADR 0015; falls back to the "
        "gateway when haproxy is not installed).",
    )
    domain: str = Field(default="localhost", description="Route domain: <svc>.<ns>.<domain>.")
    namespace: str = Field(default="default", description="Default namespace for commands.")

    # -- where the CLI finds the platform (bulut.kubeconfig fills these from a context) --
    context: str | None = Field(
        default=None,
        description="Kubeconfig context to use (default: the current one when it is Bulut's).",
    )
    server: str | None = Field(
        default=None, description="Control plane URL (default http://<host>:<control_port>)."
    )
    token: str | None = Field(
        default=None, repr=False, description="Bearer token for the control plane."
    )
    ca_pem: str | None = Field(
        default=None, repr=False, description="CA certificate (PEM) of an https control plane."
    )

    # -- secrets -----------------------------------------------------------
    vault_addr: str | None = Field(default=None, description="Use this Vault instead of a dev one.")
    vault_token: str | None = Field(default=None, repr=False, description="Token for vault_addr.")
    vault_policies_dir: Path = Field(
        default=Path("gitops/platform/vault/policies"),
        description="HCL policies loaded into the dev Vault (the cluster applies the same files).",
    )
    vault_seed: Path = Field(
        default=Path("gitops/platform/vault/dev-seed.yaml"),
        description="Secrets and Transit keys the dev Vault gets when they are missing.",
    )

    gitops_health_check: Path = Field(
        default=Path("gitops/argocd/health-check.lua"),
        description="The Lua health check Argo CD runs for Knative kinds; local GitOps runs it "
        "too (absent: an object is healthy once its Ready condition is True).",
    )
    gitops_interval: float = Field(
        default=3.0,
        gt=0,
        description="Seconds between polls of each application `bulut up --sync` adds (Argo CD's "
        "timeout.reconciliation); a push with Bulut's hook syncs at once either way.",
    )

    dr_reports_dir: Path | None = Field(
        default=None,
        description="Where `bulut dr drill` writes reports and the dashboard reads the newest "
        "(default <state_dir>/reports: the drills of this platform).",
    )

    # -- edge security -----------------------------------------------------
    auth_issuer: str | None = Field(
        default=None, description="JWT issuer; setting it turns bearer auth on."
    )
    auth_audience: str = Field(default="bulut", description="Audience tokens must carry.")
    auth_jwks: str | None = Field(default=None, description="JWKS URL or file of the issuer.")
    auth_policy: Path | None = Field(
        default=None,
        description="Per-route access policy (YAML); default: control-plane writes need a token.",
    )
    rate_limit: str | None = Field(
        default=None, description='Per-client rate limit, e.g. "100/s,burst=200".'
    )
    request_limits: bool = Field(
        default=True,
        description="The data plane's request limits (URL, header block and count, body by "
        "Content-Length, per-event size with attributes, batch size and count); false turns "
        "them off, to measure their cost (bench/bench_limits.py), never to serve with.",
    )

    # -- behaviour ---------------------------------------------------------
    zygote_starts: int = Field(
        default=0,
        ge=0,
        description="Zygotes importing at once (0: one per CPU); waiting requests go first.",
    )
    zygote_seeds: bool = Field(
        default=True,
        description="Fork a new revision's zygote from a process that has its environment's "
        "server and runtime library imported (ADR 0014); false: a fresh interpreter each time.",
    )
    tracing: bool = Field(
        default=True, description="Record spans (traces.db, OTLP export); metrics stay on."
    )
    traces_per_second: float = Field(
        default=100.0,
        ge=0,
        description="New traces recorded a second at most (a span follows its parent's "
        "sampled flag, so recorded traces stay whole); 0 records every trace.",
    )
    metrics: bool = Field(
        default=True,
        description="Record per-request and per-event metrics (request, dispatch and delivery "
        "histograms, event counters); false leaves /metrics with the gauges read at scrape "
        "time only, to measure their cost (bench/bench_platform.py).",
    )
    max_scale: int = Field(
        default=100,
        ge=1,
        description="Instances one revision may have at most: bounds max-, min- and "
        "initial-scale like config-autoscaler's max-scale-limit (which wins when lower).",
    )
    max_instances: int = Field(
        default=200, ge=1, description="Instances the whole platform runs at most."
    )
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated extra Host names the planes answer as (besides loopback, "
        "localhost, *.localhost and the route domain).",
    )
    allow_env: str = Field(
        default="",
        description="Comma-separated env names instances may receive although they make the "
        "interpreter run code (PYTHONPATH, LD_PRELOAD...; see bulut.serving.hijack).",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_json: bool = Field(default=False, description="Emit JSON log lines.")

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment twin of a field: ``data_port`` -> ``BULUT_DATA_PORT``."""
        if field not in cls.model_fields:
            raise KeyError(field)
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @property
    def allowed_host_names(self) -> frozenset[str]:
        """The names in ``allowed_hosts``, lower case."""
        return frozenset(n.strip().lower() for n in self.allowed_hosts.split(",") if n.strip())

    @property
    def allowed_env(self) -> frozenset[str]:
        """The names in ``allow_env``."""
        return frozenset(name.strip() for name in self.allow_env.split(",") if name.strip())

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the state directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'bulut.db').resolve()}"

    @property
    def builds(self) -> Path:
        """Where function environments are built: ``builds_dir`` or the user's cache.

        They are to revisions what images in a registry are to pods: outside the state
        directory, so losing the platform's state (a disaster, or ``rm -rf .bulut``)
        leaves them to be reused, and a backup holds only the recipes to rebuild them.
        """
        return self.builds_dir or default_builds_dir() or self.state_dir / "builds"

    @property
    def reports(self) -> Path:
        """Where drill reports go: ``dr_reports_dir``, else ``reports/`` in the state directory.

        Reports are outputs of the platform that ran the drill, like its logs: they live with
        its state, so its dashboard shows its own drills (never a report from another machine).
        """
        return self.dr_reports_dir or self.state_dir / "reports"

    @property
    def backup_key_path(self) -> Path | None:
        """The key backups are sealed with: ``backup_key_file``, else the default key
        (``~/.config/bulut/backup.key``, made by `bulut dr keygen`) when it exists."""
        if self.backup_key_file is not None:
            return self.backup_key_file
        default = default_backup_key_file()
        return default if default is not None and default.is_file() else None

    @property
    def data_url(self) -> str:
        """Base URL of the data plane."""
        return f"http://{self.host}:{self.data_port}"

    @property
    def control_url(self) -> str:
        """Base URL of the control plane (``server`` when a context or flag names one).

        Off loopback the control plane serves HTTPS (bulut.controlplane.access).
        """
        scheme = "http" if is_loopback(self.host) else "https"
        return self.server or f"{scheme}://{self.host}:{self.control_port}"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_builds_dir() -> Path | None:
    """``$XDG_CACHE_HOME/bulut/builds``, else ``~/.cache/bulut/builds``; None without a home."""
    return _user_path("XDG_CACHE_HOME", ".cache", "builds")


def default_backup_key_file() -> Path | None:
    """``$XDG_CONFIG_HOME/bulut/backup.key``, else ``~/.config/bulut/backup.key``."""
    return _user_path("XDG_CONFIG_HOME", ".config", "backup.key")


def _user_path(variable: str, fallback: str, name: str) -> Path | None:
    """``$<variable>/bulut/<name>``, else ``~/<fallback>/bulut/<name>`` (XDG base dirs)."""
    base = os.environ.get(variable)
    if not base:
        try:
            base = str(Path.home() / fallback)
        except RuntimeError:  # no HOME and no passwd entry (some CI containers)
            return None
    return Path(base) / "bulut" / name
