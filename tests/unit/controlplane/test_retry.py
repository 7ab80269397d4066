"""retry_on_conflict: again while the store says Conflict, at most five times in all."""

from __future__ import annotations

import pytest

from bulut.controlplane.retry import STEPS, retry_on_conflict
from bulut.errors import ConflictError, NotFoundError


def test_a_conflict_is_tried_again_until_the_write_goes_through() -> None:
    answers: list[Exception | str] = [ConflictError("stale"), ConflictError("stale"), "written"]
    waits: list[float] = []

    def attempt() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry_on_conflict(attempt, sleep=waits.append) == "written"
    assert len(waits) == 2 and all(0.01 <= w <= 0.011 for w in waits)


def test_after_the_last_step_the_conflict_is_the_answer() -> None:
    tries: list[int] = []

    def attempt() -> None:
        tries.append(1)
        raise ConflictError("stale")

    with pytest.raises(ConflictError):
        retry_on_conflict(attempt, sleep=lambda _: None)
    assert len(tries) == STEPS


def test_other_errors_are_not_retried() -> None:
    tries: list[int] = []

    def attempt() -> None:
        tries.append(1)
        raise NotFoundError("gone")

    with pytest.raises(NotFoundError):
        retry_on_conflict(attempt, sleep=lambda _: None)
    assert tries == [1]
