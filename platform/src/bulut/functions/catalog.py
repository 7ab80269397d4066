"""The function catalog: which local folder serves a Knative Service's container image.

Resolution order (docs/architecture.md, "Function catalog"):

1. the template annotation ``bulut.dev/function-path`` (relative to the working directory,
   or absolute) names the folder;
2. otherwise the image's last path segment, without tag or digest, is matched against the
   function names in ``functions_dir`` (func.yaml ``name``; the folder name for the
   functions-framework flavour).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bulut.errors import FunctionProjectError, NotFoundError

from .project import FunctionProject, is_project_folder, load_project

FUNCTION_PATH_ANNOTATION = "bulut.dev/function-path"


def discover(functions_dir: Path) -> dict[str, FunctionProject]:
    """Every function folder directly under ``functions_dir``, by name.

    Folders that are neither flavour (no func.yaml, no main.py) are skipped; a folder that
    looks like a project but is broken raises FunctionProjectError, as do two folders that
    claim the same name.
    """
    if not functions_dir.is_dir():
        return {}
    found: dict[str, FunctionProject] = {}
    for folder in sorted(functions_dir.iterdir()):
        if folder.name.startswith((".", "_")) or not is_project_folder(folder):
            continue
        project = load_project(folder)
        if project.name in found:
            raise FunctionProjectError(
                f"{folder}: function name {project.name!r} is already used by "
                f"{found[project.name].path}; give one of them another `name` in func.yaml"
            )
        found[project.name] = project
    return found


def image_name(image: str) -> str:
    """The last path segment of an image reference, without tag or digest.

    ``ghcr.io/acme/orders:1.2@sha256:ab..`` → ``orders``; ``localhost:5000/orders`` → ``orders``.
    """
    reference = image.split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def annotated_folder(annotations: Mapping[str, str], what: str) -> Path | None:
    """The folder the ``bulut.dev/function-path`` annotation names (None without one)."""
    explicit = annotations.get(FUNCTION_PATH_ANNOTATION)
    if not explicit:
        return None
    folder = Path(explicit).expanduser()
    folder = folder if folder.is_absolute() else Path.cwd() / folder
    if not folder.is_dir():
        raise NotFoundError(
            f"annotation {FUNCTION_PATH_ANNOTATION}={explicit!r}: {folder} is not a "
            f"directory; point it at {what} (relative to the working directory)",
            field=f"metadata.annotations.{FUNCTION_PATH_ANNOTATION}",
        )
    return folder


def resolve(image: str, annotations: Mapping[str, str], functions_dir: Path) -> FunctionProject:
    """The function project that serves ``image``; see the module docstring for the order."""
    folder = annotated_folder(annotations, "a function folder")
    if folder is not None:
        return load_project(folder)
    wanted = image_name(image)
    catalog = discover(functions_dir)
    if wanted in catalog:
        return catalog[wanted]
    known = ", ".join(sorted(catalog)) or "none"
    raise NotFoundError(
        f"image {image!r}: no function named {wanted!r} in {functions_dir} (known: {known}); "
        f"add the template annotation `{FUNCTION_PATH_ANNOTATION}: functions/<folder>` "
        "or name the image after the function",
        field="spec.template.spec.containers[0].image",
    )


def resolve_program(image: str, annotations: Mapping[str, str], functions_dir: Path) -> Path:
    """The local folder that stands for a source's or job's container ``image``.

    The same rule as :func:`resolve`: the annotation ``bulut.dev/function-path`` first,
    then a function of the image's name in ``functions_dir``; a container that is not a
    function (a ContainerSource's adapter, a JobSink's job) may also be a plain folder of
    that name there, holding the program (``__main__.py``, or what ``command`` runs).
    """
    folder = annotated_folder(annotations, "the program's folder")
    if folder is not None:
        return folder.resolve()
    wanted = image_name(image)
    catalog = discover(functions_dir)
    if wanted in catalog:
        return catalog[wanted].path
    folder = functions_dir / wanted
    if folder.is_dir():
        return folder.resolve()
    raise NotFoundError(
        f"image {image!r}: no function or folder named {wanted!r} in {functions_dir}; "
        f"add the annotation `{FUNCTION_PATH_ANNOTATION}: <folder>` to the pod template "
        "or name the image after the folder",
        field="image",
    )
