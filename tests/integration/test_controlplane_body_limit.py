"""The control plane under uvicorn refuses an oversized body before reading it (issue #20)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from bulut.settings import Settings
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration


def test_expect_100_continue_with_a_huge_length_gets_413_not_continue(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, functions_dir=tmp_path, control_port=free_port())
    with serve(settings) as url:
        with socket.create_connection(("127.0.0.1", settings.control_port), timeout=10) as sock:
            sock.sendall(
                b"POST /apis/bulut.dev/v1/apply HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 104857600\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            head = sock.recv(65536).decode("latin-1")
        still = httpx.get(f"{url}/readyz", timeout=5)
    assert head.startswith("HTTP/1.1 413"), head
    assert "100 Continue" not in head
    assert '"reason":"RequestEntityTooLarge"' in head
    assert still.status_code == 200
