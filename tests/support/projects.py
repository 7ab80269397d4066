"""Tiny function folders of both flavours, written into a temporary directory for tests."""

from __future__ import annotations

from pathlib import Path

KN_FUNC_PY = """
def new():
    return Function()


class Function:
    async def handle(self, scope, receive, send):
        pass


VERSION = "one"
"""

GFF_MAIN = """
import functions_framework


@functions_framework.cloud_event
def receive(cloud_event):
    return None


VERSION = "one"
"""


def kn_func_project(
    root: Path,
    name: str = "hello",
    *,
    invoke: str | None = "cloudevent",
    dependencies: tuple[str, ...] = (),
    folder: str | None = None,
) -> Path:
    """A minimal kn func Python project (func.yaml, pyproject.toml, package `function`)."""
    path = root / (folder or name)
    (path / "function").mkdir(parents=True)
    invoke_line = f"invoke: {invoke}\n" if invoke else ""
    (path / "func.yaml").write_text(
        f"specVersion: 0.36.0\nname: {name}\nruntime: python\n"
        f'created: "2026-01-01T00:00:00Z"\n{invoke_line}'
    )
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (path / "pyproject.toml").write_text(
        '[project]\nname = "function"\nversion = "0.1.0"\n'
        f"dependencies = [{deps}]\n\n"
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["function"]\n'
    )
    (path / "function" / "__init__.py").write_text("from .func import new\n")
    (path / "function" / "func.py").write_text(KN_FUNC_PY)
    return path


def gff_project(root: Path, name: str = "greeter", *, main: str = GFF_MAIN) -> Path:
    """A minimal functions-framework folder (main.py + requirements.txt)."""
    path = root / name
    path.mkdir(parents=True)
    (path / "main.py").write_text(main)
    (path / "requirements.txt").write_text("functions-framework==3.10.2\n")
    return path
