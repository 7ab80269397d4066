"""Host table and weighted choice of a revision."""

from __future__ import annotations

from bulut.serving.traffic import Split, host_table, normalise_host, route_hosts


def a_route() -> dict[str, object]:
    return {
        "metadata": {"name": "hello", "namespace": "team"},
        "status": {
            "url": "http://hello.team.localhost:8080",
            "traffic": [
                {
                    "revisionName": "hello-00001",
                    "percent": 80,
                    "tag": "stable",
                    "url": "http://stable-hello.team.localhost:8080",
                },
                {"revisionName": "hello-00002", "percent": 20, "latestRevision": True},
                {
                    "revisionName": "hello-00003",
                    "percent": 0,
                    "tag": "canary",
                    "url": "http://canary-hello.team.localhost:8080",
                },
            ],
        },
    }


def test_the_route_host_splits_over_targets_with_percent() -> None:
    split = route_hosts(a_route())["hello.team.localhost"]

    assert split.revisions == ("hello-00001", "hello-00002")
    assert split.cumulative == (80, 100)
    assert (split.namespace, split.service) == ("team", "hello")


def test_each_tag_gets_its_own_host_even_at_zero_percent() -> None:
    hosts = route_hosts(a_route())

    assert hosts["stable-hello.team.localhost"].revisions == ("hello-00001",)
    assert hosts["canary-hello.team.localhost"].revisions == ("hello-00003",)


def test_choice_follows_the_cumulative_percents() -> None:
    split = Split.of("ns", "svc", [("a", 80), ("b", 20)])

    assert split.choose(0.0) == "a"
    assert split.choose(0.79) == "a"
    assert split.choose(0.8) == "b"
    assert split.choose(0.999) == "b"


def test_a_split_without_traffic_chooses_nothing() -> None:
    assert Split.of("ns", "svc", [("a", 0)]).choose(0.5) is None


def test_host_headers_are_matched_without_port_and_case() -> None:
    assert normalise_host(b"Hello.Team.LOCALHOST:8080") == "hello.team.localhost"
    assert normalise_host(b"hello.team.localhost") == "hello.team.localhost"
    assert normalise_host(b"[::1]:8080") == "[::1]"


def test_a_route_without_status_serves_no_host() -> None:
    assert host_table([{"metadata": {"name": "x"}}]) == {}


def test_the_route_host_knows_its_tags_for_header_routing() -> None:
    hosts = route_hosts(a_route())

    assert hosts["hello.team.localhost"].tags == {
        "stable": "hello-00001",
        "canary": "hello-00003",
    }
