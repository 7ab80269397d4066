"""bench_broker runs the sections asked for and names the ones it does not know."""

from __future__ import annotations

import argparse

import pytest
from bench.bench_broker import SECTIONS, sections_of


def test_chosen_sections_are_kept_in_the_order_given() -> None:
    assert sections_of("e2e, wrk") == ("e2e", "wrk")
    assert set(SECTIONS) == {"ingest", "wrk", "batched", "paced", "e2e", "recovery"}


@pytest.mark.parametrize("text", ["e2e,fast", ",", ""])
def test_an_unknown_or_empty_choice_names_what_to_choose_from(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="choose from ingest, wrk, batched"):
        sections_of(text)
