"""Each function's Containerfile follows the image rules (static checks, no engine needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bulut.functions.project import load_project

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent for p in (REPO / "functions").glob("*/Containerfile"))
PINNED = re.compile(r"^[\w./-]+:\d+(\.\d+)+[\w.-]*$")


def instructions(folder: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = (folder / "Containerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage(folder: Path) -> list[tuple[str, str]]:
    steps = instructions(folder)
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def test_every_function_folder_has_a_containerfile_and_an_ignore_file() -> None:
    folders = sorted(p for p in (REPO / "functions").iterdir() if p.is_dir())
    assert folders == FUNCTIONS
    for folder in folders:
        assert (folder / ".containerignore").is_file(), folder.name


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_the_build_is_multi_stage_from_a_pinned_slim_base(folder: Path) -> None:
    bases = [rest.split()[0] for keyword, rest in instructions(folder) if keyword == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        assert PINNED.match(base) and "slim" in base, base
    assert any("--from=build" in rest for keyword, rest in final_stage(folder) if keyword == "COPY")


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_the_image_runs_as_a_numeric_non_root_user(folder: Path) -> None:
    users = [rest for keyword, rest in final_stage(folder) if keyword == "USER"]
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_files_belong_to_group_zero_with_owner_permissions(folder: Path) -> None:
    runs = " ".join(rest for keyword, rest in final_stage(folder) if keyword == "RUN")
    assert "chgrp -R 0" in runs and "chmod -R g=u" in runs


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_port_8080_is_exposed_and_knative_probes_instead_of_a_healthcheck(folder: Path) -> None:
    keywords = [keyword for keyword, _ in instructions(folder)]
    assert "HEALTHCHECK" not in keywords
    assert ("EXPOSE", "8080") in final_stage(folder)


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_the_server_is_the_one_the_flavour_needs(folder: Path) -> None:
    text = " ".join(rest for _, rest in instructions(folder))
    if (folder / "func.yaml").is_file():
        assert "func-python==" in text and "LISTEN_ADDRESS=[::]:8080" in text
        assert '"/func/service/main.py"' in text
    else:  # the target and signature type Bulut serves (project.toml, else the decorator)
        project = load_project(folder)
        assert f'"--target", "{project.target}"' in text
        assert f'"--signature-type", "{project.signature_type}"' in text


@pytest.mark.parametrize("folder", FUNCTIONS, ids=lambda p: p.name)
def test_tests_and_local_state_stay_out_of_the_image(folder: Path) -> None:
    ignored = (folder / ".containerignore").read_text().splitlines()
    assert {"tests/", "*.db", "__pycache__/"} <= set(ignored)


def test_compose_builds_every_function_from_its_containerfile_as_non_root() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert "platform" in services
    for folder in FUNCTIONS:
        service = services[folder.name]
        assert service["build"] == {
            "context": f"functions/{folder.name}",
            "dockerfile": "Containerfile",
        }
        assert service["user"].split(":") == ["1001", "0"]
        assert service["cap_drop"] == ["ALL"]
    ports = [p for s in services.values() for p in s["ports"]]
    assert len(ports) == len(set(ports))
