"""The protobuf bodies kubectl sends for built-in kinds."""

from __future__ import annotations

import pytest

from bulut.apis.protobuf import MAGIC, decode
from bulut.apis.status import ApiError


def field(number: int, payload: bytes) -> bytes:
    return bytes([(number << 3) | 2, len(payload)]) + payload


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return MAGIC + field(1, type_meta) + field(2, raw)


def test_a_namespace_with_labels_decodes_to_json() -> None:
    label = field(1, b"team") + field(2, b"a")
    metadata = field(1, b"demo") + field(11, label)
    document = decode(envelope("v1", "Namespace", field(1, metadata)))
    assert document == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "demo", "labels": {"team": "a"}},
    }


def test_a_configmap_decodes_its_data() -> None:
    data = field(1, b"key") + field(2, b"value")
    binary = field(1, b"blob") + field(2, b"\x00\xff")
    raw = field(1, field(1, b"cfg")) + field(2, data) + field(3, binary)
    document = decode(envelope("v1", "ConfigMap", raw))
    assert document["data"] == {"key": "value"}
    assert document["binaryData"] == {"blob": "AP8="}


def test_other_kinds_and_bare_bodies_are_refused() -> None:
    with pytest.raises(ApiError) as caught:
        decode(envelope("v1", "Secret", field(1, field(1, b"s"))))
    assert caught.value.http_status == 415
    with pytest.raises(ApiError):
        decode(b"{}")
