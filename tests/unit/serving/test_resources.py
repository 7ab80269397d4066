"""What the runtime reads from a Revision: container, concurrency, readiness probe."""

from __future__ import annotations

from bulut.serving.resources import container_concurrency, first_container, readiness_path


def test_containerconcurrency_falls_back_to_config_defaults() -> None:
    assert container_concurrency({"spec": {"containerConcurrency": 3}}, {}) == 3
    assert container_concurrency({"spec": {}}, {"container-concurrency": "5"}) == 5
    assert container_concurrency({}, {}) == 0


def test_readiness_follows_the_probe_else_the_flavour() -> None:
    assert readiness_path({"readinessProbe": {"httpGet": {"path": "/ready"}}}, True) == "/ready"
    assert readiness_path({"readinessProbe": {"tcpSocket": {}}}, True) == ""
    assert readiness_path({}, True) == "/health/readiness"
    assert readiness_path({}, False) == ""


def test_a_revision_without_containers_has_an_empty_one() -> None:
    assert first_container({"spec": {}}) == {}
