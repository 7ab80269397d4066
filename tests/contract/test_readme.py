"""The README promises a layout and two commands; both must stay true."""

from __future__ import annotations

import re
from pathlib import Path


def _readme(repo_root: Path) -> str:
    return (repo_root / "README.md").read_text()


def test_every_folder_named_under_layout_exists(repo_root: Path) -> None:
    layout = _readme(repo_root).split("## Layout", 1)[1].split("##", 1)[0]
    paths = re.findall(r"^\s{4}(\S+/)", layout, flags=re.MULTILINE)
    assert paths, "the Layout section lists no folders"
    missing = [path for path in paths if not (repo_root / path).is_dir()]
    assert missing == []


def test_the_quick_start_commands_are_make_targets(repo_root: Path) -> None:
    commands = re.findall(r"^(?:\s{4})?make (\w+)", _readme(repo_root), flags=re.MULTILINE)
    makefile = (repo_root / "Makefile").read_text()
    assert commands[:2] == ["up", "test"]
    for command in commands:
        assert re.search(rf"^{command}:", makefile, flags=re.MULTILINE), command


def test_every_linked_document_exists(repo_root: Path) -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", _readme(repo_root)):
        if "://" not in target:
            assert (repo_root / target).exists(), target
