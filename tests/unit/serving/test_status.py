"""Runtime reports: Knative's conditions and reasons from the revision's facts."""

from __future__ import annotations

from bulut.processes.backoff import CrashLoop
from bulut.serving.status import (
    RevisionFacts,
    conditions,
    exit_reason,
    only_gauges_changed,
    report,
)


def by_type(facts: RevisionFacts) -> dict[str, dict[str, str]]:
    return {c["type"]: c for c in conditions(facts)}


def test_a_new_revision_is_deploying() -> None:
    found = by_type(RevisionFacts())

    assert found["ResourcesAvailable"] == {
        "type": "ResourcesAvailable",
        "status": "Unknown",
        "reason": "Deploying",
    }
    assert found["ContainerHealthy"]["status"] == "Unknown"


def test_a_revision_that_was_ready_stays_available_at_zero() -> None:
    found = by_type(RevisionFacts(ever_ready=True, ready=0))

    assert found["ResourcesAvailable"]["status"] == "True"
    assert found["ContainerHealthy"]["status"] == "True"


def test_a_crash_with_nothing_ready_is_an_unhealthy_container_with_its_exit_code() -> None:
    found = by_type(RevisionFacts(last_exit_code=1, last_exit_message="boom"))

    assert found["ContainerHealthy"]["status"] == "False"
    assert found["ContainerHealthy"]["reason"] == "ExitCode1"
    assert "boom" in found["ContainerHealthy"]["message"]


def test_a_crash_loop_says_its_back_off_and_restarts_as_the_kubelet_does() -> None:
    facts = RevisionFacts(
        last_exit_code=3,
        last_exit_message="instance 42 exited with 3",
        crash_loop=CrashLoop(restarts=3, back_off=20.0),
    )

    health = by_type(facts)["ContainerHealthy"]
    body = report(facts)

    assert (health["status"], health["reason"]) == ("False", "ExitCode3")
    assert health["message"] == (
        "Container failed with: instance 42 exited with 3 (CrashLoopBackOff: back-off 20s "
        "restarting failed container=user-container, restarts 3)"
    )
    assert body["restarts"] == 3
    assert body["crashLoop"] == {"reason": "CrashLoopBackOff", "backOffSeconds": 20.0}


def test_the_first_restart_is_not_a_back_off() -> None:
    facts = RevisionFacts(last_exit_code=1, crash_loop=CrashLoop(restarts=1, back_off=0.0))

    assert "CrashLoopBackOff" not in by_type(facts)["ContainerHealthy"]["message"]
    assert report(facts)["restarts"] == 1 and "crashLoop" not in report(facts)


def test_signals_read_as_kubernetes_exit_codes() -> None:
    assert exit_reason(-9) == "ExitCode137"
    assert exit_reason(-15) == "ExitCode143"
    assert exit_reason(3) == "ExitCode3"


def test_the_report_carries_counts_zygote_and_cold_starts() -> None:
    facts = RevisionFacts(desired=2, actual=2, ready=1, zygote={"pid": 7, "ussBytes": 1})
    facts.cold_starts["fork"] = 2

    body = report(facts)

    assert body["desiredScale"] == 2 and body["actualScale"] == 2 and body["readyInstances"] == 1
    assert body["zygote"] == {"pid": 7, "ussBytes": 1}
    assert body["coldStarts"] == {"pool": 0, "fork": 2, "spawn": 0}


def running(ready: int = 1, held: int = 0, pss: int = 50, pool_pss: int = 9) -> dict[str, object]:
    """The report of a revision with a zygote whose memory was read (figures in MiB)."""
    mib = 1 << 20
    zygote = {
        "pid": 7,
        "rssBytes": 70 * mib,
        "pssBytes": pss * mib,
        "ussBytes": 10 * mib,
        "pool": {"size": 1, "parked": [8], "rssBytes": 30 * mib, "pssBytes": pool_pss * mib},
    }
    facts = RevisionFacts(ready=ready, actual=ready, held=held, ever_ready=True, zygote=zygote)
    return report(facts)


def test_memory_and_queue_depth_moving_under_load_are_only_gauges() -> None:
    sent = running(held=88)

    assert only_gauges_changed(sent, running(held=88, pss=26, pool_pss=12))
    assert only_gauges_changed(sent, running(held=3))


def test_anything_else_or_a_gauge_leaving_zero_is_news() -> None:
    sent = running()

    assert not only_gauges_changed(sent, running(ready=2))  # a scale change
    assert not only_gauges_changed(sent, running(held=5))  # requests start to wait
    assert not only_gauges_changed(running(held=5), sent)  # and no longer wait
    assert not only_gauges_changed(running(pss=0), sent)  # the first memory read
    assert not only_gauges_changed(None, sent)  # the first report
    assert not only_gauges_changed(sent, running())  # no change at all
