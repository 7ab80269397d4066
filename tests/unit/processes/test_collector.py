"""A settled server process: start-up frozen, young collections rarer, cycles still freed.

Each case runs in a fresh interpreter: the collector's settings are the whole process's.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_settling_freezes_what_start_up_made_and_raises_the_thresholds() -> None:
    out = run(
        """
        import gc
        from bulut.processes import collector
        collector.settle()
        print(gc.get_freeze_count() > 1000, gc.get_threshold())
        """
    )
    assert out == "True (50000, 20, 10)"


def test_requests_objects_are_freed_without_a_collection_but_cycles_still_are() -> None:
    out = run(
        """
        import gc, weakref
        from bulut.processes import collector
        collector.settle()
        runs = []
        gc.callbacks.append(lambda phase, info: phase == "stop" and runs.append(info))
        for _ in range(5000):  # a request's worth of objects, freed by reference counting
            request = {"headers": [(b"ce-id", b"1")], "attributes": {"type": "t"}}
            del request
        quiet = len(runs)

        class Node:
            pass

        first = Node()
        first.me = first  # a cycle: only the collector frees it
        gone = weakref.ref(first)
        del first
        for _ in range(collector.YOUNG):
            node = Node()
            node.me = node
        print(quiet, gone() is None, len(runs) > 0)
        """
    )
    assert out == "0 True True"
