"""Fixtures: a started function on a temporary database, and a real HTTP sink to catch events."""

import http.server
import threading

import httpx
import pytest
from function import new


class RecordingSink(http.server.ThreadingHTTPServer):
    """A loopback HTTP server that stores every request it gets (a stand-in broker)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/default/default"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.requests.append((headers, body))
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    server = RecordingSink()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'orders.db'}"


@pytest.fixture(params=["started", "primed"])
def function(request, database_url, sink):
    """A started function; "primed": after the prime() Bulut's zygote runs first."""
    f = new()
    if request.param == "primed":
        f.prime()
    f.start(
        {
            "DATABASE_URL": database_url,
            "K_SINK": sink.url,
            "K_CE_OVERRIDES": '{"extensions": {"env": "test"}}',
        }
    )
    yield f
    f.stop()


@pytest.fixture
async def client(function):
    transport = httpx.ASGITransport(app=function.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        yield client
