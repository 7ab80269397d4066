"""The inventory database's schema: instances starting together (a new instance and the zygote's
parked child, or two pods) each prepare it, and none of them fails."""

import multiprocessing

from function.store import SEED, Product, connect
from sqlmodel import Session, select

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
