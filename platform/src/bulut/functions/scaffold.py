"""`bulut func create`: a new Python function project, laid out as `kn func create` lays it out.

Layout (knative/func's Python templates, func-python middleware)::

    <name>/
      func.yaml            specVersion, name, runtime python, created (+ invoke: cloudevent)
      pyproject.toml       project "function", with func-python's test tools
      function/__init__.py re-exports new()
      function/func.py     new() -> an object with async handle(scope, receive, send) and
                           start/stop/alive/ready
      tests/test_func.py   drives handle() the way the middleware does
      README.md, .gitignore, .funcignore

The text below is Bulut's own; only the layout and the contract follow kn func, so
`kn func deploy` builds the project unchanged.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bulut.errors import InvalidInputError

SPEC_VERSION = "0.36.0"
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


class Template(StrEnum):
    """The two Python templates of kn func."""

    CLOUDEVENTS = "cloudevents"
    HTTP = "http"


@dataclass(frozen=True)
class Created:
    """What `create` wrote."""

    root: Path
    files: tuple[Path, ...]


def validate_name(name: str) -> None:
    """A function name becomes a Knative Service name: a DNS-1035 label."""
    if not _NAME.match(name):
        raise InvalidInputError(
            f"function name {name!r} must start with a letter and hold only lower-case "
            "letters, digits and '-' (at most 63): it names the Knative Service",
            field="NAME",
        )


def create(
    name: str,
    *,
    language: str = "python",
    template: Template = Template.CLOUDEVENTS,
    path: Path | None = None,
    now: datetime.datetime | None = None,
) -> Created:
    """Write a new project at ``path`` (default ``./<name>``); a non-empty folder is refused."""
    validate_name(name)
    if language != "python":
        raise InvalidInputError(
            f"language {language!r} is not supported: Bulut runs Python functions (-l python)",
            field="--language",
        )
    root = path if path is not None else Path(name)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InvalidInputError(
            f"{root} exists and is not empty: choose another --path", field="--path"
        )
    created = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
    files = {
        "func.yaml": _func_yaml(name, template, created),
        "pyproject.toml": _PYPROJECT.format(name=name, template=template.value),
        "function/__init__.py": _INIT,
        "function/func.py": _CLOUDEVENTS if template is Template.CLOUDEVENTS else _HTTP,
        "tests/test_func.py": (
            _CLOUDEVENTS_TEST if template is Template.CLOUDEVENTS else _HTTP_TEST
        ),
        "README.md": _README.format(name=name, template=template.value),
        ".gitignore": "__pycache__/\n.venv/\n.pytest_cache/\n",
        ".funcignore": ".venv\n__pycache__\n.pytest_cache\n",
    }
    written: list[Path] = []
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return Created(root=root, files=tuple(written))


def _func_yaml(name: str, template: Template, created: datetime.datetime) -> str:
    lines = [
        f"specVersion: {SPEC_VERSION}",
        f"name: {name}",
        "runtime: python",
        f'created: "{created.isoformat().replace("+00:00", "Z")}"',
    ]
    if template is Template.CLOUDEVENTS:
        lines.append("invoke: cloudevent")
    return "\n".join(lines) + "\n"


_PYPROJECT = """\
[project]
name = "function"
description = "{name}: a Knative function ({template} template)"
version = "0.1.0"
requires-python = ">=3.10"
readme = "README.md"
license = "MIT"
dependencies = [
  "httpx",
  "pytest",
  "pytest-asyncio",
  "cloudevents>=2,<3",
]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["function"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""

_INIT = """\
from .func import new

__all__ = ["new"]
"""

_CLOUDEVENTS = '''\
"""A function that receives CloudEvents and answers each with one."""

import logging

from cloudevents.core.v1.event import CloudEvent


def new():
    """Called once per instance: return the object that serves requests."""
    return Function()


class Function:
    def start(self, cfg):
        """Called when an instance starts; cfg holds the environment (K_SERVICE, ...)."""
        self.revision = cfg.get("K_REVISION", "")
        logging.info("function started (revision %s)", self.revision)

    def stop(self):
        """Called when the instance stops."""

    def alive(self):
        return True, "alive"

    def ready(self):
        return True, "ready"

    async def handle(self, scope, receive, send):
        """One CloudEvent in scope["event"]; answer with send(event), or send nothing."""
        event = scope["event"]
        reply = CloudEvent(
            attributes={
                "type": "function.response",
                "source": "function",
                "id": f"response-{event.get_id()}",
            },
            data={"received": event.get_data()},
        )
        await send(reply)
'''

_HTTP = '''\
"""A function that answers HTTP requests (ASGI)."""

import json
import logging


def new():
    """Called once per instance: return the object that serves requests."""
    return Function()


class Function:
    def start(self, cfg):
        """Called when an instance starts; cfg holds the environment (K_SERVICE, ...)."""
        logging.info("function started (revision %s)", cfg.get("K_REVISION", ""))

    def stop(self):
        """Called when the instance stops."""

    def alive(self):
        return True, "alive"

    def ready(self):
        return True, "ready"

    async def handle(self, scope, receive, send):
        """An ASGI request: read the body, answer JSON."""
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = json.dumps({"method": scope["method"], "path": scope["path"], "size": len(body)})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [[b"content-type", b"application/json"]],
            }
        )
        await send({"type": "http.response.body", "body": answer.encode()})
'''

_CLOUDEVENTS_TEST = '''\
"""The function answers a CloudEvent with a function.response event."""

from cloudevents.core.v1.event import CloudEvent

from function import new


async def test_an_event_is_answered_with_its_data():
    function = new()
    function.start({"K_REVISION": "test-00001"})
    event = CloudEvent(
        attributes={"type": "com.example.test", "source": "/tests", "id": "1"},
        data={"hello": "world"},
    )
    sent = []

    async def send(reply):
        sent.append(reply)

    await function.handle({"event": event}, None, send)

    [reply] = sent
    assert reply.get_type() == "function.response"
    assert reply.get_data() == {"received": {"hello": "world"}}
'''

_HTTP_TEST = '''\
"""The function answers a request with JSON describing it."""

import json

from function import new


async def test_a_request_is_answered_with_json():
    function = new()
    function.start({})
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"hello", "more_body": False}

    async def send(message):
        messages.append(message)

    await function.handle({"method": "POST", "path": "/"}, receive, send)

    assert messages[0]["status"] == 200
    assert json.loads(messages[1]["body"]) == {"method": "POST", "path": "/", "size": 5}
'''

_README = """\
# {name}

A Knative function ({template} template), as `kn func create -l python -t {template}` makes it.

    bulut func run .        # serve it on this machine
    bulut func test .       # its tests, in its own environment
    bulut func deploy .     # deploy it to the running local platform (`bulut up`)
    kn func deploy          # the same project on a cluster
"""
