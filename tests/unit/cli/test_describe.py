"""`bulut describe`: a crash-looping revision shows its restarts and back-off."""

from __future__ import annotations

import pytest

from bulut.cli.resources import describe


def test_a_crash_looping_revision_shows_restarts_back_off_and_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = (
        "Container failed with: instance 42 exited with 3 (CrashLoopBackOff: back-off 40s "
        "restarting failed container=user-container, restarts 4)"
    )
    revision = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Revision",
        "metadata": {"name": "crashy-00001", "namespace": "default", "generation": 1},
        "status": {
            "conditions": [
                {
                    "type": "ContainerHealthy",
                    "status": "False",
                    "reason": "ExitCode3",
                    "message": message,
                },
                {"type": "Ready", "status": "False", "reason": "ExitCode3", "message": message},
            ],
            "bulut": {
                "restarts": 4,
                "crashLoop": {"reason": "CrashLoopBackOff", "backOffSeconds": 40.0},
            },
        },
    }

    describe(revision)

    printed = capsys.readouterr().out
    assert "Restarts:       4 (CrashLoopBackOff, back-off 40s)" in printed
    assert "ExitCode3" in printed and "CrashLoopBackOff: back-off 40s" in " ".join(printed.split())
