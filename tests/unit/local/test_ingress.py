"""Which ingress `bulut up` runs: the one asked for, or the gateway with the reason."""

from __future__ import annotations

from bulut.local.ingress import choose_ingress
from bulut.settings import Settings


def test_the_gateway_unless_haproxy_is_asked_for() -> None:
    assert choose_ingress(Settings(), "/usr/sbin/haproxy") == ("gateway", "")


def test_haproxy_when_asked_for_and_installed() -> None:
    assert choose_ingress(Settings(ingress="haproxy"), "/usr/sbin/haproxy") == ("haproxy", "")


def test_the_gateway_with_one_line_why_when_haproxy_cannot_serve() -> None:
    missing = choose_ingress(Settings(ingress="haproxy"), None)
    guarded = choose_ingress(Settings(ingress="haproxy", rate_limit="10/s"), "/usr/sbin/haproxy")

    assert missing == ("gateway", "haproxy is not installed (apt-get install haproxy)")
    assert guarded == ("gateway", "auth and rate limits are enforced by the gateway only")
