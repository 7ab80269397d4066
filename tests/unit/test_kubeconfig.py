"""The CLI's current context: written as kubectl would keep it, read with the right precedence."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bulut.errors import ConfigError, InvalidInputError
from bulut.kubeconfig import (
    DATA_PLANE,
    Platform,
    kubeconfig_paths,
    load_context,
    merged,
    platform_of,
    resolve,
    write,
)
from bulut.settings import Settings

KUBECTL = str(Path(sys.executable).parent / "kubectl")
LOCAL = Platform(
    server="http://127.0.0.1:38081", data_url="http://127.0.0.1:38080", namespace="shop-dev"
)
CLUSTER = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "prod", "cluster": {"server": "https://api.prod.example:6443"}}],
    "users": [{"name": "admin", "user": {"token": "sha256~prod"}}],
    "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "admin"}}],
    "current-context": "prod",
}


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    return tmp_path / "kube" / "config"


@pytest.fixture
def defaults(clean_environ: None) -> Settings:
    return Settings()


def test_the_written_context_is_current_and_kubectl_reads_it(kubeconfig: Path) -> None:
    written = write(LOCAL, paths=[kubeconfig])

    assert written == kubeconfig
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    shown = subprocess.run(
        [KUBECTL, "config", "get-contexts", "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert shown.splitlines()[1].split() == ["*", "bulut", "bulut", "bulut", "shop-dev"]


def test_merging_keeps_the_other_contexts_and_replaces_our_own(kubeconfig: Path) -> None:
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(yaml.safe_dump(CLUSTER))
    write(Platform(server="http://127.0.0.1:1"), paths=[kubeconfig])

    write(LOCAL, paths=[kubeconfig])

    document = yaml.safe_load(kubeconfig.read_text())
    assert [c["name"] for c in document["contexts"]] == ["prod", "bulut"]
    assert [c["cluster"]["server"] for c in document["clusters"]] == [
        "https://api.prod.example:6443",
        "http://127.0.0.1:38081",
    ]
    assert document["current-context"] == "bulut"


def test_without_switching_the_current_context_stays(kubeconfig: Path) -> None:
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(yaml.safe_dump(CLUSTER))

    write(LOCAL, paths=[kubeconfig], switch=False)

    assert yaml.safe_load(kubeconfig.read_text())["current-context"] == "prod"


def test_a_context_kubectl_rewrote_is_still_read_with_its_data_plane(kubeconfig: Path) -> None:
    write(LOCAL, paths=[kubeconfig])
    subprocess.run(
        [KUBECTL, "config", "set-context", "--current", "--namespace=team-a",
         "--kubeconfig", str(kubeconfig)],
        capture_output=True, check=True,
    )  # fmt: skip

    context = load_context(paths=[kubeconfig])

    assert context is not None and context.is_bulut
    assert context.platform == Platform(
        server="http://127.0.0.1:38081", data_url="http://127.0.0.1:38080", namespace="team-a"
    )


def test_the_context_gives_commands_their_ports_and_namespace(
    kubeconfig: Path, defaults: Settings
) -> None:
    write(LOCAL, paths=[kubeconfig])

    settings = resolve(defaults, environ={}, paths=[kubeconfig])

    assert settings.control_url == "http://127.0.0.1:38081"
    assert settings.data_url == "http://127.0.0.1:38080"
    assert settings.namespace == "shop-dev"
    assert settings.context == "bulut"


def test_flags_beat_the_context(kubeconfig: Path, defaults: Settings) -> None:
    write(LOCAL, paths=[kubeconfig])

    settings = resolve(
        defaults, server="http://127.0.0.1:9", namespace="team-b", environ={}, paths=[kubeconfig]
    )

    assert (settings.control_url, settings.namespace) == ("http://127.0.0.1:9", "team-b")


def test_address_variables_in_the_environment_beat_the_current_context(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch, clean_environ: None
) -> None:
    write(LOCAL, paths=[kubeconfig])
    monkeypatch.setenv("BULUT_CONTROL_PORT", "21799")

    settings = resolve(Settings(), environ={"BULUT_CONTROL_PORT": "21799"}, paths=[kubeconfig])

    assert settings.control_url == "http://127.0.0.1:21799"
    assert settings.namespace == "shop-dev"  # the address came from the env, not the namespace


def test_a_named_context_beats_the_environment(kubeconfig: Path, defaults: Settings) -> None:
    write(LOCAL, paths=[kubeconfig], switch=False)

    settings = resolve(
        defaults, context="bulut", environ={"BULUT_CONTROL_PORT": "1"}, paths=[kubeconfig]
    )

    assert settings.control_url == "http://127.0.0.1:38081"


def test_a_current_context_for_a_real_cluster_leaves_the_defaults(
    kubeconfig: Path, defaults: Settings
) -> None:
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(yaml.safe_dump(CLUSTER))

    settings = resolve(defaults, environ={}, paths=[kubeconfig])

    assert settings.control_url == "http://127.0.0.1:8081"
    assert settings.token is None


def test_no_kubeconfig_leaves_the_defaults(kubeconfig: Path, defaults: Settings) -> None:
    assert resolve(defaults, environ={}, paths=[kubeconfig]) == defaults


def test_a_missing_named_context_says_how_to_make_it(kubeconfig: Path, defaults: Settings) -> None:
    with pytest.raises(ConfigError, match=r"no context 'bulut'.*bulut kubeconfig"):
        resolve(defaults, context="bulut", environ={}, paths=[kubeconfig])


def test_a_server_that_is_not_a_url_is_refused(defaults: Settings, kubeconfig: Path) -> None:
    with pytest.raises(InvalidInputError, match="--server 'localhost:8081'"):
        resolve(defaults, server="localhost:8081", environ={}, paths=[kubeconfig])


def test_off_loopback_the_token_and_ca_of_the_control_plane_are_embedded(
    tmp_path: Path, kubeconfig: Path, defaults: Settings
) -> None:
    state = tmp_path / "state"
    (state / "controlplane").mkdir(parents=True)
    (state / "controlplane" / "token").write_text("s3cret\n")
    (state / "controlplane" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nx\n")
    settings = defaults.model_copy(update={"host": "10.1.2.3", "state_dir": state})

    write(platform_of(settings, "shop-dev"), paths=[kubeconfig])

    document = yaml.safe_load(kubeconfig.read_text())
    cluster = document["clusters"][0]["cluster"]
    assert cluster["server"] == "https://10.1.2.3:8081"
    assert base64.b64decode(cluster["certificate-authority-data"]).startswith(b"-----BEGIN")
    assert document["users"][0]["user"] == {"token": "s3cret"}
    assert cluster["extensions"] == [
        {"name": DATA_PLANE, "extension": {"url": "http://10.1.2.3:8080"}}
    ]
    read = resolve(defaults, environ={}, paths=[kubeconfig])
    assert (read.token, read.control_url) == ("s3cret", "https://10.1.2.3:8081")


def test_on_loopback_no_credentials_are_written(tmp_path: Path, defaults: Settings) -> None:
    state = tmp_path / "state"
    (state / "controlplane").mkdir(parents=True)
    (state / "controlplane" / "token").write_text("stale")
    platform = platform_of(defaults.model_copy(update={"state_dir": state}))

    assert (platform.server, platform.token) == ("http://127.0.0.1:8081", None)


def test_kubeconfig_is_a_path_list_like_kubectl_s(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"

    assert kubeconfig_paths({"KUBECONFIG": f"{first}:{second}"}) == [first, second]
    assert kubeconfig_paths({"HOME": str(tmp_path)}) == [tmp_path / ".kube" / "config"]


def test_a_new_context_goes_to_the_first_existing_file_of_the_list(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    second.write_text(yaml.safe_dump(CLUSTER))

    assert write(LOCAL, paths=[first, second]) == second
    assert load_context(paths=[first, second]) is not None


def test_merge_is_pure() -> None:
    before = yaml.safe_load(yaml.safe_dump(CLUSTER))

    merged(before, LOCAL)

    assert before == CLUSTER
