"""Each subscriber gets a semaphore sized to its Service's capacity."""

from __future__ import annotations

from typing import Any

from bulut.eventing.capacity import Capacity
from bulut.eventing.sinks import resolve_sink


def _service(name: str, concurrency: int, max_scale: int) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": str(max_scale)}},
                "spec": {"containerConcurrency": concurrency},
            }
        },
    }


def _target(url: str) -> Any:
    return resolve_sink(url, host="127.0.0.1", data_port=8080)


async def test_a_known_service_gets_concurrency_times_max_scale_slots() -> None:
    capacity = Capacity(default=64)
    capacity.set_service(_service("orders", 2, 3))
    gate = capacity.gate(_target("http://orders.default.localhost:8080/"))
    assert capacity.limit_for(_target("http://orders.default.localhost:8080/")) == 6
    for _ in range(6):
        await gate.acquire()
    assert gate.locked()


async def test_other_subscribers_get_the_default_and_share_one_gate_per_address() -> None:
    capacity = Capacity(default=3)
    first = capacity.gate(_target("http://127.0.0.1:9000/a"))
    assert first is capacity.gate(_target("http://127.0.0.1:9000/b"))
    assert capacity.limit_for(_target("http://unknown.default.localhost/")) == 3


async def test_a_changed_capacity_replaces_the_gate_and_a_deleted_service_falls_back() -> None:
    capacity = Capacity(default=5)
    target = _target("http://orders.default.localhost/")
    capacity.set_service(_service("orders", 1, 1))
    one = capacity.gate(target)
    capacity.set_service(_service("orders", 4, 1))
    assert capacity.gate(target) is not one
    capacity.remove_service(("default", "orders"))
    assert capacity.limit_for(target) == 5
