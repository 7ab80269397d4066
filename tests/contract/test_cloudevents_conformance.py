"""The CloudEvents conformance cases (cloudevents/conformance, format/json) against our codec.

Valid cases must decode, invalid ones must be rejected with an error whose ``field`` (and
message) names the attribute: in structured mode, in batched mode for batches, and in
binary mode for every case that binary mode can express.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from bulut.errors import InvalidCloudEventError
from bulut.events import (
    CloudEvent,
    canonical_string,
    decode,
    encode_header_value,
    encode_structured,
    is_json_media_type,
)

STRUCTURED = {"content-type": "application/cloudevents+json; charset=utf-8"}
BATCHED = {"content-type": "application/cloudevents-batch+json; charset=utf-8"}

CORE_STRINGS = {"id", "source", "type", "specversion", "subject", "time", "dataschema"}

#: The attribute each invalid case is about (a case not listed must still be rejected).
EXPECTED_FIELD = {
    "invalidNoSpecVersion": "specversion",
    "invalidNoId": "id",
    "invalidNoType": "type",
    "invalidNoSource": "source",
    "invalidTimeGarbage": "time",
    "invalidTimeToMinute": "time",
    "invalidTimeOffsetX": "time",
    "invalidTimeOffsetOutOfRange": "time",
    "invalidTimeOffsetNonInteger": "time",
    "invalidTimeOffsetHourOnly": "time",
    "invalidEmptyId": "id",
    "invalidEmptyType": "type",
    "invalidEmptySource": "source",
    "invalidEmptySpecVersion": "specversion",
    "invalidUnknownSpecVersion": "specversion",
    "invalidNonRfc2046DataContentType": "datacontenttype",
    "invalidEmptyDataContentType": "datacontenttype",
    "invalidEmptyDataSchema": "dataschema",
    "invalidEmptySubject": "subject",
    "invalidNumericId": "id",
    "invalidObjectId": "id",
    "invalidCapitalizedExtension": "MyExtension",
    "invalidPunctuatedExtension": "my.extension",
    "invalidNonIntegerExtensionValue": "my.extension",
    "invalidBothDataAndDataBase64": "data_base64",
    "invalidBatchMixedSpecVersions": "specversion",
    "invalidBatchContainingInvalidCloudEvent": "id",
}


def cases(vendor_dir: Path, name: str) -> list[dict[str, Any]]:
    """The ``tests`` of one conformance file."""
    path = vendor_dir / "conformance" / "cloudevents" / name
    tests: list[dict[str, Any]] = json.loads(path.read_text())["tests"]
    assert tests, f"{path} holds no cases"
    return tests


def expressible_in_a_header(name: str, value: object) -> bool:
    """False for what a header loses: upper case in names, the type of a core value."""
    if name != name.lower() or isinstance(value, dict | list | float):
        return False
    return isinstance(value, str) or name not in CORE_STRINGS


def as_binary(event: dict[str, Any]) -> tuple[dict[str, str], bytes] | None:
    """The binary-mode message carrying a JSON-format event, or None if binary cannot.

    Binary mode has no types (a numeric id becomes a valid string), no upper case in
    header names and one body, so such cases only exist in structured mode.
    """
    if "data" in event and "data_base64" in event:
        return None
    headers: dict[str, str] = {}
    body = b""
    for name, value in event.items():
        if value is None:
            continue
        if name == "data":
            text = isinstance(value, str) and not is_json_media_type(event.get("datacontenttype"))
            body = value.encode() if text else json.dumps(value).encode()
        elif name == "data_base64":
            body = base64.b64decode(value)
        elif not expressible_in_a_header(name, value):
            return None
        elif name == "datacontenttype":
            headers["content-type"] = value
        else:
            headers[f"ce-{name}"] = encode_header_value(canonical_string(value))
    return headers, body


def rejection(headers: dict[str, str], body: bytes) -> InvalidCloudEventError | None:
    """The error decoding raises, or None when the message is accepted."""
    try:
        decode(headers, body)
    except InvalidCloudEventError as error:
        return error
    return None


def wrong_rejections(tests: list[dict[str, Any]], messages: dict[str, Any]) -> list[str]:
    """Case ids whose message was accepted or rejected for the wrong attribute."""
    wrong: list[str] = []
    for test in tests:
        if test["id"] not in messages:
            continue
        error = rejection(*messages[test["id"]])
        expected = EXPECTED_FIELD.get(test["id"])
        if error is None:
            wrong.append(f"{test['id']}: accepted")
        elif expected is not None and (error.field != expected or expected not in error.message):
            wrong.append(f"{test['id']}: field {error.field!r}, message {error.message!r}")
    return wrong


def test_valid_events_are_accepted_in_structured_mode(vendor_dir: Path) -> None:
    for test in cases(vendor_dir, "valid-events.json"):
        event = decode(STRUCTURED, json.dumps(test["event"]).encode())
        assert isinstance(event, CloudEvent), test["id"]
        present = {name: value for name, value in test["event"].items() if value is not None}
        assert json.loads(encode_structured(event)[1]) == present, test["id"]


def test_valid_events_are_accepted_in_binary_mode(vendor_dir: Path) -> None:
    for test in cases(vendor_dir, "valid-events.json"):
        message = as_binary(test["event"])
        assert message is not None, test["id"]
        event = decode(*message)
        assert isinstance(event, CloudEvent), test["id"]
        assert event.id == test["event"]["id"], test["id"]


def test_invalid_events_are_rejected_in_structured_mode_naming_the_attribute(
    vendor_dir: Path,
) -> None:
    tests = cases(vendor_dir, "invalid-events.json")
    messages = {test["id"]: (STRUCTURED, json.dumps(test["event"]).encode()) for test in tests}
    assert wrong_rejections(tests, messages) == []


def test_invalid_events_are_rejected_in_binary_mode_naming_the_attribute(
    vendor_dir: Path,
) -> None:
    tests = cases(vendor_dir, "invalid-events.json")
    messages = {
        test["id"]: message for test in tests if (message := as_binary(test["event"])) is not None
    }
    assert len(messages) >= len(tests) - 5  # all but the typed, cased and two-data cases
    assert wrong_rejections(tests, messages) == []


def test_valid_batches_are_accepted_in_batched_mode(vendor_dir: Path) -> None:
    for test in cases(vendor_dir, "valid-batches.json"):
        batch = decode(BATCHED, json.dumps(test["batch"]).encode())
        assert isinstance(batch, list), test["id"]
        assert [event.id for event in batch] == [item["id"] for item in test["batch"]]


def test_invalid_batches_are_rejected_in_batched_mode(vendor_dir: Path) -> None:
    tests = cases(vendor_dir, "invalid-batches.json")
    messages = {test["id"]: (BATCHED, json.dumps(test["batch"]).encode()) for test in tests}
    assert wrong_rejections(tests, messages) == []


def test_every_valid_event_also_passes_as_a_one_event_batch(vendor_dir: Path) -> None:
    for test in cases(vendor_dir, "valid-events.json"):
        batch = decode(BATCHED, json.dumps([test["event"]]).encode())
        assert isinstance(batch, list)
        assert len(batch) == 1, test["id"]


def test_every_invalid_event_also_fails_inside_a_batch(vendor_dir: Path) -> None:
    tests = cases(vendor_dir, "invalid-events.json")
    messages = {test["id"]: (BATCHED, json.dumps([test["event"]]).encode()) for test in tests}
    assert wrong_rejections(tests, messages) == []
