"""Which Host a request may name, and which browser writes come from elsewhere (pure + ASGI).

A browser page on any site can make requests to ``127.0.0.1``: through DNS rebinding its
own name resolves to loopback and the request carries that name as ``Host``; a plain
cross-origin form or ``fetch`` carries the page's ``Origin`` (and ``Sec-Fetch-Site:
cross-site``). Both planes refuse a ``Host`` that is not one of the platform's addresses
(400), and the control plane refuses a write (any method but GET, HEAD, OPTIONS) whose
``Origin`` is not one of them or that a browser marks cross-site (403).

The platform's addresses: ``localhost`` and ``*.localhost``, the route domain and its
subdomains (``<svc>.<ns>.<domain>``), loopback IPs, the bound host, the names in
``BULUT_ALLOWED_HOSTS``, and, when bound to every interface (``0.0.0.0``/``::``), any
IP literal and this machine's name (a rebinding attack always carries a DNS name).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from bulut.errors import BulutError, ForbiddenError, InvalidInputError, problem_response
from bulut.settings import Settings, is_loopback

WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(value: str) -> str:
    """The name in a Host value or URL authority: no port, lower case, no trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):  # [v6]:port
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def is_ip(name: str) -> bool:
    """True for an IPv4 or IPv6 literal."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """The names and addresses this platform answers as."""

    names: frozenset[str]
    suffixes: tuple[str, ...]
    any_ip: bool = False

    @classmethod
    def for_settings(cls, settings: Settings) -> HostPolicy:
        """The platform's addresses for ``settings`` (see the module doc)."""
        bound = settings.host.strip().lower()
        names = {"localhost", settings.domain.lower(), *settings.allowed_host_names}
        wildcard = bound in WILDCARDS
        if wildcard:
            names.add(socket.gethostname().lower())
        elif bound:
            names.add(host_name(bound))
        suffixes = tuple(sorted({".localhost", "." + settings.domain.lower()}))
        return cls(frozenset(names), suffixes, any_ip=wildcard)

    def allows(self, host: str) -> bool:
        """True when a request naming ``host`` (a Host value, port allowed) is for us."""
        name = host_name(host)
        if not name or name in self.names or name.endswith(self.suffixes):
            return True
        if is_ip(name):
            return self.any_ip or ipaddress.ip_address(name).is_loopback
        return False

    def cross_origin(self, method: str, origin: str | None, fetch_site: str | None) -> bool:
        """True for a browser write from a page that is not one of ours."""
        if method.upper() in SAFE_METHODS:
            return False
        if fetch_site is not None and fetch_site.strip().lower() == "cross-site":
            return True
        if origin is None:
            return False
        netloc = urlsplit(origin.strip()).netloc
        return not netloc or not self.allows(netloc)


class MisdirectedHostError(InvalidInputError):
    """A request whose Host is not one of the platform's addresses (DNS rebinding)."""

    http_status = 400
    title = "Unknown host"


def check(policy: HostPolicy, headers: Iterable[tuple[bytes, bytes]], method: str, *,
          writes: bool) -> None:  # fmt: skip
    """Raise 400 for a foreign Host, and (``writes``) 403 for a cross-origin browser write."""
    host = origin = fetch_site = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"host":
            host = value.decode("latin-1")
        elif lowered == b"origin":
            origin = value.decode("latin-1")
        elif lowered == b"sec-fetch-site":
            fetch_site = value.decode("latin-1")
    if host is not None and not policy.allows(host):
        raise MisdirectedHostError(
            f"Host {host[:100]!r} is not an address this platform serves on "
            "(add it to BULUT_ALLOWED_HOSTS if it is yours)",
            field="Host",
        )
    if writes and policy.cross_origin(method, origin, fetch_site):
        raise ForbiddenError(
            f"cross-origin {method} refused (Origin {origin!r:.100}, Sec-Fetch-Site "
            f"{fetch_site!r:.20}): browser pages of other sites cannot change the platform"
        )


class HostGuard:
    """ASGI middleware: :func:`check` on every HTTP request before ``app`` sees it."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, *, writes: bool = True) -> None:
        self.app = app
        self.policy = policy
        self.writes = writes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            try:
                check(self.policy, scope.get("headers", []), scope.get("method", "GET"),
                      writes=self.writes)  # fmt: skip
            except BulutError as error:
                if scope["type"] != "http":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                status, headers, body = problem_response(error, instance=scope.get("path", "/"))
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def exposure(settings: Settings) -> list[str]:
    """Who can reach what, one line each, for `bulut up` to print at start.

    Off loopback the control plane always requires the bearer token it writes to the state
    directory and the kubeconfig (``controlplane.access``, same loopback test); the data plane
    requires tokens only with an issuer configured."""
    bound = settings.host.strip()
    if is_loopback(bound):
        return [
            f"reachable from this machine only ({bound}): any local user can deploy code "
            f"through {settings.control_url} and send to {settings.data_url}; browsers "
            "of other sites cannot (Host and Origin checks)"
        ]
    where = "every interface" if bound in WILDCARDS else bound
    if settings.auth_issuer is None:
        data = (
            "answers every service and broker WITHOUT authentication "
            "(set BULUT_AUTH_ISSUER/BULUT_AUTH_JWKS to require tokens)"
        )
    else:
        data = (
            f"requires a bearer token from {settings.auth_issuer} "
            "(the platform's own senders carry tokens of its own issuer)"
        )
    return [
        f"WARNING: listening on {where}: other machines can reach both ports",
        f"  control plane :{settings.control_port} requires the bearer token in "
        f"{settings.state_dir / 'controlplane' / 'token'} (in the kubeconfig; HTTPS)",
        f"  data plane :{settings.data_port} {data}",
    ]
