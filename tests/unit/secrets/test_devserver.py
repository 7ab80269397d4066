"""The persistent OpenBao's configuration and log scrubbing (no server needed)."""

from __future__ import annotations

from pathlib import Path

from bulut.secrets.devserver import DevServer, render_config, scrub


def test_the_persistent_config_uses_raft_on_loopback_without_tls() -> None:
    config = render_config(Path("/s/vault/data"), "127.0.0.1", 8200, 8201)
    assert 'storage "raft"' in config and 'path = "/s/vault/data"' in config
    assert 'address = "127.0.0.1:8200"' in config and "tls_disable = true" in config
    assert 'api_addr = "http://127.0.0.1:8200"' in config
    assert 'cluster_addr = "http://127.0.0.1:8201"' in config


def test_scrub_hides_every_secret_it_is_given() -> None:
    assert scrub("token s.abc key K1", "s.abc", "K1") == "token <redacted> key <redacted>"
    assert scrub("nothing", "") == "nothing"


def test_the_server_is_persistent_by_default_and_keeps_its_files_in_the_state_dir() -> None:
    server = DevServer(Path("/s/vault"))
    assert server.persistent
    assert server.init_path == Path("/s/vault/init.json")
    assert server.data_dir == Path("/s/vault/data")
    assert server.token not in repr(server)
