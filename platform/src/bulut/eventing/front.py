"""What answers the data plane's hosts and paths that are no Knative Service's.

The serving gateway hands every request whose Host is not a route's to one native
handler, this one. It asks its routes in order (each is a function of Host and path that
returns a handler, or None): channels by Host ``<name>-kn-channel.<ns>.<domain>``, then
whatever other kinds register (``add_route``: JobSink, DomainMapping...), then the broker
ingress by path ``/<ns>/<broker>``, and the channel path form ``/<ns>/<channel>`` only
where no broker has that name, so it can never shadow a broker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bulut.errors import BulutError
from bulut.httpd import Reply, Request

from .channel import ChannelDispatcher
from .hosts import host_name
from .ingress import Ingress, broker_of


class Answers(Protocol):
    """A native handler (``bulut.httpd``'s fallback protocol)."""

    def handle_request(self, request: Request, reply: Reply) -> None:
        """Answer ``request`` now or later, exactly once."""


Route = Callable[[str, str], "Answers | None"]
"""(Host without port, lower-case; decoded path) -> the handler that answers, or None."""


class _ChannelAnswer:
    __slots__ = ("channel", "channels")

    def __init__(self, channels: ChannelDispatcher, host: str, path: str) -> None:
        self.channels = channels
        self.channel = channels.for_host(host) if host else None
        if self.channel is None:
            self.channel = channels.for_path(path)

    def handle_request(self, request: Request, reply: Reply) -> None:
        self.channels.handle(self.channel, request, reply)


class EventingFront:
    """The gateway's fallback: channels, registered routes, then the broker ingress."""

    def __init__(self, ingress: Ingress, channels: ChannelDispatcher) -> None:
        self.ingress = ingress
        self.channels = channels
        self.routes: list[Route] = []

    def add_route(self, route: Route) -> None:
        """Ask ``route`` before the broker ingress (after channel hosts)."""
        self.routes.append(route)

    def answerer(self, host: str, path: str) -> Answers:
        """Who answers a request with this Host (no port) and path."""
        known = self.channels.channels  # none at all (the usual case): neither lookup finds one
        if known and self.channels.for_host(host) is not None:
            return _ChannelAnswer(self.channels, host, path)
        for route in self.routes:
            found = route(host, path)
            if found is not None:
                return found
        if known and self.channels.for_path(path) is not None:
            try:
                key = broker_of(path)
            except BulutError:  # not /<ns>/<name>: the broker ingress answers 400/404
                return self.ingress
            if key not in self.ingress.dispatcher.brokers:
                return _ChannelAnswer(self.channels, "", path)
        return self.ingress

    def audience(self, host: str, path: str) -> str | None:
        """The ``status.address.audience`` of the channel that answers this Host (port
        ignored) or path, if one does: the data plane's edge checks platform tokens against
        it (a channel's Host looks like a Service's)."""
        bare = host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()
        answer = self.answerer(bare, path)
        return (
            answer.channel.audience
            if isinstance(answer, _ChannelAnswer) and answer.channel
            else None
        )

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """The broker ingress's limits apply to every event sent here."""
        return self.ingress.body_limit(host, target, headers)

    def handle_request(self, request: Request, reply: Reply) -> None:
        """Answer one request through whoever owns its Host or path."""
        self.answerer(host_name(request.host), request.path).handle_request(request, reply)
