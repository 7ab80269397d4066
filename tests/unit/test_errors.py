"""The error tree: one root, HTTP statuses at the edges, fields named."""

from __future__ import annotations

from bulut.cli.main import exit_code_for
from bulut.errors import (
    BulutError,
    InstanceError,
    InvalidCloudEventError,
    InvalidResourceError,
    NotFoundError,
)


def test_every_error_derives_from_the_root() -> None:
    for cls in (InvalidCloudEventError, InvalidResourceError, NotFoundError, InstanceError):
        assert issubclass(cls, BulutError)


def test_an_invalid_event_is_a_400_naming_the_attribute() -> None:
    error = InvalidCloudEventError("id is required", field="id")
    assert (error.http_status, error.field, str(error)) == (400, "id", "id is required")


def test_bad_input_exits_2_and_platform_failures_exit_1() -> None:
    assert exit_code_for(InvalidResourceError("x", field="spec")) == 2
    assert exit_code_for(NotFoundError("nope")) == 2
    assert exit_code_for(InstanceError("died")) == 1
