"""The haproxy.cfg Bulut renders (pure; HAProxy's own check runs in the integration tests)."""

from __future__ import annotations

from pathlib import Path

from bulut.serving.kingress.config import Backend, Layout, render

LAYOUT = Layout(
    bind="fd@7",
    activator="127.0.0.1:9000",
    admin_socket=Path("/s/admin-1.sock"),
    routes_map=Path("/s/routes.map"),
    tags_map=Path("/s/tags.map"),
    max_body_bytes=1024,
)


def section(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(header)
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines)
    )
    return [line.strip() for line in lines[start + 1 : end]]


def test_the_frontend_serves_the_inherited_socket_and_defaults_to_the_gateway() -> None:
    text = render(LAYOUT, [])

    frontend = section(text, "frontend data_plane")
    assert "bind fd@7" in frontend
    assert "default_backend activator" in frontend
    assert section(text, "backend activator")[-1] == "server gateway 127.0.0.1:9000"
    assert "stats socket /s/admin-1.sock mode 600 level admin" in section(text, "global")


def test_container_concurrency_is_each_slots_maxconn_and_first_available_below_four() -> None:
    text = render(LAYOUT, [Backend("rev:default:a-00001", 5, container_concurrency=2)])

    backend = section(text, "backend rev:default:a-00001")
    assert backend[-1] == "server-template slot 1-5 127.0.0.1:1 disabled maxconn 2"
    assert "balance first" in backend


def test_unlimited_concurrency_round_robins_without_maxconn() -> None:
    backend = section(
        render(LAYOUT, [Backend("rev:default:a-00001", 3)]), "backend rev:default:a-00001"
    )

    assert backend[-1] == "server-template slot 1-3 127.0.0.1:1 disabled"
    assert "balance roundrobin" in backend


def test_knatives_timeouts_become_the_backends() -> None:
    plain = Backend("b", 1, timeout_seconds=30)
    first_byte = Backend("b", 1, timeout_seconds=30, response_start_timeout_seconds=5)
    idle = Backend(
        "b", 1, timeout_seconds=30, response_start_timeout_seconds=5, idle_timeout_seconds=2
    )

    assert (plain.server_timeout, first_byte.server_timeout, idle.server_timeout) == (30, 5, 2)
    backend = section(render(LAYOUT, [first_byte]), "backend b")
    assert "timeout server 5000ms" in backend
    assert "timeout queue 30000ms" in backend
    assert 'http-error status 504 content-type text/plain string "request timeout"' in backend


def test_a_body_over_the_limit_is_refused_and_without_the_access_log_nothing_is_logged() -> None:
    quiet = Layout(**{**LAYOUT.__dict__, "access_log": False, "max_body_bytes": 0})

    assert "status 413" in "\n".join(section(render(LAYOUT, []), "frontend data_plane"))
    assert "log ring@access len 4096 format raw local0" in render(LAYOUT, [])
    assert "log-format" not in render(quiet, [])
    assert "status 413" not in render(quiet, [])


def test_only_event_functions_requests_are_checked() -> None:
    frontend = section(render(LAYOUT, []), "frontend data_plane")
    checks = [line for line in frontend if "str(activator)" in line]

    assert checks and all(" if ce !health " in line for line in checks)


def test_past_the_trace_budget_a_new_trace_is_sent_unsampled() -> None:
    budgeted = Layout(**{**LAYOUT.__dict__, "traces_per_second": 100.0})

    backend = section(render(budgeted, [Backend("b", 1)]), "backend b")

    assert (
        "http-request track-sc2 int(1) table trace_budget if !{ var(txn.tp) -m found }" in backend
    )
    assert (
        "http-request set-var(txn.flags) str(00) if !{ var(txn.tp) -m found }"
        " { sc2_http_req_rate(trace_budget) gt 100 }"
    ) in backend
    assert "track-sc2" not in render(LAYOUT, [Backend("b", 1)])  # 0: every trace recorded


def test_a_request_is_logged_only_when_its_trace_is_recorded() -> None:
    backend = section(
        render(LAYOUT, [Backend("ce:default:e-00001", 1)]), "backend ce:default:e-00001"
    )

    assert "acl recorded var(txn.flags) -m end 1 3 5 7 9 b d f" in backend
    assert "http-request set-log-level silent if !recorded" in backend
    assert "http-request set-var(txn.ceid) req.hdr(ce-id) if recorded" in backend
