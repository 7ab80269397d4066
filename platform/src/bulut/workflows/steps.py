"""The CI/CD pipelines as data: one list of steps per pipeline, shared by every runner.

The Hera WorkflowTemplates (``pipelines/``), the Tekton Pipelines and ``bulut pipeline run``
all read :data:`PIPELINES`, so the cluster and the local run cannot drift apart:

- the DAG edges of a WorkflowTemplate and the ``runAfter`` of a Tekton Pipeline are each
  step's :attr:`Step.depends`;
- a step with ``same_on_cluster`` runs :attr:`Step.command` in both places (on the cluster in
  the tools image, inside the checkout, through ``uv run``);
- a step without a local command is reported as skipped by the local run, with
  :attr:`Step.local_skip` as the reason.

Placeholders in commands: ``{function}`` (the function's name) and ``{function_dir}`` (its
folder, relative to the repository root). This module is pure data: no typer, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bulut.errors import InvalidValueError

# ruff's own defaults change between releases; a function's lint is pinned to errors and
# bugbear, at the functions' own Python floor (their pyproject says >=3.10).
FUNCTION_LINT = (
    "ruff",
    "check",
    "--isolated",
    "--select",
    "E,F,W,B",
    "--line-length",
    "100",
    "--target-version",
    "py310",
    ".",
)
CLUSTER_ONLY = "needs a cluster, Argo CD and the GitOps remote"


@dataclass(frozen=True)
class Step:
    """One node of a pipeline's DAG.

    ``command`` is argv, run from ``cwd`` (relative to the repository root). When
    ``same_on_cluster`` is false the cluster runs its own template for this step (a buildah
    build instead of a local revision build, say), and ``command`` is the local equivalent.
    ``requires`` names an executable the local command needs; without it the step is
    skipped with that reason. An ``on_failure`` step runs only when its dependencies failed
    (a rollback), as Argo's ``depends: "x.Failed"``.
    """

    name: str
    summary: str
    depends: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    cwd: str = "."
    same_on_cluster: bool = False
    local_skip: str = ""
    requires: str | None = None
    on_failure: bool = False

    def __post_init__(self) -> None:
        if self.command is None and not self.local_skip:
            raise InvalidValueError(
                f"step {self.name}: without a local command, say why (local_skip)"
            )
        if self.same_on_cluster and self.command is None:
            raise InvalidValueError(f"step {self.name}: same_on_cluster needs a command")

    @property
    def depends_expression(self) -> str | None:
        """Argo's enhanced ``depends`` for this step (None for a root step)."""
        suffix = ".Failed" if self.on_failure else ""
        return " && ".join(f"{name}{suffix}" for name in self.depends) or None

    def argv(self, values: Mapping[str, str]) -> list[str]:
        """The local command with its placeholders filled in."""
        return [part.format_map(values) for part in self.command or ()]


@dataclass(frozen=True)
class Pipeline:
    """A named DAG of steps; its order is checked when it is built."""

    name: str
    summary: str
    steps: tuple[Step, ...]
    needs_function: bool = False
    by_name: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Step] = {}
        for step in self.steps:
            if step.name in by_name:
                raise InvalidValueError(f"pipeline {self.name}: step {step.name} is defined twice")
            unknown = [name for name in step.depends if name not in by_name]
            if unknown:
                raise InvalidValueError(
                    f"pipeline {self.name}: step {step.name} depends on {', '.join(unknown)}, "
                    "which is not defined before it"
                )
            by_name[step.name] = step
        object.__setattr__(self, "by_name", by_name)

    def step(self, name: str) -> Step:
        """A step by name."""
        return self.by_name[name]

    def dependents(self, name: str) -> list[Step]:
        """Steps that depend, directly or not, on ``name`` (in pipeline order)."""
        downstream: set[str] = {name}
        found: list[Step] = []
        for step in self.steps:
            if downstream.intersection(step.depends):
                downstream.add(step.name)
                found.append(step)
        return found


FUNCTION_CI = Pipeline(
    name="function-ci",
    summary="Lint, test, build, scan and push one function's image; output its digest.",
    needs_function=True,
    steps=(
        Step(
            "checkout",
            "Clone the repository at the pushed revision.",
            local_skip="the local run uses the working tree",
        ),
        Step(
            "lint",
            "ruff on the function's folder.",
            depends=("checkout",),
            command=FUNCTION_LINT,
            cwd="{function_dir}",
            same_on_cluster=True,
            requires="ruff",
        ),
        # lint, unit-test and render-check all write to the run's one ReadWriteOnce workspace
        # (uv's cache, the function's environment): in sequence, never on two nodes at once.
        Step(
            "unit-test",
            "The function's own tests, in its own environment.",
            depends=("lint",),
            command=("bulut", "func", "test", "{function_dir}"),
            same_on_cluster=True,
        ),
        Step(
            "render-check",
            "Rendered manifests are up to date with func.yaml.",
            depends=("unit-test",),
            command=("bulut", "render", "--check"),
            same_on_cluster=True,
        ),
        Step(
            "validate",
            "Every overlay builds and validates offline.",
            depends=("render-check",),
            command=("bulut", "validate", "gitops/overlays"),
            same_on_cluster=True,
        ),
        Step(
            "build",
            "Build the image (cluster: buildah, rootless); locally, a revision build.",
            depends=("lint", "unit-test", "validate"),
            command=("bulut", "func", "build", "{function_dir}"),
        ),
        Step(
            "scan",
            "Scan for HIGH and CRITICAL vulnerabilities (trivy).",
            depends=("build",),
            command=(
                "trivy",
                "fs",
                "--exit-code",
                "1",
                "--severity",
                "HIGH,CRITICAL",
                "{function_dir}",
            ),
            requires="trivy",
        ),
        Step(
            "push",
            "Push the image and output its digest.",
            depends=("scan",),
            local_skip="needs a container registry",
        ),
    ),
)

PROMOTE = Pipeline(
    name="promote",
    summary="Set a digest in an environment's overlay, wait for Argo CD, smoke-test, roll back.",
    needs_function=True,
    steps=(
        Step("checkout", "Clone the GitOps repository.", local_skip=CLUSTER_ONLY),
        Step(
            "set-digest",
            "Write the digest into gitops/overlays/<env>/kustomization.yaml.",
            depends=("checkout",),
            local_skip=CLUSTER_ONLY,
        ),
        Step(
            "publish",
            "Commit and push (dev, staging) or open a pull request and await its merge (prod).",
            depends=("set-digest",),
            local_skip=CLUSTER_ONLY,
        ),
        Step(
            "wait-for-sync",
            "The Argo CD Application is Synced at that revision and Healthy.",
            depends=("publish",),
            local_skip=CLUSTER_ONLY,
        ),
        Step(
            "smoke-test",
            "Send a CloudEvent with curl and check the reply.",
            depends=("wait-for-sync",),
            local_skip=CLUSTER_ONLY,
        ),
        Step(
            "rollback",
            "Revert the promotion commit when the smoke test fails.",
            depends=("smoke-test",),
            local_skip=CLUSTER_ONLY,
            on_failure=True,
        ),
    ),
)

DR_DRILL = Pipeline(
    name="dr-drill",
    summary="Weekly: back up, destroy, restore and verify on the cluster; keep the report.",
    steps=(
        Step(
            "checkout",
            "Clone the repository (drill scenarios live in disaster-recovery/drills).",
            local_skip="the local run uses the working tree",
        ),
        Step(
            "drill",
            "bulut dr drill --cluster; the report is kept as an artifact.",
            depends=("checkout",),
            local_skip="needs a cluster with Velero; locally run `make drill`",
        ),
    ),
)

PIPELINES: dict[str, Pipeline] = {p.name: p for p in (FUNCTION_CI, PROMOTE, DR_DRILL)}
