"""Shipped log segments round-trip and refuse a damaged copy."""

from __future__ import annotations

import hashlib

import pytest

from bulut.dr.shipping import Segment, decode_segment, encode_segment, parse_segment
from bulut.errors import BackupError

ROWS = [
    (1, "drill", "default", "e-1", "/s", "t", 255, b"ce-id:e-1", b"{}", 10.0),
    (2, "drill", "default", "e-2", "/s", "t", 255, b"", b"\x00\xff", 11.0),
]


def _segment(data: bytes, first: int, last: int) -> Segment:
    sha = hashlib.sha256(data).hexdigest()[:16]
    return Segment(first, last, f"log/{first:012d}-{last:012d}-{sha}.jsonl.gz", sha)


def test_a_segment_round_trips_its_rows_with_binary_blobs() -> None:
    data, first, last = encode_segment(ROWS)
    assert (first, last) == (1, 2)
    assert decode_segment(data, _segment(data, first, last)) == ROWS


def test_a_corrupted_segment_is_refused_naming_its_key() -> None:
    data, first, last = encode_segment(ROWS)
    segment = _segment(data, first, last)
    with pytest.raises(BackupError, match=f"{segment.key}: checksum mismatch"):
        decode_segment(data[:-1] + b"x", segment)


def test_segment_keys_parse_and_others_do_not() -> None:
    segment = parse_segment("log/000000000001-000000000009-0123456789abcdef.jsonl.gz")
    assert segment is not None and (segment.first, segment.last) == (1, 9)
    assert parse_segment("20261128T000000Z-x/manifest.json") is None
