"""`bulut source apiserver|container`, `bulut domain` and `bulut jobsink` against one real
control plane (uvicorn on a loopback port, shared by the module): kn's messages, columns and
documents, and bad flags answered with exit 2 and one line naming the flag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulut.settings import Settings
from tests.integration.test_controlplane_cli import Bulut
from tests.support.controlplane import serve
from tests.support.network import free_port


@pytest.fixture(scope="module")
def bulut(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bulut]:
    """`bulut` against one control plane for the module, with no kubeconfig context around."""
    tmp_path = tmp_path_factory.mktemp("cli")
    port = free_port()
    settings = Settings(state_dir=tmp_path / "state", control_port=port, data_port=8080)
    env = {"BULUT_CONTROL_PORT": str(port), "COLUMNS": "250"}
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    with serve(settings):
        yield Bulut(env)


def stored(bulut: Bulut, *command: str) -> dict[str, object]:
    described = bulut(*command, "-o", "json")
    assert described.code == 0, described.stderr
    document: dict[str, object] = json.loads(described.stdout)
    return document


def test_an_apiserver_source_is_created_listed_updated_and_deleted_as_kn(bulut: Bulut) -> None:
    created = bulut(
        "source", "apiserver", "create", "audit-watch", "--resource", "Event:v1",
        "--resource", "ConfigMap:v1:app=shop,tier=web", "--sink", "ksvc:audit",
        "--mode", "Resource", "--service-account", "watcher", "--ce-override", "team=shop",
    )  # fmt: skip
    assert created.code == 0, created.stderr
    assert created.stdout.strip() == (
        "ApiServer source 'audit-watch' successfully created in namespace 'default'."
    )
    listing = bulut("source", "apiserver", "list").stdout.splitlines()
    assert listing[0].split() == [
        "NAME", "RESOURCES", "SINK", "AGE", "CONDITIONS", "READY", "REASON",
    ]  # fmt: skip
    assert listing[1].split()[:3] == [
        "audit-watch",
        "Event:v1,ConfigMap:v1:app=shop,tier=web",
        "ksvc:audit",
    ]
    spec = stored(bulut, "source", "apiserver", "describe", "audit-watch")["spec"]
    shop = {"matchLabels": {"app": "shop", "tier": "web"}}
    audit = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "audit"}
    assert spec == {
        "resources": [
            {"apiVersion": "v1", "kind": "Event"},
            {"apiVersion": "v1", "kind": "ConfigMap", "selector": shop},
        ],
        "mode": "Resource",
        "serviceAccountName": "watcher",
        "sink": {"ref": audit},
        "ceOverrides": {"extensions": {"team": "shop"}},
    }

    updated = bulut(
        "source", "apiserver", "update", "audit-watch", "--mode", "Reference",
        "--ce-override", "team-",
    )  # fmt: skip
    assert updated.code == 0, updated.stderr
    spec = stored(bulut, "source", "apiserver", "describe", "audit-watch")["spec"]
    assert isinstance(spec, dict) and spec["mode"] == "Reference" and "ceOverrides" not in spec
    assert len(spec["resources"]) == 2  # what --resource did not name stays

    deleted = bulut("source", "apiserver", "delete", "audit-watch")
    assert deleted.stdout.strip() == (
        "ApiServer source 'audit-watch' successfully deleted in namespace 'default'."
    )
    assert "No apiserversources found." in bulut("source", "apiserver", "list").stdout


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--resource", "Event", "--sink", "ksvc:audit"], "--resource"),
        (["--resource", "Event:v1:app", "--sink", "ksvc:audit"], "--resource"),
        (["--resource", "Event:v1", "--sink", "ksvc:audit", "--mode", "Full"], "--mode"),
        (["--resource", "Event:v1"], "--sink"),
        (["--resource", "Event:v1", "--sink", "bucket:x"], "--sink"),
        (["--resource", "Event:v1", "--sink", "ksvc:a", "--ce-override", "team"], "--ce-override"),
    ],
)
def test_a_bad_apiserver_flag_exits_2_naming_it(bulut: Bulut, flags: list[str], flag: str) -> None:
    outcome = bulut("source", "apiserver", "create", "bad", *flags)
    assert outcome.code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and flag in outcome.stderr


def test_a_container_source_runs_an_image_or_a_local_function_folder(
    bulut: Bulut, tmp_path: Path
) -> None:
    folder = tmp_path / "beats"
    folder.mkdir()
    (folder / "func.yaml").write_text("name: heartbeats\n")
    by_image = bulut(
        "source", "container", "create", "pinger", "--image", "ghcr.io/acme/pinger:1",
        "--sink", "broker:default", "--env", "EVERY=5", "--arg", "--verbose",
    )  # fmt: skip
    by_folder = bulut(
        "source", "container", "create", "beats", "--function", str(folder),
        "--sink", "jobsink:mail",
    )  # fmt: skip
    assert (by_image.code, by_folder.code) == (0, 0), by_image.stderr + by_folder.stderr

    listing = bulut("source", "container", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "IMAGE", "SINK", "AGE", "CONDITIONS", "READY", "REASON"]
    rows = {line.split()[0]: line.split()[1:3] for line in listing[1:]}
    assert rows == {
        "beats": ["heartbeats", "jobsink:mail"],
        "pinger": ["ghcr.io/acme/pinger:1", "broker:default"],
    }
    template = stored(bulut, "source", "container", "describe", "beats")["spec"]["template"]  # type: ignore[index]
    assert template["metadata"]["annotations"]["bulut.dev/function-path"] == str(folder)
    pinger = stored(bulut, "source", "container", "describe", "pinger")["spec"]["template"]  # type: ignore[index]
    container = pinger["spec"]["containers"][0]
    assert (container["env"], container["args"]) == (
        [{"name": "EVERY", "value": "5"}],
        ["--verbose"],
    )

    assert (
        bulut("source", "container", "update", "pinger", "--image", "ghcr.io/acme/pinger:2").code
        == 0
    )
    assert "ghcr.io/acme/pinger:2" in bulut("source", "container", "list").stdout
    for name in ("pinger", "beats"):
        assert bulut("source", "container", "delete", name).code == 0

    missing = bulut("source", "container", "create", "x", "--sink", "ksvc:a")
    assert missing.code == 2 and "--image" in missing.stderr


def test_a_domain_is_mapped_listed_updated_and_deleted_as_kn(bulut: Bulut) -> None:
    created = bulut(
        "domain", "create", "shop.example.com", "--ref", "ksvc:storefront", "--tls", "shop-tls"
    )
    assert created.code == 0, created.stderr
    assert created.stdout.strip() == (
        "Domain mapping 'shop.example.com' successfully created in namespace 'default'."
    )
    listing = bulut("domain", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "URL", "READY", "KSVC"]
    row = listing[1].split()
    assert (row[0], row[1], row[-1]) == (
        "shop.example.com",
        "https://shop.example.com",
        "storefront",
    )

    assert (
        bulut("domain", "update", "shop.example.com", "--ref", "kroute:web", "--tls", "").code == 0
    )
    spec = stored(bulut, "domain", "describe", "shop.example.com")["spec"]
    route = {"apiVersion": "serving.knative.dev/v1", "kind": "Route", "name": "web"}
    assert spec == {"ref": {**route, "namespace": "default"}}  # defaulted as Knative does

    assert bulut("domain", "delete", "shop.example.com").code == 0
    assert "No domainmappings found." in bulut("domain", "list").stdout
    bad = bulut("domain", "create", "x.example.com", "--ref", "broker:default")
    assert bad.code == 2 and "--ref" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_a_jobsink_is_created_from_an_image_and_takes_events_as_a_sink(bulut: Bulut) -> None:
    created = bulut(
        "jobsink", "create", "mail", "--image", "ghcr.io/acme/mailer:1", "--env", "FROM=shop",
        "--backoff-limit", "2",
    )  # fmt: skip
    assert created.code == 0, created.stderr
    job = stored(bulut, "jobsink", "describe", "mail")["spec"]["job"]["spec"]  # type: ignore[index]
    assert job["backoffLimit"] == 2
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert job["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/mailer:1"
    listing = bulut("jobsink", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "URL", "AGE", "CONDITIONS", "READY", "REASON"]
    assert listing[1].split()[:2] == [
        "mail",
        "http://job-sink.knative-eventing.localhost:8080/default/mail",
    ]
    pinged = bulut("source", "ping", "create", "nightly", "--sink", "jobsink:mail")
    assert pinged.code == 0, pinged.stderr
    assert bulut("jobsink", "delete", "mail").code == 0
    both = bulut("jobsink", "create", "x", "--image", "a", "--function", ".")
    assert both.code == 2 and "not both" in both.stderr
