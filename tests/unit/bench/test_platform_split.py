"""bench_platform's split of the platform's CPU by part, from py-spy's collapsed stacks."""

from __future__ import annotations

import pytest
from bench.bench_platform import frame_part, platform_split

ROOT = "<module> (bulut:8);Runner.run (asyncio/runners.py:118)"
INGRESS = f"{ROOT};Ingress.prepare (bulut/eventing/ingress.py:280)"


@pytest.mark.parametrize(
    ("leaf", "part"),
    [
        ("", "event loop and other"),
        (";Ingress.prepare (bulut/eventing/ingress.py:280)", "ingress"),
        (
            ";Ingress.prepare (bulut/eventing/ingress.py:280)"
            ";Tracer.start_span (bulut/observability/tracer.py:140)",
            "tracing",
        ),
        (
            ";Deliverer._attempts (bulut/eventing/delivery.py:360)"
            ";Histogram.observe (prometheus_client/metrics.py:600)",
            "metrics",
        ),
        (";Deliverer.send (bulut/eventing/delivery.py:164)", "delivery"),
        (
            ";Deliverer.send (bulut/eventing/delivery.py:164)"
            ";OriginConnection.fetch (bulut/httpd/client.py:317)",
            "HTTP parsing and writes",
        ),
        (
            ";ClientConnection.data_received (bulut/httpd/connection.py:92)",
            "HTTP parsing and writes",
        ),
        (";Exchange.start (bulut/serving/gateway.py:181)", "gateway hop to the function"),
        (
            ";ControlPlane._report_sync (bulut/controlplane/plane.py:346)",
            "control plane and status",
        ),
    ],
)
def test_a_stack_belongs_to_its_innermost_observability_or_plane_frame(
    leaf: str, part: str
) -> None:
    assert frame_part(f"{ROOT}{leaf}".split(";")) == part


def test_the_split_is_the_share_of_samples_per_part() -> None:
    collapsed = "\n".join(
        [
            f"{INGRESS} 6",
            f"{INGRESS};Tracer.start_span (bulut/observability/tracer.py:140) 2",
            f"{ROOT} 2",
            "",
        ]
    )
    assert platform_split(collapsed) == {
        "ingress": 0.6,
        "tracing": 0.2,
        "event loop and other": 0.2,
    }
