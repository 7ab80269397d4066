"""Runbooks: one per alert, the template's sections, and commands that really exist.

Every alert in a PrometheusRule under gitops/ has ``disaster-recovery/runbooks/<Alert>.md``
(and its runbook_url points there); every runbook has its template's headings
(style-anchors 3.8); every `bulut ...` command names a real subcommand and real options,
every `make X` a real target, and every repository path and relative link exists.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import bulut_command

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO / "disaster-recovery" / "runbooks"
ALERT_SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
PROCEDURE_SECTIONS = (
    "Purpose", "When to use", "Preconditions", "Steps", "Verify", "Roll back", "Last drilled",
)  # fmt: skip
CODE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
INLINE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(
    r"(?<![\w/.-])((?:disaster-recovery|gitops|platform|tests|docs|bench|pipelines|functions)/[\w./-]*)"
)
LINK = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _alerts() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((REPO / "gitops").rglob("*.yaml")):
        try:
            documents = list(yaml.load_all(path.read_text(), Loader=LOADER))
        except yaml.YAMLError:
            continue
        for document in documents:
            if not isinstance(document, dict) or document.get("kind") != "PrometheusRule":
                continue
            for group in document.get("spec", {}).get("groups", []):
                for rule in group.get("rules", []):
                    if "alert" in rule:
                        url = rule.get("annotations", {}).get("runbook_url", "")
                        found[rule["alert"]] = url
    return found


def _runbooks() -> list[Path]:
    return sorted(RUNBOOKS.glob("*.md"))


def _is_alert_runbook(path: Path) -> bool:
    return path.stem[:1].isupper()


def _headings(path: Path) -> list[str]:
    return [line[3:].strip() for line in path.read_text().splitlines() if line.startswith("## ")]


def _commands(path: Path, program: str) -> list[list[str]]:
    text = path.read_text()
    candidates = [line for block in CODE.findall(text) for line in block.splitlines()]
    candidates += INLINE.findall(CODE.sub("", text))
    commands = []
    for candidate in candidates:
        line = candidate.strip().removeprefix("$ ")
        if line.startswith(program + " "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_there_are_alerts_and_runbooks() -> None:
    assert _alerts(), "no PrometheusRule alerts found under gitops/"
    assert [p for p in _runbooks() if not _is_alert_runbook(p)], "no procedure runbooks"


@pytest.mark.parametrize("alert", sorted(_alerts()))
def test_every_alert_has_a_runbook_named_after_it(alert: str) -> None:
    runbook = RUNBOOKS / f"{alert}.md"
    assert runbook.is_file(), f"write {runbook.relative_to(REPO)}"
    url = _alerts()[alert]
    assert url.endswith(f"disaster-recovery/runbooks/{alert}.md"), url
    assert runbook.read_text().startswith(f"# {alert}\n")


@pytest.mark.parametrize("runbook", _runbooks(), ids=lambda p: p.name)
def test_every_runbook_has_its_template_sections_in_order(runbook: Path) -> None:
    expected = ALERT_SECTIONS if _is_alert_runbook(runbook) else PROCEDURE_SECTIONS
    headings = [h for h in _headings(runbook) if h in expected]
    assert headings == list(expected), runbook.name


@pytest.mark.parametrize(
    "runbook", [p for p in _runbooks() if not _is_alert_runbook(p)], ids=lambda p: p.name
)
def test_procedure_steps_are_numbered(runbook: Path) -> None:
    steps = runbook.read_text().split("## Steps", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^1\. ", steps, re.M), f"{runbook.name}: Steps must be a numbered list"


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")  # typer vendors click: duck-type its Group


def _resolve(root: Any, words: list[str]) -> tuple[Any, list[str]]:
    command = root
    rest = list(words)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.commands.get(name)
        assert sub is not None, f"`bulut ... {name}` is not a command"
        command = sub
    return command, rest


@pytest.mark.parametrize("runbook", _runbooks(), ids=lambda p: p.name)
def test_every_bulut_command_in_a_runbook_exists_with_its_options(runbook: Path) -> None:
    root = bulut_command()
    assert _is_group(root)
    for words in _commands(runbook, "bulut"):
        command, rest = _resolve(root, words)
        assert not _is_group(command), f"{runbook.name}: `bulut {' '.join(words)}` names a group"
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for word in rest:
            if word.startswith("--"):
                option = word.split("=", 1)[0]
                assert option in known, (
                    f"{runbook.name}: `bulut {' '.join(words)}`: no option {option}"
                )


@pytest.mark.parametrize("runbook", _runbooks(), ids=lambda p: p.name)
def test_every_make_target_in_a_runbook_exists(runbook: Path) -> None:
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", (REPO / "Makefile").read_text(), re.M))
    for words in _commands(runbook, "make"):
        assert words[0] in targets, f"{runbook.name}: no make target {words[0]!r}"


@pytest.mark.parametrize("runbook", _runbooks(), ids=lambda p: p.name)
def test_every_repository_path_and_link_in_a_runbook_exists(runbook: Path) -> None:
    text = runbook.read_text()
    for match in PATH.findall(text):
        path = match.rstrip(".,;:")
        if "<" in path:
            continue
        assert (REPO / path).exists(), f"{runbook.name}: {path} does not exist"
    for link in LINK.findall(text):
        assert (runbook.parent / link).resolve().exists(), f"{runbook.name}: broken link {link}"
