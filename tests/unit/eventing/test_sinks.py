"""Sink URLs resolve to the data plane (Host kept) or to a broker of this runtime."""

from __future__ import annotations

import pytest

from bulut.eventing.sinks import resolve_sink


def test_a_service_url_goes_to_the_data_plane_with_its_host_header() -> None:
    target = resolve_sink("http://orders.shop.localhost:8080/", host="127.0.0.1", data_port=8080)
    assert (target.connect_host, target.connect_port) == ("127.0.0.1", 8080)
    assert target.host_header == "orders.shop.localhost:8080"
    assert target.service == ("shop", "orders")
    assert target.broker is None


def test_a_service_url_without_port_still_goes_to_the_data_plane() -> None:
    target = resolve_sink("http://orders.shop.localhost/x?y=1", host="127.0.0.1", data_port=9090)
    assert (target.connect_port, target.host_header, target.path) == (
        9090,
        "orders.shop.localhost",
        "/x?y=1",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/default/default",
        "http://localhost:8080/default/default",
        "http://broker-ingress.knative-eventing.svc.cluster.local/default/default",
    ],
)
def test_a_broker_url_of_this_data_plane_is_recognised(url: str) -> None:
    target = resolve_sink(url, host="127.0.0.1", data_port=8080)
    assert target.broker == ("default", "default")


def test_any_other_url_is_reached_directly() -> None:
    target = resolve_sink("http://127.0.0.1:5555/hook", host="127.0.0.1", data_port=8080)
    assert (target.connect_host, target.connect_port, target.path) == ("127.0.0.1", 5555, "/hook")
    assert target.broker is None and target.service is None


@pytest.mark.parametrize("url", ["https://x/", "/relative", "mailto:a@b"])
def test_refuses_what_it_cannot_reach(url: str) -> None:
    with pytest.raises(ValueError, match="absolute http URL"):
        resolve_sink(url, host="127.0.0.1", data_port=8080)
