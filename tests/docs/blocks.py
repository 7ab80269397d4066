"""Shell blocks of the documentation, and the convention that says where each one runs.

Every command a reader is given sits in a fenced block labelled ``sh`` (or ``console``,
whose commands follow ``$ ``). Words after the label say where it runs:

- ```` ```sh ````           runs on one machine: the docs test runs it, in a fresh
                            clone, against a platform it starts (`make up` is that start);
- ```` ```sh cluster ````   needs a cluster (oc, kubectl on a cluster, kn, tkn, velero,
                            argo, pack, docker/podman): checked, not run;
- ```` ```sh suite ````     long runs with a test or CI job of their own (`make test`,
                            benchmarks, drills, a local pipeline run): checked, not run here;
- ```` ```sh platform ````  starts the platform (`make up`): the docs test runs exactly
                            this, once, and every ```sh block against it.

Blocks without a label are diagrams and listings (``text``); one whose first line is a
command must be labelled.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHELL = frozenset({"sh", "bash", "shell", "console"})
MARKERS = frozenset({"cluster", "suite", "platform"})
CLUSTER_TOOLS = frozenset(
    {"oc", "kn", "tkn", "velero", "argo", "pack", "docker", "podman", "helm", "func"}
)
PROGRAMS = CLUSTER_TOOLS | {
    "make", "bulut", ".venv/bin/bulut", ".venv/bin/python", "curl", "kubectl", "cd", "git",
    "python", "pip", "uv", "pytest", "bao", "functions-framework", "export", "for", "mv",
}  # fmt: skip
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One fenced block of one document."""

    file: Path
    line: int
    language: str
    markers: frozenset[str]
    text: str

    @property
    def where(self) -> str:
        """``path:line`` for messages and test ids."""
        return f"{self.file.relative_to(REPO)}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL

    @property
    def runs_here(self) -> bool:
        """Run by the docs test (not cluster-only, not the suite itself)."""
        return self.is_shell and not self.markers

    def script(self) -> str:
        """The block as a shell script (for ``console``: only the ``$`` lines)."""
        if self.language != "console":
            return self.text
        return "\n".join(self._console()[0]) + "\n"

    def output(self) -> list[str]:
        """The output a ``console`` block shows (non-blank lines after its commands)."""
        return [line.strip() for line in self._console()[1] if line.strip()]

    def _console(self) -> tuple[list[str], list[str]]:
        commands: list[str] = []
        shown: list[str] = []
        keep = False
        for line in self.text.splitlines():
            if line.startswith("$ "):
                commands.append(line[2:])
            elif keep:
                commands.append(line)
            else:
                shown.append(line)
                continue
            keep = line.rstrip().endswith("\\") or not _complete("\n".join(commands))
        return commands, shown

    def commands(self) -> list[list[str]]:
        """Each simple command of the script as words (continuations joined, comments
        dropped, pipelines and ``&&`` split); placeholders such as ``<ID>`` stay words."""
        joined = re.sub(r"\\\n\s*", " ", self.script())
        found: list[list[str]] = []
        for line in joined.splitlines():
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                words = line.split()
            command: list[str] = []
            for word in [*words, "&&"]:
                if word in {"&&", "||", "|", ";"}:
                    if command:
                        found.append(command)
                    command = []
                else:
                    command.append(word)
        return found

    def first_program(self) -> str | None:
        commands = self.commands()
        return commands[0][0] if commands and commands[0] else None


def _complete(text: str) -> bool:
    """Whether ``text`` ends outside any quote (a command, not the middle of a string)."""
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return False
    return True


def documents() -> list[Path]:
    """README.md, docs/, every folder README and every runbook (not test fixtures)."""
    found = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for readme in sorted(REPO.rglob("README.md")):
        relative = readme.relative_to(REPO).parts
        if relative[0] in {".venv", "tests", "node_modules"} or relative[0].startswith("."):
            continue
        found.append(readme)
    found += sorted((REPO / "disaster-recovery" / "runbooks").glob("*.md"))
    return list(dict.fromkeys(found))


def blocks_of(path: Path) -> Iterator[Block]:
    """The fenced blocks of one document, dedented."""
    text = path.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        info = match.group("info").split()
        indent = len(match.group("indent"))
        body = "\n".join(line[indent:] for line in match.group("body").splitlines()) + "\n"
        yield Block(
            file=path,
            line=text.count("\n", 0, match.start()) + 1,
            language=info[0] if info else "",
            markers=frozenset(info[1:]),
            text=body,
        )


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks_of(path)]


def shell_blocks() -> list[Block]:
    return [block for block in all_blocks() if block.is_shell]
