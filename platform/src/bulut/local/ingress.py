"""Which ingress serves the data-plane port of `bulut up`, and starting HAProxy's (ADR 0015)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from bulut.serving.front import Front
from bulut.serving.kingress.controller import HAProxyIngress
from bulut.settings import Settings

logger = logging.getLogger(__name__)

NO_LIMIT = 2**62  # the gateway's "limits off" body size


def choose_ingress(settings: Settings, haproxy: str | None) -> tuple[str, str]:
    """``(ingress, why)``: the one asked for, or the gateway with the reason HAProxy cannot
    serve (``haproxy`` is the program found, None when it is not installed)."""
    if settings.ingress == "gateway":
        return "gateway", ""
    if haproxy is None:
        return "gateway", "haproxy is not installed (apt-get install haproxy)"
    if settings.auth_issuer is not None or settings.rate_limit is not None:
        return "gateway", "auth and rate limits are enforced by the gateway only"
    return "haproxy", ""


def haproxy_ingress(
    front: Front, data_sock: socket.socket, state: Path, settings: Settings
) -> HAProxyIngress:
    """HAProxy on ``data_sock`` in front of ``front`` (the gateway, on its internal port)."""
    body = front.gateway.max_body_bytes
    return HAProxyIngress(
        front.gateway.router,
        data_sock,
        f"127.0.0.1:{front.port}",
        state / "haproxy",
        max_scale=settings.max_scale,
        max_body_bytes=0 if body >= NO_LIMIT else body,
        traces_per_second=settings.traces_per_second,
    )
