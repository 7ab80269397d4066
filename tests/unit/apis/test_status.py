"""Errors as metav1 Status objects."""

from __future__ import annotations

from bulut.apis.registry import registry
from bulut.apis.status import AlreadyExistsError, status_of
from bulut.errors import ConflictError, InvalidResourceError, NotFoundError, UnauthorizedError


def test_invalid_input_names_the_kind_the_object_and_the_field() -> None:
    error = InvalidResourceError("expected 0 <= 5 <= 1: spec.x", field="spec.x")
    body = status_of(error, registry().lookup("ksvc"), "hello")
    assert body["code"] == 422 and body["reason"] == "Invalid"
    assert (
        body["message"]
        == 'Service.serving.knative.dev "hello" is invalid: spec.x: expected 0 <= 5 <= 1'
    )
    assert body["details"]["kind"] == "Service"
    assert body["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": "expected 0 <= 5 <= 1", "field": "spec.x"}
    ]


def test_codes_and_reasons() -> None:
    service = registry().lookup("ksvc")
    assert status_of(AlreadyExistsError("x"), service, "a")["reason"] == "AlreadyExists"
    assert status_of(ConflictError("x"), service, "a")["reason"] == "Conflict"
    found = status_of(NotFoundError("gone"), service, "a")
    assert (found["code"], found["details"]) == (
        404,
        {"name": "a", "group": "serving.knative.dev", "kind": "services"},
    )
    assert status_of(UnauthorizedError("no"))["message"] == "Unauthorized"
