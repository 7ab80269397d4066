"""WorkflowTemplate ``function-ci``: lint, test, build, scan and push one function's image.

The DAG is :data:`bulut.workflows.FUNCTION_CI`, the same steps ``bulut pipeline
run function-ci`` runs locally. Steps the catalog marks ``same_on_cluster`` run the catalog's
command in the checkout; checkout, build, scan and push have cluster templates below. The
image is built rootless with buildah (kaniko is archived), scanned with trivy from an OCI
archive *before* anything is pushed, and pushed by digest; the digest is a global output.
"""

from __future__ import annotations

from collections.abc import Callable

from hera.workflows import (
    DAG,
    Container,
    Env,
    Parameter,
    Resources,
    SecretVolume,
    Task,
    WorkflowTemplate,
)
from hera.workflows.models import Capabilities, SeccompProfile, SecurityContext, ValueFrom

from bulut.workflows import FUNCTION_CI, Step

from . import images, rbac
from .hygiene import pod_gc, transient_retry, ttl
from .pod_security import home_in_tmp, restricted_container, restricted_pod, small
from .workspace import MOUNT, SOURCE, claim, mount, repo_command

VALUES = {
    "function": "{{workflow.parameters.function}}",
    "function_dir": "functions/{{workflow.parameters.function}}",
}
# Parameters reach scripts as environment variables, never spliced into shell text.
PARAMETER_ENV = [
    Env(name="REPO", value="{{workflow.parameters.repo}}"),
    Env(name="REVISION", value="{{workflow.parameters.revision}}"),
    Env(name="FUNCTION", value="{{workflow.parameters.function}}"),
    Env(name="REGISTRY", value="{{workflow.parameters.registry}}"),
]
CHECK_NAME = 'case "$FUNCTION" in ""|*[!a-z0-9-]*) echo "bad function name" >&2; exit 2;; esac\n'

CHECKOUT = (
    "set -eu\n" + CHECK_NAME + 'rm -rf "$SRC"\n'
    'git clone --filter=blob:none --no-checkout "$REPO" "$SRC"\n'
    'git -C "$SRC" checkout --detach "$REVISION"\n'
    'test -f "$SRC/functions/$FUNCTION/Containerfile" || '
    '{ echo "functions/$FUNCTION/Containerfile not found at $REVISION" >&2; exit 2; }\n'
    'git -C "$SRC" rev-parse HEAD > "$WORKSPACE/revision"\n'
)
BUILD = (
    "set -eu\n" + CHECK_NAME + 'cd "$SRC/functions/$FUNCTION"\n'
    'tag="$REGISTRY/$FUNCTION:$(cut -c1-12 "$WORKSPACE/revision")"\n'
    "buildah --storage-driver=vfs build --isolation=chroot --format=oci --layers=false \\\n"
    '  --label "org.opencontainers.image.revision=$(cat "$WORKSPACE/revision")" \\\n'
    '  -f Containerfile -t "$tag" .\n'
    'buildah --storage-driver=vfs push "$tag" "oci-archive:$WORKSPACE/image.tar"\n'
)
SCAN = (
    'trivy image --input "$WORKSPACE/image.tar" --exit-code 1 '
    "--severity HIGH,CRITICAL --ignore-unfixed --no-progress\n"
)
PUSH = (
    "set -eu\n" + CHECK_NAME + 'tag="$REGISTRY/$FUNCTION:$(cut -c1-12 "$WORKSPACE/revision")"\n'
    'id="$(buildah --storage-driver=vfs pull --quiet "oci-archive:$WORKSPACE/image.tar")"\n'
    "buildah --storage-driver=vfs push --authfile /etc/registry/.dockerconfigjson \\\n"
    '  --digestfile "$WORKSPACE/digest" "$id" "docker://$tag"\n'
    'echo "pushed $tag@$(cat "$WORKSPACE/digest")"\n'
)


def _script(
    step: Step,
    image: str,
    script: str,
    *,
    security_context: SecurityContext | None = None,
    service_account_name: str | None = None,
    resources: Resources | None = None,
    retry: bool = False,
    extra_env: list[Env] | None = None,
    volumes: list[SecretVolume] | None = None,
    outputs: list[Parameter] | None = None,
) -> Container:
    """A shell step on the workspace with the workflow's parameters in its environment."""
    return Container(
        name=step.name,
        image=image,
        command=["sh", "-c"],
        args=[script],
        env=[
            *home_in_tmp(),
            *PARAMETER_ENV,
            Env(name="WORKSPACE", value=MOUNT),
            Env(name="SRC", value=SOURCE),
            *(extra_env or []),
        ],
        volume_mounts=[mount()],
        volumes=volumes,
        security_context=security_context or restricted_container(),
        service_account_name=service_account_name,
        resources=resources or small(),
        retry_strategy=transient_retry() if retry else None,
        outputs=outputs,
    )


def _buildah_context() -> SecurityContext:
    """Rootless buildah: the image's ``build`` user (1000, with /etc/subuid ranges).

    restricted-v2 cannot run it: the builder ServiceAccount is allowed ``pipelines-scc``
    (OpenShift Pipelines' SCC, which adds SETFCAP), see rbac.py.
    """
    return SecurityContext(
        run_as_non_root=True,
        run_as_user=1000,
        allow_privilege_escalation=False,
        capabilities=Capabilities(drop=["ALL"], add=["SETFCAP"]),
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def checkout(step: Step) -> Container:
    """Clone the repository at the revision; record the commit."""
    return _script(step, images.GIT, CHECKOUT, retry=True)


def build(step: Step) -> Container:
    """buildah build from the function's Containerfile into an OCI archive."""
    return _script(
        step,
        images.BUILDAH,
        BUILD,
        security_context=_buildah_context(),
        service_account_name=rbac.BUILDER,
        resources=small(memory="2Gi", cpu="1"),
    )


def scan(step: Step) -> Container:
    """trivy on the archive; HIGH or CRITICAL with a fix available fails the run."""
    return _script(
        step,
        images.TRIVY,
        SCAN,
        retry=True,
        resources=small(memory="1Gi", cpu="500m"),
        extra_env=[Env(name="TRIVY_CACHE_DIR", value=f"{MOUNT}/.trivy")],
    )


def push(step: Step) -> Container:
    """Push the scanned archive; the digest becomes the workflow's ``digest`` output."""
    return _script(
        step,
        images.BUILDAH,
        PUSH,
        security_context=_buildah_context(),
        service_account_name=rbac.BUILDER,
        resources=small(memory="1Gi", cpu="500m"),
        retry=True,
        volumes=[
            SecretVolume(
                name="registry-credentials",
                secret_name="registry-credentials",
                mount_path="/etc/registry",
            )
        ],
        outputs=[
            Parameter(
                name="digest",
                global_name="digest",
                value_from=ValueFrom(path=f"{MOUNT}/digest"),
            )
        ],
    )


CLUSTER_TEMPLATES: dict[str, Callable[[Step], Container]] = {
    "checkout": checkout,
    "build": build,
    "scan": scan,
    "push": push,
}


def template_for(step: Step) -> Container:
    """The cluster template of a catalog step (KeyError: the catalog grew, add one here)."""
    if step.same_on_cluster:
        return repo_command(step, VALUES)
    return CLUSTER_TEMPLATES[step.name](step)


def workflow_template() -> WorkflowTemplate:
    """The ``function-ci`` WorkflowTemplate."""
    with WorkflowTemplate(
        name=FUNCTION_CI.name,
        namespace=rbac.NAMESPACE,
        annotations={"workflows.argoproj.io/description": FUNCTION_CI.summary},
        labels={"app.kubernetes.io/part-of": "bulut-pipelines"},
        entrypoint="main",
        service_account_name=rbac.RUNNER,
        security_context=restricted_pod(),
        pod_gc=pod_gc(),
        ttl_strategy=ttl(),
        active_deadline_seconds=3600,
        volume_claim_templates=[claim()],
        arguments=[
            Parameter(name="function", description="Folder under functions/."),
            Parameter(name="repo", value="https://github.com/example/bulut.git"),
            Parameter(name="revision", value="main"),
            Parameter(name="registry", value="registry.example.com/shop"),
        ],
    ) as template:
        containers = {step.name: template_for(step) for step in FUNCTION_CI.steps}
        with DAG(name="main"):
            for step in FUNCTION_CI.steps:
                Task(
                    name=step.name,
                    template=containers[step.name],
                    depends=step.depends_expression,
                )
    return template
