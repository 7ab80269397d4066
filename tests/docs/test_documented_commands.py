"""Every command the documentation gives is labelled, parses, and names what exists.

Blocks that run on one machine are run by test_documented_commands_run.py; here every
shell block is checked statically: `bash -n`, `bulut` subcommands and options, `make`
targets, repository paths; and cluster-only blocks (```sh cluster) name only tool verbs
those tools have, and namespaces, TYPE/NAME resources, kustomizations and Vault policies
that exist in the repository or its rendered overlays.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.support.cli import bulut_command

from .blocks import CLUSTER_TOOLS, MARKERS, PROGRAMS, REPO, Block, all_blocks, shell_blocks
from .names import KIND_ALIASES, namespaces, resources, vault_policies

PLACEHOLDER = re.compile(r"<[^<>\n]*>")
PATH = re.compile(
    r"(?<![\w/.-])((?:disaster-recovery|gitops|platform|tests|docs|bench|pipelines|functions)/"
    r"[\w./-]*)"
)
# The verbs each cluster tool has (from their --help), as the docs may use them.
VERBS = {
    "oc": {"apply", "get", "wait", "create", "patch", "logs", "delete", "run", "describe",
           "rollout", "label", "annotate", "exec", "login", "adm", "policy", "new-project",
           "project", "config", "scale", "set", "edit", "kustomize", "-n"},
    "kubectl": {"apply", "get", "wait", "create", "patch", "logs", "delete", "run", "describe",
                "rollout", "label", "annotate", "exec", "config", "kustomize", "scale", "-n"},
    "kn": {"func", "service", "broker", "trigger", "source", "revision", "route"},
    "argo": {"submit", "get", "cron", "list", "logs", "watch", "template", "-n"},
    "tkn": {"pipeline", "pipelinerun", "task", "taskrun"},
    "velero": {"backup", "restore", "schedule", "get", "describe", "backup-location"},
    "pack": {"build"},
    "docker": {"build", "run", "push", "login"},
    "podman": {"build", "run", "push", "login"},
}  # fmt: skip
KN_FUNC = {"deploy", "invoke", "delete", "create", "build", "run", "describe", "list"}


def _ids(blocks: list[Block]) -> list[str]:
    return [block.where for block in blocks]


SHELL = shell_blocks()
CLUSTER = [block for block in SHELL if "cluster" in block.markers]


def test_the_documentation_has_shell_blocks_of_each_kind() -> None:
    assert [b for b in SHELL if b.runs_here] and CLUSTER


@pytest.mark.parametrize("block", all_blocks(), ids=_ids(all_blocks()))
def test_a_block_that_starts_with_a_command_is_labelled(block: Block) -> None:
    if block.language:
        return
    assert block.first_program() not in PROGRAMS, (
        f"{block.where}: label the block ```sh (add `cluster` if it needs a cluster)"
    )


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_markers_are_known_and_cluster_tools_are_marked(block: Block) -> None:
    assert block.markers <= MARKERS, f"{block.where}: unknown marker(s) {block.markers - MARKERS}"
    if "cluster" in block.markers:
        return
    for words in block.commands():
        program = words[0].split("=")[-1] if "=" in words[0] else words[0]
        assert program not in CLUSTER_TOOLS, f"{block.where}: `{program}` needs ```sh cluster"
        if program == "kubectl":
            assert words[1:2] == ["kustomize"], f"{block.where}: kubectl on a cluster: mark it"


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_every_shell_block_parses(block: Block) -> None:
    script = PLACEHOLDER.sub("PLACEHOLDER", block.script())
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, f"{block.where}: {result.stderr.strip()}"


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _root() -> Any:
    return bulut_command()


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_every_bulut_command_exists_with_its_options(block: Block) -> None:
    root = _root()
    for words in block.commands():
        if words[0] not in {"bulut", ".venv/bin/bulut"}:
            continue
        command, rest = root, list(words[1:])
        while _is_group(command) and rest and not rest[0].startswith("-"):
            name = rest.pop(0)
            assert name in command.commands, f"{block.where}: `bulut ... {name}` is no command"
            command = command.commands[name]
        assert not _is_group(command), f"{block.where}: `{' '.join(words)}` names a group"
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in rest[: rest.index("--")] if "--" in rest else rest:  # after --: the tool's
            if word.startswith("-") and word != "-" and not word.startswith("--="):
                option = word.split("=", 1)[0]
                if option.startswith("--") or len(option) == 2:
                    assert option in known, f"{block.where}: `{' '.join(words)}`: no {option}"


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_every_make_target_and_repository_path_exists(block: Block) -> None:
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", makefile, re.M))
    for words in block.commands():
        if words[0] == "make":
            goals = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert set(goals) <= targets, f"{block.where}: no make target in {goals}"
    for match in PATH.findall(block.script()):
        path = match.rstrip(".,;:)'\"")
        if "<" in path or "*" in path:
            continue
        assert (REPO / path).exists(), f"{block.where}: {path} does not exist"


def _option(words: list[str], *names: str) -> list[str]:
    values = []
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                values.append(words[index + 1])
            elif word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
    return values


def _created_namespaces(block: Block) -> set[str]:
    """Namespaces the block's document creates itself (`create namespace X`)."""
    created = set()
    for other in SHELL:
        if other.file == block.file:
            for words in other.commands():
                if words[1:3] in (["create", "namespace"], ["create", "ns"]) and len(words) > 3:
                    created.add(words[3])
    return created


@pytest.mark.parametrize("block", CLUSTER, ids=_ids(CLUSTER))
def test_cluster_blocks_use_real_verbs_and_name_what_exists(block: Block) -> None:
    known_resources = resources()
    known_namespaces = namespaces() | _created_namespaces(block)
    policies = set(vault_policies())
    for words in block.commands():
        tool = words[0]
        if tool in {"bao", "vault"}:  # policies: a file of policies/, or written here first
            if words[1:3] == ["policy", "write"]:
                assert (REPO / words[4]).is_file(), f"{block.where}: no policy file {words[4]}"
                policies.add(words[3])
            for policy in _option(words, "-policy"):
                assert policy in policies, f"{block.where}: no policy {policy!r} in the repo"
            continue
        if tool not in VERBS:
            continue
        rest = list(words[1:])
        while rest[:1] == ["-n"]:  # `oc -n NS verb`
            rest = rest[2:]
        assert rest and rest[0] in VERBS[tool], f"{block.where}: `{tool} {rest[:1]}`: no such verb"
        if tool == "kn" and rest[0] == "func":
            assert rest[1] in KN_FUNC, f"{block.where}: `kn func {rest[1]}`: no such command"
        for namespace in _option(words, "-n", "--namespace"):
            if "$" in namespace or "<" in namespace:
                continue
            assert namespace in known_namespaces, f"{block.where}: namespace {namespace!r}?"
        for folder in _option(words, "-k"):
            assert (REPO / folder / "kustomization.yaml").is_file(), f"{block.where}: -k {folder}"
        for word in rest[1:]:
            match = re.fullmatch(r"([a-z]+)/([a-z0-9-]+)", word)
            if match and match.group(1) in KIND_ALIASES:
                wanted = (KIND_ALIASES[match.group(1)], match.group(2))
                assert wanted in known_resources, f"{block.where}: no {word} in the repository"
