"""The inventory database's schema: instances starting together (a new instance and the zygote's
parked child, or two pods) each prepare it, and none of them fails."""

import multiprocessing

from function.database import create_tables
from function.store import SEED, Product, connect
from sqlalchemy import event, inspect
from sqlmodel import Session, SQLModel, select

INSTANCES = 4
ROUNDS = 6


def start_instance(url, barrier, failures):
    barrier.wait()  # every instance connects to the fresh database at the same moment
    try:
        connect(url).dispose()
    except Exception as error:  # what `start(cfg)` would have raised
        failures.put(repr(error))


def test_instances_preparing_the_database_at_once_all_start(tmp_path):
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'inventory-{round_}.db'}"
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
    engine = connect(url)
    with Session(engine) as session:  # the catalogue was seeded once, whoever won
        skus = sorted(p.sku for p in session.exec(select(Product)).all())
    assert skus == sorted(SEED)
    engine.dispose()


def statements_while(engine, action):
    """The SQL ``action`` sends through ``engine``."""
    sent = []

    def record(connection, cursor, statement, *args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def test_a_database_with_every_table_is_checked_with_one_query(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'inventory.db'}")

    sent = statements_while(engine, lambda: create_tables(SQLModel.metadata, engine))

    assert sent == ["select name from sqlite_master where type = 'table'"]
    engine.dispose()


def test_a_missing_table_is_created_again(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'inventory.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("drop table reservations")

    sent = statements_while(engine, lambda: create_tables(SQLModel.metadata, engine))

    assert any(statement.strip().startswith("CREATE TABLE reservations") for statement in sent)
    assert inspect(engine).has_table("reservations")
    engine.dispose()
