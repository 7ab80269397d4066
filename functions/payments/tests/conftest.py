"""Fixtures: a started function on a temporary database, and a recording `send`."""

import pytest
from cloudevents.core.bindings.http import to_structured_event
from function import new


class Sender:
    """Records what the function sends, like func-python's CloudEventSender."""

    def __init__(self):
        self.events = []
        self.messages = []

    async def __call__(self, event, status=200):
        to_structured_event(event)  # must be encodable, as on the wire
        self.events.append((event, status))

    async def structured(self, event, status=200):
        await self(event, status)

    async def binary(self, event, status=200):
        await self(event, status)

    async def http(self, message):
        self.messages.append(message)

    @property
    def status(self):
        if self.events:
            return self.events[-1][1]
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return starts[-1]["status"] if starts else None

    @property
    def body(self):
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'payments.db'}"


@pytest.fixture(params=["started", "primed"])
def function(request, database_url):
    """A started function; "primed": after the prime() Bulut's zygote runs first."""
    f = new()
    if request.param == "primed":
        f.prime()
    f.start({"DATABASE_URL": database_url})
    yield f
    f.stop()


@pytest.fixture
def send():
    return Sender()
