"""SQLAlchemy engines that can be warmed before the database is known.

``WarmEngine`` is an engine on a private in-memory SQLite database: ``prime()`` runs the
function's statements on it once, so they are compiled and the dialect is initialised.
``connect(url, warm)`` then points that same engine at the configured SQLite file, with its
pool emptied first, so no connection is carried over; any other URL gets an engine of its own.
Under Bulut the zygote primes and each instance connects in ``start(cfg)``; without a prime
(``func run``, a cluster) ``connect`` simply makes a new engine.

SQLite files run in WAL mode with ``synchronous=NORMAL``: a commit survives the process
dying, not a power cut (on a cluster the file lives in the pod's /tmp anyway), and costs no
fsync, which was most of a request's time on a busy disk. An instance that stops leaves its
connections to the process's exit (``release``), so the WAL stays for the next instance.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import QueuePool

_names = itertools.count()

CREATE_RETRIES = 20  # lost races tolerated while the schema is created
RACE_PAUSE = 0.005  # seconds after the first lost race, one more step after each (~1 s in all)


def tune(connection: sqlite3.Connection) -> None:
    """WAL journal, and no fsync per commit (one at each checkpoint)."""
    connection.execute("pragma journal_mode=wal")
    connection.execute("pragma synchronous=normal")


class WarmEngine:
    """An engine whose SQLite connections go wherever ``path`` says (memory until moved)."""

    def __init__(self) -> None:
        self.path = f"file:warm-{os.getpid()}-{next(_names)}?mode=memory&cache=shared"
        self.moved = False
        self.engine = create_engine("sqlite://", creator=self._connect, poolclass=QueuePool)

    def _connect(self) -> sqlite3.Connection:
        if not self.moved:  # shared cache: every pooled connection sees one database
            return sqlite3.connect(self.path, uri=True, check_same_thread=False)
        connection = sqlite3.connect(self.path, check_same_thread=False)
        tune(connection)
        return connection

    def move_to(self, path: str) -> Engine:
        """The same engine, its connections now to the file at ``path``."""
        self.engine.dispose()  # the in-memory database goes with its last connection
        self.path, self.moved = path, True
        return self.engine


def release(engine: Engine) -> None:
    """What an instance's ``stop()`` does with its engine: close its pool, except on SQLite.

    When the last connection to a SQLite database closes, SQLite checkpoints the WAL into the
    database and deletes it; the next instance's first commit then creates it again, writes
    its header and syncs it and the folder: two fdatasyncs on that request's path (1-10 ms on
    a shared disk). Python 3.11's ``sqlite3`` cannot ask SQLite to keep the WAL
    (``SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`` is 3.12's ``setconfig``), so an instance leaves its
    connections open and they end with its process, as if it had been killed, which each
    commit survives: the next instance reads the WAL back and appends to it, and SQLite's
    automatic checkpoint (at 1,000 pages) still folds it into the database. A process that
    runs on (a test, an interpreter that finalises its objects) closes them when it drops
    the engine.
    """
    if engine.dialect.name != "sqlite":
        engine.dispose()


def sqlite_file(url: str) -> str | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query:
        return None
    if parsed.get_driver_name() not in ("pysqlite", ""):
        return None
    path = parsed.database or ""
    return path if path and path != ":memory:" else None


def connect(url: str, warm: WarmEngine | None = None) -> Engine:
    """An engine for ``url``: ``warm`` moved to it when it is a SQLite file, else a new one."""
    path = sqlite_file(url)
    if path is not None and warm is not None and not warm.moved:
        return warm.move_to(path)
    if path is None:
        return create_engine(url)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", lambda connection, _: tune(connection))
    return engine


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """``metadata.create_all`` that survives instances starting together.

    A new instance and the zygote's parked child, or two pods, each check for the tables and
    create the missing ones: another may create one between this one's check and its
    ``CREATE TABLE`` ("table ... already exists"; PostgreSQL may also report the row type's
    "duplicate key"), or hold the SQLite file's lock for a moment ("database is locked", which
    SQLite answers at once, without its busy timeout, to a connection that would otherwise
    deadlock with another). Such a lost race is tried again after a pause that grows each time,
    a bounded number of times (about a second in all); any other failure is raised.
    A SQLite database that has every table already is left alone after one query (what
    ``create_all`` would find with one check per table, on each instance's start).
    """
    try:
        if has_every_table(metadata, engine):
            return
    except DatabaseError as error:  # the look itself met another instance's lock
        if not lost_a_race(error):
            raise
    for attempt in range(CREATE_RETRIES):
        try:
            metadata.create_all(engine)
            return
        except DatabaseError as error:
            if not lost_a_race(error):
                raise
        time.sleep(RACE_PAUSE * (attempt + 1))  # let the other instance finish
    metadata.create_all(engine)


def has_every_table(metadata: MetaData, engine: Engine) -> bool:
    """Whether a SQLite database already has every table of ``metadata`` (False elsewhere:
    other databases get ``create_all``'s own checks)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        found = connection.exec_driver_sql("select name from sqlite_master where type = 'table'")
        names = {row[0] for row in found}
    return set(metadata.tables) <= names


def lost_a_race(error: DatabaseError) -> bool:
    """Whether ``error`` says another instance was creating the same schema at once."""
    text = str(error.orig).lower()
    return any(sign in text for sign in ("already exists", "duplicate key", "locked"))
