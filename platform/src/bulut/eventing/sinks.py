"""Where a sink URL really goes (pure).

Any ``*.<domain>`` URL (``http://<svc>.<ns>.localhost:8080/``) is reached by
connecting to the data plane's address and keeping the Host header, so no DNS is
needed. A URL naming a broker of this data plane (``http://<host>:<data_port>/<ns>/<broker>``,
or Knative's in-cluster ``broker-ingress.knative-eventing.svc.cluster.local``) is
recognised so that replies and sources can enter the log without an HTTP hop; the
effect is the same as posting to the ingress.

Each resolved target of this data plane carries its audience (Knative's
``status.address.audience``): the platform's senders present a token for it when auth is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bulut.edge.identity import broker_audience, service_audience
from bulut.errors import InvalidValueError

CLUSTER_BROKER_HOST = "broker-ingress.knative-eventing.svc.cluster.local"


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved sink: where to connect and what to send as Host and path."""

    url: str
    connect_host: str
    connect_port: int
    host_header: str
    path: str
    broker: tuple[str, str] | None = None
    service: tuple[str, str] | None = None
    audience: str | None = None


def resolve_sink(url: str, *, host: str, data_port: int, domain: str = "localhost") -> Target:
    """Resolve ``url`` against the data plane at ``host:data_port``.

    Raises :class:`~bulut.errors.InvalidValueError` (a ValueError) when the URL is not an
    absolute http URL.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise InvalidValueError(f"not an absolute http URL: {url!r}")
    hostname = parts.hostname.lower()
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    segments = [s for s in parts.path.split("/") if s]
    suffix = "." + domain
    if hostname.endswith(suffix):
        labels = hostname[: -len(suffix)].split(".")
        service = (labels[1], labels[0]) if len(labels) == 2 else None
        audience = service_audience(*service) if service else None
        return Target(url, host, data_port, parts.netloc, path, service=service, audience=audience)
    own = hostname in {host, "localhost", "127.0.0.1"} and port == data_port
    if (own or hostname == CLUSTER_BROKER_HOST) and len(segments) == 2:
        broker = (segments[0], segments[1])
        audience = broker_audience(*broker)
        return Target(url, host, data_port, parts.netloc, path, broker=broker, audience=audience)
    return Target(url, hostname, port, parts.netloc, path)
