"""The shared workspace of a run: a volume per workflow, the checkout and tools inside it.

Every step mounts the workflow's ``workspace`` claim at ``/workspace``; the checkout lives in
``/workspace/src``. Catalog steps marked ``same_on_cluster`` run there in the tools image
through ``uv run``, i.e. the very command ``bulut pipeline run`` runs on a laptop.
"""

from __future__ import annotations

from hera.workflows import Container, Env
from hera.workflows.models import (
    ObjectMeta,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    VolumeMount,
    VolumeResourceRequirements,
)

from bulut.workflows import Step

from . import images
from .hygiene import transient_retry
from .pod_security import home_in_tmp, restricted_container, small

MOUNT = "/workspace"
SOURCE = f"{MOUNT}/src"


def claim(size: str = "2Gi") -> PersistentVolumeClaim:
    """The per-workflow volume (ReadWriteOnce: Argo schedules the pods beside it)."""
    return PersistentVolumeClaim(
        metadata=ObjectMeta(name="workspace"),
        spec=PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=VolumeResourceRequirements(requests={"storage": size}),
        ),
    )


def mount() -> VolumeMount:
    """The workspace at /workspace."""
    return VolumeMount(name="workspace", mount_path=MOUNT)


def tools_env() -> list[Env]:
    """uv's cache on the workspace (shared by steps), its environment and bulut state in /tmp."""
    return [
        *home_in_tmp(),
        Env(name="UV_CACHE_DIR", value=f"{MOUNT}/.uv-cache"),
        Env(name="UV_PROJECT_ENVIRONMENT", value="/tmp/venv"),
        Env(name="BULUT_STATE_DIR", value="/tmp/bulut"),
    ]


def repo_command(step: Step, values: dict[str, str], *, memory: str = "1Gi") -> Container:
    """A catalog step run in the checkout with the project's own tools (``uv run --frozen``)."""
    if not step.same_on_cluster:
        raise ValueError(f"step {step.name} has its own cluster template")
    workdir = step.cwd.format_map(values)
    return Container(
        name=step.name,
        image=images.TOOLS,
        working_dir=SOURCE if workdir == "." else f"{SOURCE}/{workdir}",
        command=["uv", "run", "--frozen", "--project", SOURCE, *step.argv(values)],
        env=tools_env(),
        volume_mounts=[mount()],
        security_context=restricted_container(),
        resources=small(memory=memory, cpu="500m"),
        retry_strategy=transient_retry(),  # uv downloads wheels on first use
    )
