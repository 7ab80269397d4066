"""The ``haproxy.cfg`` of the data plane (pure: text from values).

One frontend on the data-plane port chooses a backend per request from two maps Bulut
fills through the runtime API: ``routes.map`` (``<host>/<bucket>`` -> backend, a bucket
being ``rand(100)``, so a traffic split is a share of the 100 buckets) and ``tags.map``
(``<host>@<tag>`` -> backend, for ``Knative-Serving-Tag`` header routing). A host or bucket
with no entry, and the value ``activator``, go to Bulut's gateway (Knative's activator and
the broker ingress) on its internal port. Each revision with a runtime has a backend of
``server-template`` slots (ADR 0015: slots added with ``add server`` do not reuse
connections in HAProxy 2.6), containerConcurrency as every slot's ``maxconn`` with the
backend's queue behind it, and Knative's timeouts as backend timeouts.

Requests for a CloudEvents function take the warm path only when a conservative filter
proves them valid binary-mode events (every attribute in a form the codec accepts, no
JSON data to parse); anything else goes to the gateway, which answers its 400 naming
the attribute or forwards it (:data:`EVENT_CHECKS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ACTIVATOR = "activator"
TRACE_BUDGET = "trace_budget"  # a stick table counting the new traces of the last second
RING = "access"  # the access log's ring buffer, read with `show events access -w -n`
RING_BYTES = 8 * 1024 * 1024  # ~40k lines: what a reader polling every 0.1 s may lag
TEXT = "content-type text/plain"
# The last hex digit of a traceparent's flags when its sampled bit (the trace is recorded) is set.
SAMPLED_FLAGS = ("1", "3", "5", "7", "9", "b", "d", "f")

# Regular expressions of the event filter. Single-quoted in the config (no expansion, no
# escapes): none may hold a single quote, so the character classes leave it out, which
# only sends more requests to the gateway.
TOKEN = r"^[!#$&(-~]+$"  # printable ASCII, no space, '"', '%' or "'": id, type, subject
URI_REFERENCE = r"^[A-Za-z0-9._~:/?#@!$&()*+,;=\[\]-]+$"  # no '%' escapes, no quote
TIMESTAMP = (  # RFC 3339 in range, February 29 left to the gateway (as the codec's quick test)
    r"^[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31)[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
MEDIA_TYPE = r"^[!#$%&*+.^_`|~0-9A-Za-z-]+/[!#$%&*+.^_`|~0-9A-Za-z-]+([ \t]*;[ -&(-~\t]*)?$"
# A ce- header the codec would refuse or must decode: a name that is not [a-z0-9]+, the
# reserved ce-data and ce-datacontenttype, ce-dataschema (an absolute URI: left to the
# gateway), or a value with '%', '"' or a byte outside printable ASCII.
ODD_CE_HEADER = (
    r"(^|\n)ce-([^:\r\n]*[^a-z0-9:\r\n][^:\r\n]*|data|datacontenttype|dataschema):"
    r"|(^|\n)ce-[^:\r\n]*:[^\r\n]*[^\x20-\x7e\r\n]"
    r"|(^|\n)ce-[^:\r\n]*:[^\r\n]*[%\x22]"
)

#: The conditions under which an event function's request leaves the warm path, each one
#: a rule ``http-request set-var(txn.backend) str(activator) if ce !health <condition>``.
EVENT_CHECKS = (
    "{ req.hdr(content-type) -m beg -i application/cloudevents }",
    "!{ req.hdr_cnt(ce-specversion) eq 1 }",
    "!{ req.hdr(ce-specversion) -m str 1.0 }",
    "!{ req.hdr_cnt(ce-id) eq 1 }",
    f"!{{ req.hdr(ce-id) -m reg '{TOKEN}' }}",
    "!{ req.hdr_cnt(ce-type) eq 1 }",
    f"!{{ req.hdr(ce-type) -m reg '{TOKEN}' }}",
    "!{ req.hdr_cnt(ce-source) eq 1 }",
    f"!{{ req.hdr(ce-source) -m reg '{URI_REFERENCE}' }}",
    "{ req.hdr_cnt(ce-subject) gt 1 }",
    f"{{ req.hdr(ce-subject) -m found }} !{{ req.hdr(ce-subject) -m reg '{TOKEN}' }}",
    "{ req.hdr_cnt(ce-time) gt 1 }",
    f"{{ req.hdr(ce-time) -m found }} !{{ req.hdr(ce-time) -m reg '{TIMESTAMP}' }}",
    "{ req.hdr_cnt(content-type) gt 1 }",
    f"{{ req.hdr(content-type) -m found }} !{{ req.hdr(content-type) -m reg '{MEDIA_TYPE}' }}",
    "{ req.hdr(content-type) -m sub -i json } body",
    f"{{ req.hdrs -m reg -i '{ODD_CE_HEADER}' }}",
)


@dataclass(frozen=True)
class Backend:
    """One revision as HAProxy serves it: a backend of ``slots`` server slots."""

    name: str
    slots: int
    container_concurrency: int = 0  # 0: no limit per instance
    timeout_seconds: float = 300.0
    response_start_timeout_seconds: float = 0.0
    idle_timeout_seconds: float = 0.0
    queue_limit: int = 10_000  # Knative's activator queue; 503 beyond

    @property
    def server_timeout(self) -> float:
        """HAProxy's ``timeout server`` (no byte from the instance for that long: 504).

        The first byte within ``responseStartTimeoutSeconds`` when it is set below
        ``timeoutSeconds``, else within ``timeoutSeconds``; a streaming response's silences
        within ``idleTimeoutSeconds`` when that is shorter. HAProxy has one such timeout per
        backend, so the shorter of the two that apply wins.
        """
        limit = self.timeout_seconds
        start = self.response_start_timeout_seconds
        idle = self.idle_timeout_seconds
        chosen = start if 0 < start < limit else limit
        if 0 < idle < chosen:
            chosen = idle
        return chosen


@dataclass(frozen=True)
class Layout:
    """Where HAProxy listens and finds its files."""

    bind: str  # "fd@3" (a socket Bulut bound) or "127.0.0.1:<port>"
    activator: str  # the gateway, "127.0.0.1:<port>"
    admin_socket: Path
    routes_map: Path
    tags_map: Path
    access_log: bool = True  # False: no log ring (no router spans, no latency histogram)
    max_body_bytes: int = 0  # 0: no limit by Content-Length
    max_connections: int = 4096  # HAProxy needs two descriptors per connection
    traces_per_second: float = 0.0  # new traces recorded a second at most; 0: every one


def milliseconds(seconds: float) -> str:
    """A timeout in HAProxy's syntax."""
    return f"{max(1, round(seconds * 1000))}ms"


LOG_FORMAT = (
    "%b|%ST|%[var(txn.t0)]|%[date]|%[date_us]|%[var(txn.trace)]|%[var(txn.span)]|"
    "%[var(txn.parent)]|%[var(txn.flags)]|%HM|%{+Q}[var(txn.ceid)]|%{+Q}[var(txn.cetype)]|"
    "%{+Q}[var(txn.cesource)]"
)


def render(layout: Layout, backends: Iterable[Backend]) -> str:
    """The whole configuration."""
    lines = [
        "global",
        "    nbthread 1",
        f"    maxconn {layout.max_connections}",
        "    tune.http.maxhdr 100",
        "    hard-stop-after 30s",
        f"    stats socket {layout.admin_socket} mode 600 level admin",
        "    stats timeout 1d",  # the access log's reader keeps its `show events` open
    ]
    if layout.access_log:
        lines.append(f"    log ring@{RING} len 4096 format raw local0")
    lines += [
        "defaults",
        "    mode http",
        "    option http-keep-alive",
        "    option dontlognull",
        "    http-reuse always",
        "    timeout connect 2s",
        "    timeout client 75s",
        "    timeout http-request 60s",
        "    timeout http-keep-alive 75s",
        "    timeout server 300s",
        "    timeout queue 300s",
        "    timeout tunnel 1h",
        "    retries 3",
        "    option redispatch 1",
    ]
    if layout.access_log:
        lines += ["    log global", f'    log-format "{LOG_FORMAT}"']
    lines += [
        "frontend data_plane",
        f"    bind {layout.bind}",
        "    acl ce var(txn.backend) -m beg ce:",
        "    acl health path /health/liveness /health/readiness",
        "    acl body req.hdr(transfer-encoding) -m found",
        "    acl body req.hdr_val(content-length) gt 0",
    ]
    if layout.max_body_bytes:
        lines.append(
            f"    http-request return status 413 {TEXT} string"
            f' "request body larger than {layout.max_body_bytes} bytes"'
            f" if {{ req.hdr_val(content-length) gt {layout.max_body_bytes} }}"
        )
    lines += [
        "    http-request set-var(txn.host) req.hdr(host),lower,word(1,:)",
        "    http-request set-var(txn.bucket) rand(100)",
        f"    http-request set-var(txn.backend) var(txn.host),concat(/,txn.bucket),"
        f"map_str({layout.routes_map})",
        "    http-request set-var(txn.tag) req.hdr(knative-serving-tag)"
        " if { req.hdr(knative-serving-tag) -m found }",
        f"    http-request set-var(txn.tagged) var(txn.host),concat(@,txn.tag),"
        f"map_str({layout.tags_map}) if {{ var(txn.tag) -m found }}",
        "    http-request set-var(txn.backend) var(txn.tagged) if { var(txn.tagged) -m found }",
    ]
    for check in EVENT_CHECKS:
        rule = f"http-request set-var(txn.backend) str({ACTIVATOR})"
        lines.append(f"    {rule} if ce !health {check}")
    lines += [
        "    use_backend %[var(txn.backend)] if { var(txn.backend) -m found }",
        f"    default_backend {ACTIVATOR}",
        f"backend {ACTIVATOR}",
        "    http-request set-log-level silent",  # the gateway records its own span and metrics
        f"    server gateway {layout.activator}",
    ]
    budget = layout.traces_per_second
    if budget > 0:
        # The tracer's TraceBudget, as HAProxy can keep it: requests starting a trace are
        # counted over the last second; past the budget their traceparent says 00 (not
        # sampled), so no hop records any of that trace.
        lines += [
            f"backend {TRACE_BUDGET}",
            "    stick-table type integer size 1 expire 10s store http_req_rate(1s)",
        ]
    for backend in backends:
        lines += _backend(backend, logged=layout.access_log, budget=budget)
    if layout.access_log:
        lines += [
            f"ring {RING}",
            "    format raw",
            "    maxlen 4096",
            f"    size {RING_BYTES}",
        ]
    return "\n".join(lines) + "\n"


def _backend(backend: Backend, *, logged: bool, budget: float = 0.0) -> list[str]:
    cc = backend.container_concurrency
    limits = f" maxconn {cc}" if cc > 0 else ""
    lines = [
        f"backend {backend.name}",
        "    balance roundrobin" if cc == 0 or cc > 3 else "    balance first",
        "    option forwardfor",
        "    http-request set-header x-forwarded-proto http"
        " if !{ req.hdr(x-forwarded-proto) -m found }",
        f'    http-request return status 503 {TEXT} string "pending request queue full"'
        f" if {{ queue() ge {backend.queue_limit} }}",
        f"    timeout server {milliseconds(backend.server_timeout)}",
        f"    timeout queue {milliseconds(backend.timeout_seconds)}",
        f'    http-error status 503 {TEXT} string "revision is not available"',
        f'    http-error status 504 {TEXT} string "request timeout"',
        f'    http-error status 502 {TEXT} string "bad gateway"',
    ]
    # The router span: its parent is the client's traceparent (else ce-traceparent), its
    # trace is the parent's (else a new one); the instance gets the span as its parent.
    lines += [
        "    acl traced req.hdr(traceparent) -m reg ^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "    acl ce_traced req.hdr(ce-traceparent)"
        " -m reg ^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "    http-request set-var(txn.tp) req.hdr(traceparent) if traced",
        "    http-request set-var(txn.tp) req.hdr(ce-traceparent) if !traced ce_traced",
        "    http-request set-var(txn.trace) var(txn.tp),field(2,-) if { var(txn.tp) -m found }",
        "    http-request set-var(txn.parent) var(txn.tp),field(3,-) if { var(txn.tp) -m found }",
        "    http-request set-var(txn.flags) var(txn.tp),field(4,-) if { var(txn.tp) -m found }",
        "    http-request set-var(txn.trace) uuid,regsub(-,,g) if !{ var(txn.tp) -m found }",
        "    http-request set-var(txn.flags) str(01) if !{ var(txn.tp) -m found }",
    ]
    if budget > 0:
        lines += [
            f"    http-request track-sc2 int(1) table {TRACE_BUDGET}"
            " if !{ var(txn.tp) -m found }",
            f"    http-request set-var(txn.flags) str(00) if !{{ var(txn.tp) -m found }}"
            f" {{ sc2_http_req_rate({TRACE_BUDGET}) gt {int(budget)} }}",
        ]
    lines += [
        "    http-request set-var(txn.span) uuid,regsub(-,,g),bytes(16,16)",
        "    http-request set-header traceparent"
        " 00-%[var(txn.trace)]-%[var(txn.span)]-%[var(txn.flags)]",
    ]
    if logged:
        # A log line only for a request whose trace is recorded (the sampled bit of its
        # flags): its router span needs one. The others are counted from `show stat`
        # (ADR 0030): no line to format, ring or read for most requests.
        lines += [
            f"    acl recorded var(txn.flags) -m end {' '.join(SAMPLED_FLAGS)}",
            "    http-request set-log-level silent if !recorded",
            "    http-request set-var(txn.us) date_us if recorded",
            "    http-request set-var(txn.t0) date,mul(1000000),add(txn.us) if recorded",
        ]
        if backend.name.startswith("ce:"):
            lines += [
                "    http-request set-var(txn.ceid) req.hdr(ce-id) if recorded",
                "    http-request set-var(txn.cetype) req.hdr(ce-type) if recorded",
                "    http-request set-var(txn.cesource) req.hdr(ce-source) if recorded",
            ]
    lines.append(f"    server-template slot 1-{backend.slots} 127.0.0.1:1 disabled{limits}")
    return lines
