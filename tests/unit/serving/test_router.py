"""The router picks a revision by Host, by percent, and by Knative-Serving-Tag when enabled."""

from __future__ import annotations

from bulut.serving.router import Router
from bulut.serving.traffic import Split


def a_router() -> Router:
    router = Router({})
    router.table = {
        "hello.team.localhost": Split.of(
            "team", "hello", [("hello-00002", 100)], {"canary": "hello-00003"}
        )
    }
    return router


def test_a_host_is_found_with_any_port_and_case() -> None:
    router = a_router()

    split = router.split_for(b"Hello.Team.Localhost:8080")

    assert split is not None
    assert split.revisions == ("hello-00002",)


def test_an_unknown_host_has_no_split_unless_there_is_a_default() -> None:
    router = a_router()
    missing = router.split_for(b"other.team.localhost")
    router.default = Split.of("default", "local", [("local-1", 100)])

    assert missing is None
    assert router.split_for(b"other.team.localhost") is router.default


def test_a_new_table_replaces_what_was_remembered_for_a_host() -> None:
    router = a_router()
    router.split_for(b"hello.team.localhost")

    router.table = {"hello.team.localhost": Split.of("team", "hello", [("hello-00009", 100)])}

    split = router.split_for(b"hello.team.localhost")
    assert split is not None
    assert split.revisions == ("hello-00009",)


def test_the_tag_header_is_ignored_until_the_feature_is_enabled() -> None:
    router = a_router()
    split = router.split_for(b"hello.team.localhost")
    assert split is not None

    before = router.choose(split, [(b"knative-serving-tag", b"canary")])
    router.tag_header_routing = True

    assert before == "hello-00002"
    assert router.choose(split, [(b"knative-serving-tag", b"canary")]) == "hello-00003"
    assert router.choose(split, [(b"knative-serving-tag", b"missing")]) == "hello-00002"
    assert router.choose(split, []) == "hello-00002"
