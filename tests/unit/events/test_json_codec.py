"""The codec's JSON reader and writer: fast, strict, and exact for big integers."""

from __future__ import annotations

import pytest

from bulut.events.json_codec import (
    FastRead,
    JSONError,
    dumps,
    loads,
    loads_fast,
    may_lose_precision,
)

BIG = 123456789012345678901234567890


def test_reads_and_writes_compact_utf8_json() -> None:
    assert loads(b'{"a": [1, 2.5, "\xc3\xa9"]}') == {"a": [1, 2.5, "é"]}
    assert dumps({"a": [1, 2.5, "é"]}) == '{"a":[1,2.5,"é"]}'.encode()


def test_integers_beyond_64_bits_survive_a_round_trip_exactly() -> None:
    text = f'{{"n": {BIG}, "m": -{BIG}}}'.encode()
    assert may_lose_precision(text)
    assert loads(text) == {"n": BIG, "m": -BIG}
    assert dumps(loads(text)) == text.replace(b" ", b"")


def test_short_numbers_take_the_fast_path() -> None:
    assert not may_lose_precision(b'{"n": 123456789012345678, "s": "2018-04-05T17:31:00Z"}')
    assert loads_fast(b'{"n": 123456789012345678}') == {"n": 123456789012345678}


@pytest.mark.parametrize(
    "text",
    [b"", b"{", b"NaN", b'{"a": Infinity}', b'"\xff"', b"[1,]", b'"\\ud800"'],
)
def test_rejects_what_is_not_strict_json(text: bytes) -> None:
    with pytest.raises(JSONError):
        loads(text)


@pytest.mark.parametrize("bad", [b"NaN", b"Infinity", b"-Infinity", b'"\\ud800"'])
def test_text_with_big_integers_is_just_as_strict(bad: bytes) -> None:
    with pytest.raises(JSONError):
        loads(b'{"n": %d, "x": %s}' % (BIG, bad))


def test_fast_reads_are_re_read_exactly_once_and_only_when_needed() -> None:
    exact = FastRead(f'[{{"n": {BIG}}}]'.encode())
    assert exact.exact() == [{"n": BIG}]
    assert exact.exact() is exact.exact()
    assert FastRead(b'[{"n": 1}]').exact() is None


def test_writes_what_orjson_refuses_with_the_stdlib() -> None:
    assert dumps({1: BIG}) == f'{{"1":{BIG}}}'.encode()
    assert dumps("\ud800") == b'"\\ud800"'
