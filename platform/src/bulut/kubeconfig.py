"""The CLI's current context: a kubeconfig context named ``bulut`` says where the platform is.

`bulut up` and `bulut kubeconfig` write (or merge) the context into ``$KUBECONFIG`` or
``~/.kube/config``, as kind and minikube do, so kubectl and the Kubernetes clients reach the
control plane without flags. Every `bulut` command reads the same context:

- the cluster's ``server`` is the control plane (``http(s)://<host>:<control_port>``);
- the cluster's ``extensions`` entry ``bulut.dev/data-plane`` holds the data plane URL
  (``{"url": "http://127.0.0.1:8080"}``), which kubectl keeps and ignores;
- the context's ``namespace`` is the default namespace of commands;
- the user carries the control plane's bearer ``token`` and the cluster its
  ``certificate-authority-data`` when the control plane is not on loopback
  (``<state_dir>/controlplane/{token,ca.crt}``).

Where a command's settings come from, highest first: its flags (``--context``, ``--server``,
``-n``), the ``BULUT_*`` variables set in the environment, the current context (when it is
a Bulut context: one with the data-plane extension), then the defaults. An explicit
``--context`` (or ``BULUT_CONTEXT``) names any context of the kubeconfig.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bulut.errors import ConfigError, InvalidInputError
from bulut.settings import Settings, is_loopback

CONTEXT = "bulut"
DATA_PLANE = "bulut.dev/data-plane"
TOKEN_FILE = Path("controlplane") / "token"
CA_FILE = Path("controlplane") / "ca.crt"
# Settings that say where the platform is: set in the environment, they beat the context.
ADDRESS_VARIABLES = ("BULUT_HOST", "BULUT_CONTROL_PORT", "BULUT_DATA_PORT", "BULUT_SERVER")


@dataclass(frozen=True)
class Platform:
    """Where one platform answers, as a kubeconfig context records it."""

    server: str
    data_url: str | None = None
    namespace: str | None = None
    token: str | None = None
    ca_pem: str | None = None


@dataclass(frozen=True)
class Context:
    """One context read from the kubeconfig."""

    name: str
    source: Path | None
    platform: Platform
    is_bulut: bool


# -- where the kubeconfig is --------------------------------------------------------
def kubeconfig_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files kubectl reads: ``$KUBECONFIG`` (a path list), else ``~/.kube/config``."""
    env = os.environ if environ is None else environ
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return listed
    return [Path(env.get("HOME") or Path.home()) / ".kube" / "config"]


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read kubeconfig {path}: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"kubeconfig {path} is not YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"kubeconfig {path} is not a mapping (kind: Config)")
    return document


def _named(config: Mapping[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for item in config.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


# -- reading ------------------------------------------------------------------------
def load_context(name: str | None = None, paths: list[Path] | None = None) -> Context | None:
    """The context ``name`` (default: the current one), merged over the files as kubectl does.

    Returns None when the kubeconfig has no current context; raises ConfigError when an
    explicitly named context is missing.
    """
    files = kubeconfig_paths() if paths is None else paths
    configs = [(path, _read(path)) for path in files]
    wanted = name
    if wanted is None:
        wanted = next(
            (str(c["current-context"]) for _, c in configs if c.get("current-context")), None
        )
        if wanted is None:
            return None
    context = next(
        ((path, item) for path, c in configs if (item := _named(c, "contexts", wanted))), None
    )
    if context is None:
        if name is None:
            return None  # a dangling current-context: kubectl fails, the CLI uses its defaults
        where = ", ".join(str(p) for p in files)
        raise ConfigError(
            f"no context {name!r} in the kubeconfig ({where}): run `bulut kubeconfig`"
        )
    source, item = context
    body = item.get("context") or {}
    cluster = _first(configs, "clusters", str(body.get("cluster", "")), "cluster")
    user = _first(configs, "users", str(body.get("user", "")), "user")
    extension = next(
        (
            e.get("extension")
            for e in cluster.get("extensions") or []
            if isinstance(e, dict) and e.get("name") == DATA_PLANE
        ),
        None,
    )
    data_url = extension.get("url") if isinstance(extension, dict) else None
    ca = cluster.get("certificate-authority-data")
    platform = Platform(
        server=str(cluster.get("server") or ""),
        data_url=str(data_url) if data_url else None,
        namespace=str(body["namespace"]) if body.get("namespace") else None,
        token=str(user["token"]) if user.get("token") else None,
        ca_pem=base64.b64decode(ca).decode() if ca else None,
    )
    return Context(wanted, source, platform, is_bulut=extension is not None)


def _first(
    configs: list[tuple[Path, dict[str, Any]]], section: str, name: str, key: str
) -> dict[str, Any]:
    for _, config in configs:
        item = _named(config, section, name)
        if item is not None:
            body = item.get(key)
            return body if isinstance(body, dict) else {}
    return {}


# -- the settings a command uses -------------------------------------------------------
def resolve(
    settings: Settings,
    *,
    context: str | None = None,
    server: str | None = None,
    namespace: str | None = None,
    environ: Mapping[str, str] | None = None,
    paths: list[Path] | None = None,
) -> Settings:
    """``settings`` with the context applied (flags > BULUT_* variables > context > defaults).

    ``context``/``server``/``namespace`` are the command's flags. The context named by
    ``--context`` (or ``BULUT_CONTEXT``) always applies; the current context only when it
    is a Bulut context, so a kubeconfig whose current context is a real cluster leaves the
    CLI on its defaults.
    """
    env = os.environ if environ is None else environ
    explicit = context is not None
    name = context or settings.context
    found = load_context(name, paths)
    if found is not None and not (found.is_bulut or name):
        found = None
    update: dict[str, Any] = {}
    if found is not None:
        update["context"] = found.name
        address_from_env = not explicit and any(v in env for v in ADDRESS_VARIABLES)
        if not address_from_env:
            update.update(_address(found.platform))
        if found.platform.namespace and (explicit or "BULUT_NAMESPACE" not in env):
            update["namespace"] = found.platform.namespace
        if found.platform.token and (explicit or "BULUT_TOKEN" not in env):
            update["token"] = found.platform.token
        if found.platform.ca_pem:
            update["ca_pem"] = found.platform.ca_pem
    if server is not None:
        update.update(_server(server))
    if namespace is not None:
        update["namespace"] = namespace
    return settings.model_copy(update=update) if update else settings


def _server(url: str) -> dict[str, Any]:
    parts = _split(url, "--server")
    update: dict[str, Any] = {"server": url.rstrip("/")}
    if parts.hostname:
        update["host"] = parts.hostname
    if parts.port is not None and parts.scheme == "http":
        update["control_port"] = parts.port
    return update


def _address(platform: Platform) -> dict[str, Any]:
    update: dict[str, Any] = {}
    if platform.server:
        update.update(_server(platform.server))
    if platform.data_url:
        parts = _split(platform.data_url, DATA_PLANE)
        update["data_port"] = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.hostname and "host" not in update:
            update["host"] = parts.hostname
    return update


def _split(url: str, what: str) -> Any:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError:
        raise InvalidInputError(f"{what} {url!r} has a bad port", field=what) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{what} {url!r} is not an http(s)://HOST:PORT URL", field=what)
    return parts


# -- writing ------------------------------------------------------------------------
def platform_of(settings: Settings, namespace: str | None = None) -> Platform:
    """The context for the platform ``settings`` describe (the one `bulut up` runs).

    Off loopback the control plane writes its bearer token and CA certificate under
    ``<state_dir>/controlplane``; the context embeds them when present (and then speaks
    https, the only scheme kubectl sends tokens over).
    """
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    token = ca = None
    if not is_loopback(settings.host):
        token_file = settings.state_dir / TOKEN_FILE
        ca_file = settings.state_dir / CA_FILE
        token = token_file.read_text().strip() if token_file.is_file() else None
        ca = ca_file.read_text() if ca_file.is_file() else None
    scheme = "https" if ca else "http"
    return Platform(
        server=settings.server or f"{scheme}://{host}:{settings.control_port}",
        data_url=f"http://{host}:{settings.data_port}",
        namespace=namespace or settings.namespace,
        token=token,
        ca_pem=ca,
    )


def merged(
    config: Mapping[str, Any], platform: Platform, *, name: str = CONTEXT, switch: bool = True
) -> dict[str, Any]:
    """``config`` with cluster, user and context ``name`` replaced by ``platform``'s (pure)."""
    cluster: dict[str, Any] = {
        "server": platform.server,
        "extensions": [{"name": DATA_PLANE, "extension": {"url": platform.data_url}}],
    }
    if platform.ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(platform.ca_pem.encode()).decode()
    user: dict[str, Any] = {"token": platform.token} if platform.token else {}
    context: dict[str, Any] = {"cluster": name, "user": name}
    if platform.namespace:
        context["namespace"] = platform.namespace
    result: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}}
    result.update(config)
    for section, key, body in (
        ("clusters", "cluster", cluster),
        ("users", "user", user),
        ("contexts", "context", context),
    ):
        others = [
            item
            for item in config.get(section) or []
            if not (isinstance(item, dict) and item.get("name") == name)
        ]
        result[section] = [*others, {"name": name, key: body}]
    if switch or not result.get("current-context"):
        result["current-context"] = name
    return result


def target_file(name: str = CONTEXT, paths: list[Path] | None = None) -> Path:
    """The file to write, as kubectl picks it: the one that defines the context, else the
    first that exists, else the last of the list."""
    files = kubeconfig_paths() if paths is None else paths
    for path in files:
        if _named(_read(path), "contexts", name) is not None:
            return path
    return next((path for path in files if path.is_file()), files[-1])


def write(
    platform: Platform,
    *,
    name: str = CONTEXT,
    switch: bool = True,
    paths: list[Path] | None = None,
) -> Path:
    """Merge the context into the kubeconfig (created 0600 when missing); the file written."""
    path = target_file(name, paths)
    document = merged(_read(path), platform, name=name, switch=switch)
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with contextlib.ExitStack() as undo:
            undo.callback(lambda: Path(temporary).unlink(missing_ok=True))
            with os.fdopen(handle, "w") as out:
                out.write(text)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
            undo.pop_all()
    except OSError as error:
        raise ConfigError(f"cannot write kubeconfig {path}: {error.strerror}") from None
    return path


def write_for(
    settings: Settings,
    namespace: str | None = None,
    *,
    switch: bool = True,
    paths: list[Path] | None = None,
) -> tuple[Path, Platform]:
    """Write the context of the platform ``settings`` describe; without ``namespace`` the
    context keeps the namespace it had (`bulut up` set it to the sample app's)."""
    if namespace is None:
        try:
            existing = load_context(CONTEXT, paths)
        except ConfigError:
            existing = None
        if existing is not None:
            namespace = existing.platform.namespace
    platform = platform_of(settings, namespace)
    return write(platform, switch=switch, paths=paths), platform


def render(platform: Platform, *, name: str = CONTEXT) -> str:
    """A kubeconfig holding only this context, as YAML (``bulut kubeconfig --print``)."""
    return yaml.safe_dump(merged({}, platform, name=name), sort_keys=False)
