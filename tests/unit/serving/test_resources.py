"""What the runtime reads from a Revision: container and readiness probe."""

from __future__ import annotations

from bulut.serving.resources import first_container, readiness_path


def test_readiness_follows_the_probe_else_the_flavour() -> None:
    assert readiness_path({"readinessProbe": {"httpGet": {"path": "/ready"}}}, True) == "/ready"
    assert readiness_path({"readinessProbe": {"tcpSocket": {}}}, True) == ""
    assert readiness_path({}, True) == "/health/readiness"
    assert readiness_path({}, False) == ""


def test_a_revision_without_containers_has_an_empty_one() -> None:
    assert first_container({"spec": {}}) == {}
