"""HTTP/1.1 on httptools for the data plane, both ways: a server and a client.

Server: :class:`Server` accepts connections; each :class:`ClientConnection` parses
requests into :class:`Request` objects and hands them, in order, to the server's
``dispatch``. A native :class:`Handler` answers through the connection (its
:class:`Reply`) without a task; any ASGI app can answer too (one task per request, its
response streamed).

Client: an :class:`OriginPool` keeps keep-alive :class:`OriginConnection` s to one
origin server; a :class:`Client` holds one pool per ``(host, port)``. A response goes
to a :class:`ResponseSink` as it arrives, or whole as a :class:`Response`; connect,
first-byte, idle and whole-exchange timeouts; :class:`OriginError` when no whole
response came. An :class:`InProcessPool` hands whole requests to a :class:`Server` of the
same process without a socket (``Client.use``).
"""

from .asgi import AsgiCall
from .client import OriginConnection, OriginError, OriginTimeout, Response, ResponseSink
from .connection import Answer, ClientConnection
from .inprocess import InProcessConnection, InProcessPool
from .messages import (
    Handler,
    Header,
    Reply,
    Request,
    status_line,
    text_response,
    whole_response,
)
from .pool import Client, OriginPool, request_head
from .server import Server, listen

__all__ = [
    "Answer",
    "AsgiCall",
    "Client",
    "ClientConnection",
    "Handler",
    "Header",
    "InProcessConnection",
    "InProcessPool",
    "OriginConnection",
    "OriginError",
    "OriginPool",
    "OriginTimeout",
    "Reply",
    "Request",
    "Response",
    "ResponseSink",
    "Server",
    "listen",
    "request_head",
    "status_line",
    "text_response",
    "whole_response",
]
