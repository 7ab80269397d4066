"""The post-receive hook posts to the sync webhook in the background and never fails a push."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

from bulut.gitops.hooks import install_hook


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posted = threading.Event()
        self.paths: list[str] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        self.send_response(202)
        self.end_headers()
        self.server.posted.set()

    def log_message(self, *args: object) -> None:
        pass


def test_a_push_posts_to_the_apps_sync_url(tmp_path: Path) -> None:
    bare = tmp_path / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = install_hook(bare, f"http://127.0.0.1:{server.server_port}/gitops/shop/sync")
        completed = subprocess.run([str(hook)], input=b"old new refs/heads/main\n", check=False)
        assert completed.returncode == 0
        assert server.posted.wait(10)
        assert server.paths == ["/gitops/shop/sync"]
    finally:
        server.shutdown()


def test_a_push_still_succeeds_when_the_platform_is_down(tmp_path: Path) -> None:
    bare = tmp_path / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    hook = install_hook(bare, "http://127.0.0.1:9/gitops/shop/sync")
    completed = subprocess.run([str(hook)], input=b"", capture_output=True, check=False)
    assert completed.returncode == 0
    assert completed.stdout == b""
