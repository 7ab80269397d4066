"""What HAProxy routes, from the router's table and the revisions' readiness (pure)."""

from __future__ import annotations

from bulut.serving.kingress.plan import (
    BackendLoad,
    Plan,
    RevisionView,
    assign_slots,
    commands,
    make_plan,
    parse_stat,
)
from bulut.serving.traffic import Split

HOST = "hello.default.localhost"
ROUTES, TAGS = "/s/routes.map", "/s/tags.map"


def hello(*ports: int, **fields: object) -> RevisionView:
    return RevisionView("default", "hello-00001", ready_ports=ports, **fields)  # type: ignore[arg-type]


def table(*targets: tuple[str, int], tags: dict[str, str] | None = None) -> dict[str, Split]:
    return {HOST: Split.of("default", "hello", targets, tags)}


def test_a_ready_revision_gets_every_bucket_of_its_host() -> None:
    plan = make_plan(table(("hello-00001", 100)), [hello(4001)])

    assert plan.servers == {"rev:default:hello-00001": {1: 4001}}
    assert len(plan.routes) == 100
    assert set(plan.routes.values()) == {"rev:default:hello-00001"}


def test_a_revision_without_ready_instances_leaves_its_host_to_the_activator() -> None:
    plan = make_plan(table(("hello-00001", 100)), [hello()])

    assert plan.routes == {}
    assert plan.backends[0].name == "rev:default:hello-00001"  # configured, no slot in use


def test_a_traffic_split_is_a_share_of_the_hundred_buckets() -> None:
    revisions = [hello(4001), RevisionView("default", "hello-00002", ready_ports=(4002,))]

    plan = make_plan(table(("hello-00001", 30), ("hello-00002", 70)), revisions)

    shares = list(plan.routes.values())
    assert shares.count("rev:default:hello-00001") == 30
    assert shares.count("rev:default:hello-00002") == 70


def test_the_share_of_a_revision_at_zero_goes_to_the_activator() -> None:
    revisions = [hello(4001), RevisionView("default", "hello-00002")]

    plan = make_plan(table(("hello-00001", 30), ("hello-00002", 70)), revisions)

    assert len(plan.routes) == 30


def test_event_functions_refused_revisions_and_domain_mappings() -> None:
    events = make_plan(table(("hello-00001", 100)), [hello(4001, validates_events=True)])
    refused = make_plan(table(("hello-00001", 100)), [hello(4001, refused=True)])
    split = table(("hello-00001", 100))[HOST]
    mapped = {"shop.example.com": split.__class__(**{**split.__dict__, "original_host": "x"})}

    assert set(events.routes.values()) == {"ce:default:hello-00001"}
    assert refused.routes == {}  # the gateway answers the NetworkPolicy's 403
    assert make_plan(mapped, [hello(4001)]).routes == {}  # the gateway rewrites the Host


def test_tags_route_only_with_the_feature_on_and_to_the_activator_when_at_zero() -> None:
    revisions = [hello(4001), RevisionView("default", "hello-00002")]
    routes = table(("hello-00001", 100), tags={"new": "hello-00002", "old": "hello-00001"})

    off = make_plan(routes, revisions)
    on = make_plan(routes, revisions, tag_header_routing=True)

    assert off.tags == {}
    assert on.tags == {
        f"{HOST}@new": "activator",
        f"{HOST}@old": "rev:default:hello-00001",
    }


def test_slots_are_kept_and_a_freed_slot_is_not_reused_in_the_same_step() -> None:
    assert assign_slots({}, [4001, 4002], 4) == {1: 4001, 2: 4002}
    assert assign_slots({1: 4001, 2: 4002}, [4002, 4003], 4) == {2: 4002, 3: 4003}
    assert assign_slots({1: 4001}, [4001, 4002, 4003], 2) == {1: 4001, 2: 4002}


def test_commands_make_slots_ready_before_the_maps_point_at_them() -> None:
    new = make_plan(table(("hello-00001", 100)), [hello(4001)])

    lines = commands(None, new, ROUTES, TAGS)

    assert lines[:2] == [
        "set server rev:default:hello-00001/slot1 addr 127.0.0.1 port 4001",
        "set server rev:default:hello-00001/slot1 state ready",
    ]
    assert lines[2] == f"add map {ROUTES} {HOST}/0 rev:default:hello-00001"
    assert len(lines) == 102


def test_commands_remove_map_entries_before_disabling_the_slot() -> None:
    old = make_plan(table(("hello-00001", 100)), [hello(4001)])
    new = make_plan(table(("hello-00001", 100)), [hello()], previous=old)

    lines = commands(old, new, ROUTES, TAGS)

    assert lines[0] == f"del map {ROUTES} {HOST}/0"
    assert lines[-1] == "set server rev:default:hello-00001/slot1 state maint"
    assert len(lines) == 101


def test_nothing_changed_is_no_command() -> None:
    plan = make_plan(table(("hello-00001", 100)), [hello(4001)])

    assert (
        commands(
            plan, make_plan(table(("hello-00001", 100)), [hello(4001)], previous=plan), ROUTES, TAGS
        )
        == []
    )
    assert commands(None, Plan(), ROUTES, TAGS) == []


def test_a_backend_row_of_show_stat_is_its_load() -> None:
    csv = (
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin\n"
        "data_plane,FRONTEND,,,3,9,4096,120,0\n"
        "rev:default:hello-00001,BACKEND,2,5,4,8,,100,0\n"
        "rev:default:hello-00001,slot1,0,0,4,8,,100,0\n"
    )

    assert parse_stat(csv) == {"rev:default:hello-00001": BackendLoad(4, 2, 100)}
    assert parse_stat("Unknown command\n") == {}
    assert BackendLoad(4, 2, 100).in_flight == 6


def test_a_backend_row_of_show_stat_counts_its_responses_per_status_class() -> None:
    csv = (
        "# pxname,svname,qcur,scur,stot,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other\n"
        "rev:default:hello-00001,BACKEND,0,1,40,0,35,0,3,2,0\n"
        "rev:default:hello-00001,slot1,0,1,40,0,35,0,3,2,0\n"
    )

    (load,) = parse_stat(csv).values()

    assert load.answered == {"1xx": 0, "2xx": 35, "3xx": 0, "4xx": 3, "5xx": 2, "other": 0}
