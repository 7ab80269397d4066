"""USS and PSS from smaps_rollup."""

from __future__ import annotations

import os

from bulut.serving.memory import memory_of, parse_smaps_rollup

ROLLUP = """55d0c0a00000-7ffd9b1fe000 ---p 00000000 00:00 0                  [rollup]
Rss:               41216 kB
Pss:               29612 kB
Shared_Clean:      12000 kB
Shared_Dirty:        100 kB
Private_Clean:      1000 kB
Private_Dirty:     27000 kB
"""


def test_uss_is_the_private_pages() -> None:
    memory = parse_smaps_rollup(ROLLUP)

    assert memory.rss == 41216 * 1024
    assert memory.pss == 29612 * 1024
    assert memory.uss == 28000 * 1024


def test_this_process_has_memory_and_a_missing_one_has_none() -> None:
    assert memory_of(os.getpid()).rss > 0
    assert memory_of(2**22 + 12345).rss == 0
