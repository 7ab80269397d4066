"""URLs in status, computed the way Knative's domain and tag templates do.

Knative's domain template is ``{{.Name}}.{{.Namespace}}.{{.Domain}}`` and its tag
template ``{{.Tag}}-{{.Name}}``. Locally every URL also carries the data plane port
(omitted when it is 80), and a Broker's address is the data plane's path form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from uuid import uuid4

from bulut.edge.identity import receiver_audience
from bulut.settings import Settings

from .kinds import key_of_ref


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_uid() -> str:
    return str(uuid4())


JOBSINK_HOST = "job-sink.knative-eventing"


@dataclass(frozen=True)
class Addressing:
    """Where resources are reachable, plus the clock and uid source reconcilers use."""

    domain: str = "localhost"
    host: str = "127.0.0.1"
    data_port: int = 8080
    api_server: str = "http://127.0.0.1:8081"  # the Kubernetes API's URL (sources' `source`)
    now: Callable[[], str] = field(default=_utc_now, compare=False)
    new_uid: Callable[[], str] = field(default=_random_uid, compare=False)
    oidc: bool = False
    """``authentication-oidc`` on (auth on): senders get identities, addressables audiences."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Addressing:
        """Addressing for a running platform."""
        return cls(
            domain=settings.domain,
            host=settings.host,
            data_port=settings.data_port,
            api_server=settings.control_url,
            oidc=settings.auth_issuer is not None,
        )

    def audience_of(self, url: str) -> str | None:
        """The audience of a URL this data plane answers (a Service or a Broker), else None."""
        parts = urlsplit(url)
        hostname = (parts.hostname or "").lower()
        own = hostname in {self.host, "localhost", "127.0.0.1"} and (parts.port or 80) == (
            self.data_port
        )
        if not (own or hostname.endswith("." + self.domain)):
            return None
        return receiver_audience(hostname, parts.path or "/", self.domain)

    @property
    def _port(self) -> str:
        return "" if self.data_port == 80 else f":{self.data_port}"

    def service_url(self, name: str, namespace: str) -> str:
        """``http://<name>.<ns>.<domain>[:port]`` (Service and Route status.url)."""
        return f"http://{name}.{namespace}.{self.domain}{self._port}"

    def tag_url(self, tag: str, name: str, namespace: str) -> str:
        """``http://<tag>-<name>.<ns>.<domain>[:port]``."""
        return self.service_url(f"{tag}-{name}", namespace)

    def domain_url(self, domain: str, *, https: bool = False) -> str:
        """A DomainMapping's URL: ``http://<domain>[:port]`` (the data plane's port, where
        a request with that Host arrives locally); ``https://<domain>`` with TLS."""
        return f"https://{domain}" if https else f"http://{domain}{self._port}"

    def jobsink_url(self, name: str, namespace: str) -> str:
        """``http://job-sink.knative-eventing.<domain>[:port]/<ns>/<name>``: Knative's one
        job-sink Service, by Host on the data plane, then the path form."""
        return f"http://{JOBSINK_HOST}.{self.domain}{self._port}/{namespace}/{name}"

    def channel_url(self, host_label: str, namespace: str) -> str:
        """``http://<name>-kn-channel.<ns>.<domain>[:port]`` (an InMemoryChannel's address;
        ``host_label`` is ``<name>-kn-channel``, shortened as kmeta.ChildName does)."""
        return self.service_url(host_label, namespace)

    def broker_url(self, name: str, namespace: str) -> str:
        """``http://<host>:<port>/<ns>/<broker>`` (the broker ingress path form)."""
        return f"http://{self.host}{self._port}/{namespace}/{name}"


def destination_audience(
    destination: Mapping[str, Any],
    namespace: str,
    objects: Mapping[tuple[str, str], Mapping[str, Any]],
    uri: str | None,
    addressing: Addressing,
) -> str | None:
    """Whom a token for ``destination`` is for: its own ``audience``, else its ref's
    ``status.address.audience`` (a channel, a flow, a Broker), else the audience of the URI
    on this data plane (a Service, a Broker); None with OIDC off."""
    if not addressing.oidc:
        return None
    if destination.get("audience"):
        return str(destination["audience"])
    ref = destination.get("ref") or {}
    target = objects.get((str(ref.get("kind", "")), str(ref.get("name", "")))) if ref else None
    audience = (((target or {}).get("status") or {}).get("address") or {}).get("audience")
    if audience:
        return str(audience)
    return addressing.audience_of(uri) if uri else None


def resolve_destination(
    destination: Mapping[str, Any],
    namespace: str,
    objects: Mapping[tuple[str, str], Mapping[str, Any]],
) -> tuple[str | None, str]:
    """Resolve a duck Destination (ref and/or uri) to a URI, or (None, why not).

    ``ref`` must name an Addressable in ``objects`` (this namespace's resources by
    (store key, name): a ``v1`` Service is not the Knative Service of its name); its
    ``status.address.url`` is the base. A ``uri`` alone is used as
    given; ``ref`` plus ``uri`` resolves the uri against the ref's URL.
    """
    uri = destination.get("uri")
    ref = destination.get("ref")
    if not ref:
        return (str(uri), "") if uri else (None, "neither ref nor uri is set")
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    ref_ns = str(ref.get("namespace") or namespace)
    if ref_ns != namespace:
        return None, f"{kind} {ref_ns}/{name}: cross-namespace references are not supported"
    target = objects.get((key_of_ref(ref), name))
    if target is None:
        return None, f'failed to get object {namespace}/{name}: {kind.lower()} "{name}" not found'
    status = target.get("status") or {}
    base = (status.get("address") or {}).get("url") or status.get("url")
    if not base:
        return None, f"{kind} {namespace}/{name} does not have an address yet"
    if uri:
        return urljoin(base if str(uri).startswith("/") else base + "/", str(uri)), ""
    return str(base), ""
