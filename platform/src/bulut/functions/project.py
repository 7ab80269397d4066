"""A function project: one folder, one of two flavours.

- **kn func** (``func.yaml`` + ``pyproject.toml`` + package ``function``): the flavour comes
  from func.yaml ``invoke`` (``cloudevent`` → :attr:`Flavour.CLOUDEVENTS`, anything else →
  :attr:`Flavour.HTTP`), the name from func.yaml ``name``.
- **Google Functions Framework** (``main.py`` decorated with ``@functions_framework.cloud_event``
  or ``@functions_framework.http``, no func.yaml): the name is the folder name; the target and
  signature type come from the decorated function, or from ``GOOGLE_FUNCTION_TARGET`` /
  ``GOOGLE_FUNCTION_SIGNATURE_TYPE`` in a buildpacks ``project.toml`` when one is present.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import FunctionProjectError

FUNC_YAML = "func.yaml"
GFF_SOURCE = "main.py"
BUILDPACKS_DESCRIPTOR = "project.toml"

# func.yaml `name` (Knative Service name), as the func.yaml schema writes it.
NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

_GFF_DECORATORS = {"cloud_event": "cloudevent", "http": "http"}


class Flavour(StrEnum):
    """How a function is written, and so which runtime serves it."""

    CLOUDEVENTS = "cloudevents"
    HTTP = "http"
    FUNCTIONS_FRAMEWORK = "functions-framework"

    @property
    def is_kn_func(self) -> bool:
        """True for the two kn func templates (served by func-python)."""
        return self is not Flavour.FUNCTIONS_FRAMEWORK


@dataclass(frozen=True)
class FunctionProject:
    """A loaded function folder; see the module docstring for the flavours."""

    path: Path
    name: str
    flavour: Flavour
    func_yaml: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None
    signature_type: str | None = None

    @property
    def dependency_files(self) -> tuple[Path, ...]:
        """The files whose content decides what the environment installs."""
        names = ("pyproject.toml", "requirements.txt")
        return tuple(self.path / name for name in names if (self.path / name).is_file())


def load_project(path: Path) -> FunctionProject:
    """Load the function folder at ``path``; FunctionProjectError names the file and the fix."""
    folder = path.expanduser().resolve()
    if not folder.is_dir():
        raise FunctionProjectError(f"{folder}: not a directory; point at a function folder")
    if (folder / FUNC_YAML).is_file():
        return _load_kn_func(folder)
    if (folder / GFF_SOURCE).is_file():
        return _load_functions_framework(folder)
    raise FunctionProjectError(
        f"{folder}: neither {FUNC_YAML} (kn func) nor {GFF_SOURCE} (functions framework) "
        "found; create one with `kn func create -l python` or add a main.py with "
        "@functions_framework.cloud_event"
    )


def is_project_folder(path: Path) -> bool:
    """True when ``path`` looks like a function folder of either flavour."""
    return path.is_dir() and ((path / FUNC_YAML).is_file() or (path / GFF_SOURCE).is_file())


def _load_kn_func(folder: Path) -> FunctionProject:
    file = folder / FUNC_YAML
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FunctionProjectError(f"{file}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise FunctionProjectError(f"{file}: expected a mapping at the top level")
    name = document.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise FunctionProjectError(
            f"{file}: field `name` must be a lower-case DNS label (got {name!r}); "
            "set it to the function's Service name, e.g. `name: orders`",
            field="name",
        )
    runtime = document.get("runtime", "python")
    if runtime != "python":
        raise FunctionProjectError(
            f"{file}: field `runtime` is {runtime!r}; Bulut runs Python functions only "
            "(set `runtime: python`)",
            field="runtime",
        )
    invoke = document.get("invoke", "http")
    if invoke not in ("http", "cloudevent"):
        raise FunctionProjectError(
            f"{file}: field `invoke` must be `http` or `cloudevent` (got {invoke!r})",
            field="invoke",
        )
    if not (folder / "pyproject.toml").is_file():
        raise FunctionProjectError(
            f"{folder}: func.yaml found but no pyproject.toml; a kn func Python project "
            "needs one (see `kn func create -l python`)"
        )
    flavour = Flavour.CLOUDEVENTS if invoke == "cloudevent" else Flavour.HTTP
    return FunctionProject(path=folder, name=name, flavour=flavour, func_yaml=document)


def _load_functions_framework(folder: Path) -> FunctionProject:
    name = folder.name
    if not NAME_PATTERN.match(name):
        raise FunctionProjectError(
            f"{folder}: a functions-framework function is named after its folder, and "
            f"{name!r} is not a lower-case DNS label; rename the folder (e.g. `notifications`)"
        )
    decorated = _decorated_functions(folder / GFF_SOURCE)
    target, signature = _descriptor_target(folder / BUILDPACKS_DESCRIPTOR)
    if target is None:
        if len(decorated) != 1:
            found = ", ".join(sorted(decorated)) or "none"
            raise FunctionProjectError(
                f"{folder / GFF_SOURCE}: expected exactly one function decorated with "
                f"@functions_framework.cloud_event or @functions_framework.http (found: {found}); "
                f"or name it with GOOGLE_FUNCTION_TARGET in {BUILDPACKS_DESCRIPTOR}"
            )
        ((target, signature),) = decorated.items()
    elif target not in decorated and signature is None:
        raise FunctionProjectError(
            f"{folder / BUILDPACKS_DESCRIPTOR}: GOOGLE_FUNCTION_TARGET={target!r} is not a "
            f"decorated function in {GFF_SOURCE}; set GOOGLE_FUNCTION_SIGNATURE_TYPE as well"
        )
    else:
        signature = signature or decorated[target]
    return FunctionProject(
        path=folder,
        name=name,
        flavour=Flavour.FUNCTIONS_FRAMEWORK,
        func_yaml={},
        target=target,
        signature_type=signature,
    )


def _decorated_functions(source: Path) -> dict[str, str]:
    """``{function name: signature type}`` for functions_framework-decorated functions."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except SyntaxError as error:
        raise FunctionProjectError(f"{source}:{error.lineno}: syntax error: {error.msg}") from None
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            signature = _gff_signature(decorator)
            if signature is not None:
                found[node.name] = signature
    return found


def _gff_signature(decorator: ast.expr) -> str | None:
    """``functions_framework.cloud_event``, its ASGI twin ``functions_framework.aio.http``
    (or a bare imported ``cloud_event``) → its signature type."""
    if isinstance(decorator, ast.Call):
        decorator = decorator.func
    if isinstance(decorator, ast.Attribute) and _is_gff_module(decorator.value):
        return _GFF_DECORATORS.get(decorator.attr)
    if isinstance(decorator, ast.Name):
        return _GFF_DECORATORS.get(decorator.id) if decorator.id == "cloud_event" else None
    return None


def _is_gff_module(node: ast.expr) -> bool:
    """``functions_framework`` or ``functions_framework.aio``."""
    if isinstance(node, ast.Attribute) and node.attr == "aio":
        node = node.value
    return isinstance(node, ast.Name) and node.id == "functions_framework"


def _descriptor_target(descriptor: Path) -> tuple[str | None, str | None]:
    """GOOGLE_FUNCTION_TARGET / _SIGNATURE_TYPE from a buildpacks project.toml, if any."""
    if not descriptor.is_file():
        return None, None
    try:
        document = tomllib.loads(descriptor.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise FunctionProjectError(f"{descriptor}: not valid TOML: {error}") from None
    # schema 0.1 writes [[build.env]]; schema 0.2 writes [[io.buildpacks.build.env]]
    legacy = document.get("build", {}).get("env", [])
    current = document.get("io", {}).get("buildpacks", {}).get("build", {}).get("env", [])
    envs: dict[str, str] = {}
    for entry in [*legacy, *current]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            envs[entry["name"]] = str(entry.get("value", ""))
    return envs.get("GOOGLE_FUNCTION_TARGET"), envs.get("GOOGLE_FUNCTION_SIGNATURE_TYPE")
