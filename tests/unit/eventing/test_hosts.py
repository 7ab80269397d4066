"""Handlers by Host name in front of the broker ingress."""

from __future__ import annotations

from typing import Any

from bulut.eventing import hosts
from bulut.eventing.hosts import HostRoutes, host_name


class _Handler:
    def __init__(self, name: str) -> None:
        self.name = name

    def handle_request(self, request: Any, reply: Any) -> None: ...

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        return 0


def test_a_host_header_is_named_without_its_port_in_lower_case() -> None:
    assert host_name(b"Job-Sink.Knative-Eventing.localhost:8080") == (
        "job-sink.knative-eventing.localhost"
    )
    assert host_name(b"job-sink.local") == "job-sink.local"
    assert host_name(b"[::1]") == "[::1]"  # an IPv6 literal without a port stays whole
    assert host_name(b" Example.COM:80 ") == "example.com"


def test_requests_go_to_the_handler_of_their_host_else_the_default() -> None:
    default, jobs = _Handler("default"), _Handler("jobs")
    routes = HostRoutes(default)
    routes.add("Job-Sink.local", jobs)
    assert routes.handler_for(b"job-sink.local:8080") is jobs
    assert routes.handler_for(b"JOB-SINK.LOCAL") is jobs
    assert routes.handler_for(b"127.0.0.1:8080") is default


def test_a_flood_of_host_values_is_named_but_not_all_remembered() -> None:
    names = [host_name(b"h%d.example:80" % n) for n in range(hosts._MAX_NAMES + 100)]
    assert names == [f"h{n}.example" for n in range(hosts._MAX_NAMES + 100)]
    assert len(hosts._NAMES) <= hosts._MAX_NAMES
