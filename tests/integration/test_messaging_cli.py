"""`bulut channel|subscription|sequence|parallel|eventtype` and `bulut events types`
against a real control plane on uvicorn: kn's tables, documents and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulut.settings import Settings
from tests.integration.test_controlplane_cli import Bulut
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def bulut(tmp_path: Path) -> Iterator[Bulut]:
    """`bulut` against a control plane of its own, with no kubeconfig context around."""
    port = free_port()
    settings = Settings(state_dir=tmp_path / "state", control_port=port, data_port=8080)
    env = {"BULUT_CONTROL_PORT": str(port), "COLUMNS": "200"}
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    with serve(settings):
        yield Bulut(env)


def test_channel_create_list_describe_delete_as_kn(bulut: Bulut) -> None:
    created = bulut("channel", "create", "orders")
    assert created.code == 0, created.stderr
    assert created.stdout.strip() == "Channel 'orders' successfully created in namespace 'default'."
    listing = bulut("channel", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "TYPE", "URL", "AGE", "READY", "REASON"]
    row = listing[1].split()
    assert row[:3] == [
        "orders",
        "InMemoryChannel",
        "http://orders-kn-channel.default.localhost:8080",
    ]
    assert row[4] == "True"
    described = bulut("channel", "describe", "orders").stdout
    assert "http://orders-kn-channel.default.localhost:8080" in described
    assert bulut("channel", "list", "-A").stdout.split()[0] == "NAMESPACE"
    assert bulut("channel", "delete", "orders").code == 0
    assert "No channels found." in bulut("channel", "list").stdout


def test_subscription_create_and_list_as_kn(bulut: Bulut) -> None:
    bulut("channel", "create", "orders")
    created = bulut(
        "subscription", "create", "audit", "--channel", "orders",
        "--sink", "http://audit.example.com/", "--sink-dead-letter", "http://dls.example.com/",
    )  # fmt: skip
    assert created.code == 0, created.stderr
    listing = bulut("subscription", "list").stdout.splitlines()
    assert listing[0].split() == [
        "NAME", "CHANNEL", "SUBSCRIBER", "REPLY", "DEAD", "LETTER", "SINK", "READY", "REASON",
    ]  # fmt: skip
    assert listing[1].split() == [
        "audit",
        "Channel:orders",
        "http://audit.example.com/",
        "http://dls.example.com/",
        "True",
    ]
    stored = json.loads(bulut("subscription", "describe", "audit", "-o", "json").stdout)
    assert stored["status"]["physicalSubscription"]["subscriberUri"] == "http://audit.example.com/"
    updated = bulut(
        "subscription", "update", "audit", "--sink", "http://audit2.example.com/",
        "--sink-reply", "http://reply.example.com/",
    )  # fmt: skip
    assert updated.code == 0, updated.stderr
    assert updated.stdout.strip() == "Subscription 'audit' updated in namespace 'default'."
    stored = json.loads(bulut("subscription", "describe", "audit", "-o", "json").stdout)
    physical = stored["status"]["physicalSubscription"]
    assert physical["subscriberUri"] == "http://audit2.example.com/"
    assert physical["replyUri"] == "http://reply.example.com/"
    assert physical["deadLetterSinkUri"] == "http://dls.example.com/"
    moved = bulut("subscription", "update", "audit", "--channel", "other")
    assert moved.code == 2 and "spec.channel" in moved.stderr, moved.stderr


def test_channel_list_types_shows_the_served_channel_kinds_as_kn(bulut: Bulut) -> None:
    listing = bulut("channel", "list-types")
    assert listing.code == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "NAME", "DESCRIPTION"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows["InMemoryChannel"] == "inmemorychannels.messaging.knative.dev"
    assert "Channel" not in rows


def test_sequence_and_parallel_create_their_flows(bulut: Bulut) -> None:
    made = bulut(
        "sequence", "create", "enrich", "--step", "http://a.example.com/",
        "--step", "http://b.example.com/", "--reply", "http://r.example.com/",
    )  # fmt: skip
    assert made.code == 0, made.stderr
    sequences = bulut("sequence", "list").stdout
    assert "enrich" in sequences and "enrich-kn-sequence-0-kn-channel" in sequences
    par = bulut(
        "parallel", "create", "fan", "--branch", "http://s.example.com/,filter=http://f.example.com/",
    )  # fmt: skip
    assert par.code == 0, par.stderr
    subs = bulut("subscription", "list").stdout
    assert "fan-kn-parallel-filter-0" in subs and "enrich-kn-sequence-1" in subs
    assert bulut("sequence", "delete", "enrich").code == 0
    assert "enrich-kn-sequence" not in bulut("subscription", "list").stdout


def test_eventtypes_are_listed_by_eventtype_list_and_events_types(bulut: Bulut) -> None:
    made = bulut(
        "eventtype", "create", "order-created", "--type", "com.example.order.created",
        "--source", "/orders", "--broker", "default",
    )  # fmt: skip
    assert made.code == 0, made.stderr
    for listing in (bulut("eventtype", "list").stdout, bulut("events", "types").stdout):
        lines = listing.splitlines()
        assert lines[0].split() == ["NAME", "TYPE", "SOURCE", "REFERENCE", "AGE", "READY"]
        cells = lines[1].split()
        assert cells[:4] == [
            "order-created",
            "com.example.order.created",
            "/orders",
            "Broker:default",
        ]
        assert cells[-1] == "False"  # the broker does not exist: ReferenceExists False


def test_bad_flags_exit_2_naming_the_flag(bulut: Bulut) -> None:
    bad_sink = bulut("subscription", "create", "s", "--channel", "orders", "--sink", "nope:x")
    assert bad_sink.code == 2 and "--sink" in bad_sink.stderr
    bad_channel = bulut("subscription", "create", "s", "--channel", "a:b:c", "--sink", "x")
    assert bad_channel.code == 2 and "--channel" in bad_channel.stderr
    bad_type = bulut("channel", "create", "c", "--type", "kafka")
    assert bad_type.code == 2 and "--type" in bad_type.stderr
    no_steps = bulut("sequence", "create", "s", "--step", "nope:x")
    assert no_steps.code == 2 and "--step" in no_steps.stderr
