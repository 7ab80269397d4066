"""The data plane's front door: a loopback socket served by the :class:`Gateway`."""

from __future__ import annotations

import socket

from bulut.edge.hosts import HostPolicy
from bulut.httpd import listen
from bulut.serving.gateway import Gateway, Guard
from bulut.serving.router import Router


class Front:
    """The gateway for one router on ``host:port``, served by this loop."""

    def __init__(
        self,
        router: Router,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        guard: Guard | None = None,
        sock: socket.socket | None = None,
        hosts: HostPolicy | None = None,
        limits: bool = True,
    ) -> None:
        self.sock = sock if sock is not None else listen(host, port)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self.gateway = Gateway(router, guard=guard, hosts=hosts, limits=limits)

    async def start(self) -> None:
        """Listen and serve; returns once the socket accepts connections."""
        await self.gateway.start(self.sock)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop serving; answers in progress get up to ``grace`` seconds."""
        await self.gateway.stop(grace)
