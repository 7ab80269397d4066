"""LIKE patterns compiled to regular expressions."""

from __future__ import annotations

import pytest

from bulut.events.cesql.like import compile_like


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("abc", "abc", True),
        ("abc", "ABC", False),
        ("a%", "a", True),
        ("a%", "a\nb", True),
        ("%", "", True),
        ("_", "", False),
        ("_", "é", True),
        ("_", "日", True),
        ("a.c", "abc", False),
        ("a.c", "a.c", True),
        ("(a)*[b]?", "(a)*[b]?", True),
        ("a\\%", "a%", True),
        ("a\\%", "ab", False),
        ("a\\_", "a_", True),
        ("a\\_", "ab", False),
        ("a\\b", "a\\b", True),
        ("a\\", "a\\", True),
        ("a\\\\%", "a\\%", True),
        ("a\\\\%", "a\\\\anything", False),
        ("%.error", "com.github.error", True),
        ("%.error", "com.github.errors", False),
    ],
)
def test_like_pattern_matches_whole_values_case_sensitively(
    pattern: str, text: str, matches: bool
) -> None:
    assert (compile_like(pattern).fullmatch(text) is not None) is matches
