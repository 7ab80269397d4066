"""The audit log's schema: instances starting together (a new instance and the zygote's
parked child, or two pods) each create it, and none of them fails."""

import multiprocessing
import sqlite3
import time

from cloudevents.core.v1.event import CloudEvent
from function import database
from function.log import AuditLog, connect, row_of
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

INSTANCES = 4
ROUNDS = 6


def start_instance(url, barrier, failures):
    barrier.wait()  # every instance connects to the fresh database at the same moment
    try:
        connect(url).dispose()
    except Exception as error:  # what `start(cfg)` would have raised
        failures.put(repr(error))


def test_instances_creating_the_schema_at_once_all_start(tmp_path):
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'audit-{round_}.db'}"
        barrier = context.Barrier(INSTANCES)
        instances = [
            context.Process(target=start_instance, args=(url, barrier, failures))
            for _ in range(INSTANCES)
        ]
        for instance in instances:
            instance.start()
        for instance in instances:
            instance.join(30)
    found = []
    while not failures.empty():
        found.append(failures.get())
    assert found == []


def test_two_instances_logging_the_same_event_keep_one_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    first, second = AuditLog(connect(url)), AuditLog(connect(url))
    event = CloudEvent(attributes={"type": "t", "source": "/s", "id": "e-1"}, data={"n": 1})

    assert [first.append(event), second.append(event)] == [True, False]
    assert [(e.source, e.event_id) for e in first.entries()] == [("/s", "e-1")]
    first.engine.dispose()
    second.engine.dispose()


def test_an_instance_starts_once_another_lets_go_of_the_file(tmp_path, monkeypatch):
    """SQLite answers "database is locked" at once, not after its busy timeout, to a
    connection that would deadlock with another instance's; create_tables pauses between
    tries, so an instance whose neighbour holds the new file for 0.2 s still starts."""
    engine = database.connect(f"sqlite:///{tmp_path / 'audit.db'}")
    create_all = SQLModel.metadata.create_all
    let_go = time.monotonic() + 0.2

    def held_by_another_instance(bind, *args, **kwargs):
        if time.monotonic() < let_go:
            raise OperationalError(
                "CREATE TABLE", {}, sqlite3.OperationalError("database is locked")
            )
        return create_all(bind, *args, **kwargs)

    monkeypatch.setattr(SQLModel.metadata, "create_all", held_by_another_instance)
    database.create_tables(SQLModel.metadata, engine)

    assert inspect(engine).has_table("audit_log")
    engine.dispose()


def audit_event(n):
    return CloudEvent(attributes={"type": "t", "source": "/s", "id": f"e-{n}"}, data={"n": n})


def test_a_batch_is_one_statement_and_says_of_each_event_whether_it_was_new(tmp_path):
    """New events go in with one executemany; a batch holding an event already logged (a
    redelivery, or the same event twice) is tried row by row, so each answer is exact."""
    from sqlalchemy import event as sqlalchemy_event

    log = AuditLog(connect(f"sqlite:///{tmp_path / 'audit.db'}"))
    statements = []
    sqlalchemy_event.listen(
        log.engine,
        "before_cursor_execute",
        lambda conn, cursor, sql, params, context, many: statements.append(many),
    )
    fresh = log.append_rows([row_of(audit_event(n)) for n in range(3)])
    batched = list(statements)
    mixed = log.append_rows([row_of(audit_event(n)) for n in (1, 3, 4, 4)])

    assert (fresh, batched) == ([True, True, True], [True])
    assert mixed == [False, True, True, False]
    assert [e.event_id for e in log.entries()] == ["e-0", "e-1", "e-2", "e-3", "e-4"]
    log.engine.dispose()
