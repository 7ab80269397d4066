"""The eventing data plane's front: native handlers by Host, else the broker ingress.

The serving gateway hands every request whose Host is no service's to this fallback.
A handler registered for a host name (JobSink's ``job-sink.knative-eventing.<domain>``)
answers the requests for that host; every other request goes to the broker ingress
(``/<ns>/<broker>``). Handlers are native ``bulut.httpd`` handlers (``handle_request``
and ``body_limit``).
"""

from __future__ import annotations

from typing import Any, Protocol

from bulut.httpd import Request


class Handler(Protocol):
    """A native data-plane handler."""

    def handle_request(self, request: Request, reply: Any) -> None: ...

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int: ...


_NAMES: dict[bytes, str] = {}  # Host header value -> name: clients send a few values
_MAX_NAMES = 1024  # beyond that, computed each time (hostile input cannot pin memory)


def host_name(host: bytes) -> str:
    """A Host header value without its port, lower case."""
    name = _NAMES.get(host)
    if name is None:
        text = host.decode("latin-1").strip().lower()
        name = text.rsplit(":", 1)[0] if ":" in text and not text.endswith("]") else text
        if len(_NAMES) < _MAX_NAMES:
            _NAMES[host] = name
    return name


class HostRoutes:
    """Handlers by Host name in front of a default handler."""

    def __init__(self, default: Handler) -> None:
        self.default = default
        self.by_host: dict[str, Handler] = {}

    def add(self, host: str, handler: Handler) -> None:
        """Answer requests for ``host`` (a name, no port) with ``handler``."""
        self.by_host[host.lower()] = handler

    def handler_for(self, host: bytes) -> Handler:
        """The handler for a Host header value."""
        if not self.by_host:
            return self.default
        return self.by_host.get(host_name(host), self.default)

    def handle_request(self, request: Request, reply: Any) -> None:
        """Answer one request."""
        self.handler_for(request.host).handle_request(request, reply)

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """The largest body the handler for ``host`` takes."""
        return self.handler_for(host).body_limit(host, target, headers)
