"""A small HTTP/1.1 server for the data plane: httptools parsing, callbacks, no ASGI on
the hot path.

:class:`Server` accepts connections; each :class:`ClientConnection` parses requests
into :class:`Request` objects and hands them, in order, to the server's ``dispatch``.
A native :class:`Handler` answers through the connection (its :class:`Reply`) without
a task; any ASGI app can answer too (one task per request, its response streamed).
"""

from .asgi import AsgiCall
from .connection import Answer, ClientConnection
from .messages import Handler, Reply, Request, status_line, text_response, whole_response
from .server import Server, listen

__all__ = [
    "Answer",
    "AsgiCall",
    "ClientConnection",
    "Handler",
    "Reply",
    "Request",
    "Server",
    "listen",
    "status_line",
    "text_response",
    "whole_response",
]
