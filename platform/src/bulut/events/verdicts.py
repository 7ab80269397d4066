"""Bounded memories of values already found valid, for the decoders' fast paths.

The same sources, media types and schemas arrive on every event of a producer. Their
checks (regular expressions) are done once; afterwards a set lookup in C answers. Only
short values are kept and a full memory is emptied, so hostile input cannot pin memory
(at worst it makes the checks run again).
"""

from __future__ import annotations

from typing import Final


class KnownValid:
    """Values that passed a check: ``contains`` is the quick test, ``remember`` adds one."""

    __slots__ = ("_known", "_max_length", "_max_size", "contains")

    def __init__(self, *, max_length: int = 256, max_size: int = 512) -> None:
        self._known: Final[set[str]] = set()
        self._max_length = max_length
        self._max_size = max_size
        #: True when the value is known to be valid (a bound ``set.__contains__``: no
        #: Python frame). False says nothing: the value must be checked.
        self.contains: Final = self._known.__contains__

    def remember(self, value: str) -> None:
        """Note that ``value`` passed the check (short values only)."""
        if len(value) <= self._max_length:
            if len(self._known) >= self._max_size:
                self._known.clear()
            self._known.add(value)

    def __len__(self) -> int:
        return len(self._known)
