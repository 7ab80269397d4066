"""The control plane under a real uvicorn on an ephemeral loopback port, in a thread.

``serve(settings)`` is a context manager yielding the base URL once ``/readyz`` answers.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from bulut.controlplane import ControlPlane
from bulut.settings import Settings
from tests.support.waiting import eventually_blocking


@contextmanager
def serve(settings: Settings, *, check_images: bool = False) -> Iterator[str]:
    """Run ControlPlane(settings).app on settings.host:settings.control_port."""
    plane = ControlPlane(settings, check_images=check_images)
    tls = plane.access
    config = uvicorn.Config(
        plane.app,
        host=settings.host,
        port=settings.control_port,
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = settings.control_url
    verify: bool | ssl.SSLContext = (
        ssl.create_default_context(cafile=str(tls.ca_file)) if tls else True
    )

    def ready() -> bool:
        if not thread.is_alive():
            raise AssertionError(f"the control plane at {url} stopped while starting")
        try:
            return httpx.get(f"{url}/readyz", timeout=1, verify=verify).status_code == 200
        except httpx.TransportError:
            return False

    try:
        eventually_blocking(ready, f"the control plane at {url} to be ready", timeout=15)
    except AssertionError:
        server.should_exit = True
        raise
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
