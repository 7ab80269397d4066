"""The server's limits on a request and the answers refusing it.

One definition for both ways a request reaches a :class:`~bulut.httpd.Server`: its
connection checks a socket's request as the bytes arrive (:mod:`.connection`), an
:class:`~bulut.httpd.InProcessPool` a whole request handed over in-process
(:func:`refusal`). Same statuses, same texts: 414 for the target, 431 for the header
fields or their block, 413 for the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import Request

if TYPE_CHECKING:
    from .server import Server

Refusal = tuple[int, str]


def target_too_long(limit: int) -> Refusal:
    """The request target is longer than ``limit`` bytes."""
    return 414, f"request target longer than {limit} bytes"


def too_many_fields(limit: int) -> Refusal:
    """More than ``limit`` header fields."""
    return 431, f"more than {limit} request header fields"


def head_too_large(limit: int) -> Refusal:
    """The header block is larger than ``limit`` bytes."""
    return 431, f"request header block larger than {limit} bytes"


def body_too_large(limit: int) -> Refusal:
    """The body is larger than ``limit`` bytes (the route's, :meth:`Server.body_limit`)."""
    return 413, f"request body larger than {limit} bytes"


def refusal(server: Server, request: Request) -> Refusal | None:
    """How ``server`` refuses a whole request, in the order its connection meets the
    limits (None: within them). The header block counts each field as its ``name: value``
    line would, with the target."""
    target = request.target
    if len(target) > server.max_url_bytes:
        return target_too_long(server.max_url_bytes)
    headers = request.headers
    if len(headers) > server.max_headers:
        return too_many_fields(server.max_headers)
    size = len(target) + 4 * len(headers)
    for name, value in headers:  # a loop, not sum() over a generator: a third of the cost
        size += len(name) + len(value)
    if size > server.max_header_bytes:
        return head_too_large(server.max_header_bytes)
    limit = server.body_limit(request.host, target, headers)
    if len(request.body) > limit:
        return body_too_large(limit)
    return None
