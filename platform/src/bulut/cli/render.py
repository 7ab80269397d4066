"""`bulut render` (func.yaml -> gitops bases) and `bulut validate` (offline checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from bulut.manifests import render as rendering
from bulut.manifests.schemas import load_store
from bulut.manifests.validate import (
    DEFAULT_KUBE_VERSION,
    kube_validation_available,
    serving_config_file,
    validate_project,
)

from .invocation import setting, settings_of
from .output import console, err_console

DEFAULT_REGISTRY = "registry.example.com/shop"


def expected_files(functions_dir: Path, gitops_dir: Path, registry: str) -> dict[Path, str]:
    """Every generated file, keyed by its path under the gitops tree."""
    files: dict[Path, str] = {}
    for func_yaml_path in sorted(functions_dir.glob("*/func.yaml")):
        func_yaml = rendering.read_func_yaml(func_yaml_path)
        image = rendering.function_image(func_yaml, registry)
        base = gitops_dir / "bases" / "functions" / str(func_yaml.get("name"))
        for name, text in rendering.render_files(func_yaml, image=image).items():
            files[base / name] = text
    return files


def existing_generated(gitops_dir: Path, expected: dict[Path, str]) -> dict[str, str | None]:
    """Text on disk of the expected files and of any other generated file in function bases."""
    on_disk: dict[str, str | None] = {
        str(path): path.read_text(encoding="utf-8") if path.is_file() else None for path in expected
    }
    for path in sorted((gitops_dir / "bases" / "functions").glob("*/*.yaml")):
        if str(path) not in on_disk:
            on_disk[str(path)] = path.read_text(encoding="utf-8")
    return on_disk


def unlisted(expected: dict[Path, str]) -> list[str]:
    """Generated files that their folder's kustomization.yaml does not list."""
    missing: list[str] = []
    for path in expected:
        kustomization = path.parent / "kustomization.yaml"
        listed: list[Any] = []
        if kustomization.is_file():
            listed = (yaml.safe_load(kustomization.read_text()) or {}).get("resources") or []
        if path.name not in listed:
            missing.append(f"{kustomization}: resources does not list {path.name}")
    return missing


def render(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if files are stale.")
    ] = False,
    functions_dir: Annotated[
        Path | None, setting("functions_dir", help="kn func projects.")
    ] = None,
    gitops_dir: Annotated[Path, typer.Option(help="The kustomize tree.")] = Path("gitops"),
    registry: Annotated[
        str, typer.Option(help="Image registry when func.yaml names none.")
    ] = DEFAULT_REGISTRY,
) -> None:
    """Render each kn func function's Service and Triggers into gitops/bases/functions/."""
    expected = expected_files(settings_of(ctx).functions_dir, gitops_dir, registry)
    on_disk = existing_generated(gitops_dir, expected)
    drift = rendering.find_drift({str(p): t for p, t in expected.items()}, on_disk)
    if check:
        problems = [d.summary() for d in drift] + unlisted(expected)
        if problems:
            err_console().print("\n".join(problems), markup=False)
            err_console().print(
                f"{len(problems)} rendered file(s) out of date: run `bulut render`",
                markup=False,
            )
            raise typer.Exit(1)
        console().print(f"{len(expected)} rendered file(s) up to date", markup=False)
        return
    for item in drift:
        path = Path(item.path)
        if item.expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item.expected, encoding="utf-8")
            console().print(f"wrote {path}", markup=False)
        else:
            path.unlink()
            console().print(f"removed {path} (no longer rendered)", markup=False)
    for message in unlisted(expected):
        err_console().print(f"warning: {message}", markup=False)
    if not drift:
        console().print(f"{len(expected)} rendered file(s) up to date", markup=False)


def validate(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="A YAML file, a kustomization, or a folder of either.")
    ],
    schemas_dir: Annotated[Path | None, setting("schemas_dir", "--schemas")] = None,
    kube_version: Annotated[
        str, typer.Option(help="Kubernetes version of the core schemas.")
    ] = DEFAULT_KUBE_VERSION,
    policy: Annotated[bool, typer.Option(help="Check pod templates against restricted-v2.")] = True,
    cluster_checks: Annotated[
        bool, typer.Option(help="Run the cross-object cluster rules (Velero, RBAC...).")
    ] = True,
    serving_config: Annotated[
        Path | None,
        typer.Option(
            help="A KnativeServing CR or config-features/config-defaults ConfigMaps "
            "(default: the project's gitops/platform/openshift-serverless)."
        ),
    ] = None,
) -> None:
    """Validate manifests offline: schemas, Knative's and kube-apiserver's admission,
    restricted-v2, and the cluster rules across objects (exit 2 on any problem)."""
    if not path.exists():
        err_console().print(f"error: {path} does not exist", markup=False)
        raise typer.Exit(2)
    report = validate_project(
        path,
        load_store(settings_of(ctx).schemas_dir),
        kube_version=kube_version,
        check_policy=policy,
        cluster_checks=cluster_checks,
        serving=serving_config_file(serving_config) if serving_config else None,
    )
    out = err_console()
    for problem in report.problems:
        out.print(str(problem), markup=False)
    for cluster_problem in report.cluster:
        out.print(str(cluster_problem), markup=False)
    if report.unchecked:
        out.print(f"note: no schema for {', '.join(report.unchecked)}", markup=False)
    if not kube_validation_available():
        out.print("note: kubernetes-validate is not installed; core kinds unchecked")
    summary = (
        f"{report.documents} document(s) from {len(report.sources)} source(s): "
        f"{report.problem_count} problem(s)"
    )
    if not report.ok:
        out.print(summary, markup=False)
        raise typer.Exit(2)
    console().print(summary, markup=False)
