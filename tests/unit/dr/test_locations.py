"""Locations: a directory stores keys as files; URLs pick the kind of location."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.dr.locations import DirectoryLocation, S3Location, backup_ids, parse_location
from bulut.errors import ConfigError


def test_a_directory_location_stores_and_lists_keys(tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    source = tmp_path / "f"
    source.write_bytes(b"data")
    location.put("b1/eventing/broker.db", source)
    location.put_bytes("b1/manifest.json", b"{}")
    location.put_bytes("b2/bulut.db", b"partial: no manifest")
    assert location.keys("b1") == ["b1/eventing/broker.db", "b1/manifest.json"]
    assert location.get_bytes("b1/eventing/broker.db") == b"data"
    assert location.get_bytes("nope") is None
    assert location.get("nope", tmp_path / "x") is False
    assert backup_ids(location) == ["b1"]
    location.delete("b1")
    assert backup_ids(location) == []


def test_s3_urls_name_bucket_and_prefix() -> None:
    location = parse_location("s3://bucket/some/prefix", endpoint="http://127.0.0.1:9000")
    assert isinstance(location, S3Location)
    assert (location.bucket, location.prefix, location.endpoint) == (
        "bucket", "some/prefix", "http://127.0.0.1:9000",
    )  # fmt: skip
    assert location.url == "s3://bucket/some/prefix"


def test_a_path_is_a_directory_location() -> None:
    assert isinstance(parse_location("backups/local"), DirectoryLocation)


@pytest.mark.parametrize(
    ("url", "endpoint", "message"),
    [
        ("s3://", None, "needs a bucket"),
        ("gs://bucket", None, "a directory or s3://"),
        ("backups", "http://x", "only applies to s3://"),
    ],
)
def test_bad_locations_are_refused_with_the_fix(
    url: str, endpoint: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_location(url, endpoint=endpoint)
