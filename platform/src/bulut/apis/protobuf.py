"""Reading the Kubernetes protobuf encoding of the few built-in kinds kubectl sends that way.

kubectl 1.32+ creates Namespaces and ConfigMaps (``kubectl create ns demo``,
``kubectl create configmap``) with ``Content-Type: application/vnd.kubernetes.protobuf``
and does not retry as JSON. The envelope is ``k8s\\0`` then a ``runtime.Unknown`` message
(1 typeMeta {1 apiVersion, 2 kind}, 2 raw); the object's fields are the ones decoded below.
Answers stay JSON, which kubectl accepts.
"""

from __future__ import annotations

import base64
from typing import Any

from .status import ApiError

MAGIC = b"k8s\x00"
Fields = list[tuple[int, int | bytes]]


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data):
            raise ApiError("truncated protobuf message", code=400)
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def fields(data: bytes) -> Fields:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    found: Fields = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
            found.append((number, value))
        elif wire == 2:
            length, position = _varint(data, position)
            found.append((number, data[position : position + length]))
            position += length
        elif wire == 1:
            position += 8
        elif wire == 5:
            position += 4
        else:
            raise ApiError(f"unsupported protobuf wire type {wire}", code=400)
    return found


def _text(value: int | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _entries(values: list[int | bytes], *, binary: bool = False) -> dict[str, str]:
    """A proto map; ``binary`` values (ConfigMap binaryData) become base64, as in JSON."""
    result = {}
    for raw in values:
        entry = dict(fields(raw)) if isinstance(raw, bytes) else {}
        value = entry.get(2, b"")
        if binary and isinstance(value, bytes):
            result[_text(entry.get(1, b""))] = base64.b64encode(value).decode()
        else:
            result[_text(entry.get(1, b""))] = _text(value)
    return result


def _group(data: bytes) -> dict[int, list[int | bytes]]:
    grouped: dict[int, list[int | bytes]] = {}
    for number, value in fields(data):
        grouped.setdefault(number, []).append(value)
    return grouped


def _metadata(data: bytes) -> dict[str, Any]:
    grouped = _group(data)
    meta: dict[str, Any] = {}
    for number, key in ((1, "name"), (2, "generateName"), (3, "namespace"), (6, "resourceVersion")):
        if number in grouped:
            meta[key] = _text(grouped[number][-1])
    if 11 in grouped:
        meta["labels"] = _entries(grouped[11])
    if 12 in grouped:
        meta["annotations"] = _entries(grouped[12])
    if 14 in grouped:
        meta["finalizers"] = [_text(v) for v in grouped[14]]
    return meta


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded Namespace or ConfigMap."""
    if not body.startswith(MAGIC):
        raise ApiError("protobuf body without the k8s envelope", code=400)
    envelope = _group(body[len(MAGIC) :])
    first = envelope.get(1, [b""])[-1]
    type_meta = _group(first) if isinstance(first, bytes) else {}
    api_version = _text(type_meta.get(1, [b""])[-1])
    kind = _text(type_meta.get(2, [b""])[-1])
    raw = envelope.get(2, [b""])[-1]
    obj = _group(raw if isinstance(raw, bytes) else b"")
    document: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    meta = obj.get(1, [b""])[-1]
    document["metadata"] = _metadata(meta if isinstance(meta, bytes) else b"")
    if kind == "Namespace":
        spec = obj.get(2, [b""])[-1]
        finalizers = _group(spec if isinstance(spec, bytes) else b"").get(1, [])
        if finalizers:
            document["spec"] = {"finalizers": [_text(v) for v in finalizers]}
    elif kind == "ConfigMap":
        if 2 in obj:
            document["data"] = _entries(obj[2])
        if 3 in obj:
            document["binaryData"] = _entries(obj[3], binary=True)
        if 4 in obj:
            document["immutable"] = bool(obj[4][-1])
    else:
        raise ApiError(
            f"the body of the request was in an unknown format - protobuf is accepted for "
            f"Namespace and ConfigMap only, not {kind or 'this kind'}; send application/json",
            code=415,
        )
    return document
