"""The recorder stores an event id once, however often it is delivered."""

import sqlite3
from types import SimpleNamespace

from function import new


class Send:
    def __init__(self):
        self.messages = []

    async def http(self, message):
        self.messages.append(message)


def _event(event_id):
    return SimpleNamespace(
        get_id=lambda: event_id, get_source=lambda: "/drill", get_type=lambda: "seed"
    )


async def test_an_event_delivered_twice_is_recorded_once(tmp_path):
    function = new()
    function.start({"RECORDER_DB": str(tmp_path / "r.db")})
    for _ in range(2):
        send = Send()
        await function.handle({"event": _event("e-1")}, None, send)
        assert send.messages[0]["status"] == 204
    rows = sqlite3.connect(tmp_path / "r.db").execute("select id from seen").fetchall()
    assert rows == [("e-1",)]
