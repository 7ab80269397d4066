"""Health checks run by a real Lua: the repository's own script, as Argo CD runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulut.gitops.health import HealthCheck
from bulut.gitops.plan import Health

SCRIPT = Path(__file__).resolve().parents[3] / "gitops" / "argocd" / "health-check.lua"


def service(generation: int, observed: int, ready: str | None) -> dict[str, Any]:
    status: dict[str, Any] = {"observedGeneration": observed}
    if ready is not None:
        status["conditions"] = [
            {"type": "Ready", "status": ready, "reason": "RevisionFailed", "message": "boom"}
        ]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "orders", "generation": generation},
        "status": status,
    }


def test_a_ready_service_is_healthy() -> None:
    check = HealthCheck.from_file(SCRIPT)
    assert check.assess(service(1, 1, "True")).status is Health.HEALTHY


def test_a_failed_service_is_degraded_with_its_reason() -> None:
    assessment = HealthCheck.from_file(SCRIPT).assess(service(1, 1, "False"))
    assert (assessment.status, assessment.message) == (Health.DEGRADED, "RevisionFailed: boom")


def test_a_service_whose_new_generation_is_not_observed_yet_is_progressing() -> None:
    assert HealthCheck.from_file(SCRIPT).assess(service(2, 1, "True")).status is Health.PROGRESSING


def test_kinds_without_a_check_are_healthy_once_live_and_missing_otherwise() -> None:
    check = HealthCheck.from_file(SCRIPT)
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert check.assess(config).status is Health.HEALTHY
    assert check.assess(None).status is Health.MISSING


def test_a_check_cannot_reach_the_operating_system() -> None:
    check = HealthCheck('os.execute("touch /tmp/pwned")\nreturn {status="Healthy"}')
    assessment = check.assess(service(1, 1, "True"))
    assert assessment.status is Health.DEGRADED
    assert "os" in assessment.message


def test_a_check_returning_an_unknown_status_is_degraded() -> None:
    check = HealthCheck('return {status="Fine", message=""}')
    assert check.assess(service(1, 1, "True")).status is Health.DEGRADED
