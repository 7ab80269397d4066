"""LIKE patterns: ``%`` is any run of characters, ``_`` exactly one, ``\\%`` and ``\\_`` literal.

A backslash before any other character is an ordinary backslash (as in the reference
implementation Knative uses). Matching is case-sensitive and covers the whole value.
"""

from __future__ import annotations

import re


def compile_like(pattern: str) -> re.Pattern[str]:
    """A regular expression that fully matches exactly the strings ``pattern`` accepts."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)
