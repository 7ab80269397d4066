"""A raw HTTP/1.1 client for the server tests: bytes out, bytes back."""

from __future__ import annotations

import asyncio


async def exchange(port: int, raw: bytes, *, until: bytes = b"") -> bytes:
    """Write ``raw`` and read until the server closes (or ``until`` was seen)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    received = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 5.0)
            if not chunk:
                break
            received += chunk
            if until and until in received:
                break
    finally:
        writer.close()
    return received
