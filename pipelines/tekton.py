"""Tekton (OpenShift Pipelines): the same two pipelines as Tasks and Pipelines.

Built from the same catalog (:mod:`bulut.workflows.steps`) and the same shell scripts as
the Argo templates: every catalog step is a Task named ``<pipeline>-<step>``, every
``depends`` is a ``runAfter``, and an ``on_failure`` step (promote's rollback) is a
``finally`` task guarded by ``when: $(tasks.<dep>.status) in [Failed]``. Parameters reach
scripts as environment variables, as on Argo.

Security: steps run with restricted-v2's container context; the buildah Tasks run as the
image's ``build`` user and need the ``pipeline`` ServiceAccount's ``pipelines-scc``
(SETFCAP), which OpenShift Pipelines grants by default (reference/cluster-ops.md §5.4).
``promote`` runs as its own ServiceAccount ``tekton-promote`` (``tkn pipeline start promote
-s tekton-promote``), which may read Argo CD Applications in the Argo CD namespace and nothing
else; each Pipeline names its ServiceAccount in the ``bulut.dev/service-account`` annotation
and each Task what it calls (:mod:`.access`), which ``bulut validate`` checks.

Workspaces: ``source`` comes from a volumeClaimTemplate (``pvc.yaml``, ReadWriteOnce). Tasks
that share it run on one node: OpenShift Pipelines' affinity assistant (``coschedule:
workspaces``, the default) schedules every TaskRun of a PipelineRun beside the volume.
"""

from __future__ import annotations

from typing import Any

from bulut.workflows import FUNCTION_CI, PROMOTE, Pipeline, Step

from . import access, function_ci, images, promote, rbac

Manifest = dict[str, Any]
API = "tekton.dev/v1"
LABELS = {"app.kubernetes.io/part-of": "bulut-pipelines"}
OC = "registry.redhat.io/openshift4/ose-cli-rhel9:v4.18"
WAIT_FOR_SYNC = (
    "set -eu\n"
    'app="shop-$ENVIRONMENT"\n'
    "for _ in $(seq 90); do\n"
    '  state="$(oc get applications.argoproj.io "$app" -n "$ARGOCD_NAMESPACE" -o '
    "jsonpath='{.status.sync.status} {.status.health.status} {.status.sync.revision}')\"\n"
    '  echo "$app: $state"\n'
    '  [ "$state" = "Synced Healthy $(cat "$WORKSPACE/revision")" ] && exit 0\n'
    '  case "$state" in *Degraded*) exit 1;; esac\n'
    "  sleep 10\n"
    "done\n"
    "exit 1\n"
)

PARAMS: dict[str, dict[str, str]] = {
    FUNCTION_CI.name: {
        "FUNCTION": "function",
        "REPO": "repo",
        "REVISION": "revision",
        "REGISTRY": "registry",
    },
    PROMOTE.name: dict(promote.PARAMETERS),
}
PROMOTER = "tekton-promote"
SERVICE_ACCOUNTS = {FUNCTION_CI.name: "pipeline", PROMOTE.name: PROMOTER}
DEFAULTS: dict[str, str] = {
    "repo": "https://github.com/example/bulut.git",
    "revision": "main",
    "registry": "registry.example.com/shop",
    "environment": "dev",
    "branch": "main",
    "github-repository": "example/bulut",
    "smoke-type": "com.example.smoke.test",
    "smoke-data": '{"smoke": true}',
    "expect-reply-type": "",
}


def restricted() -> Manifest:
    """restricted-v2's container context (no fixed UID)."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def buildah_context() -> Manifest:
    """Rootless buildah as the image's ``build`` user, with SETFCAP (pipelines-scc)."""
    return {
        **restricted(),
        "runAsUser": 1000,
        "capabilities": {"drop": ["ALL"], "add": ["SETFCAP"]},
    }


def _script_for(pipeline: Pipeline, step: Step) -> tuple[str, str, Manifest]:
    """(image, script, securityContext) of a step, shared with the Argo templates."""
    if step.same_on_cluster:
        argv = " ".join(f'"{part}"' for part in step.argv(_shell_values()))
        cwd = step.cwd.format_map(_shell_values())
        where = '"$SRC"' if cwd == "." else f'"$SRC/{cwd}"'
        script = f'set -eu\ncd {where}\nexec uv run --frozen --project "$SRC" {argv}\n'
        return images.TOOLS, script, restricted()
    if pipeline is FUNCTION_CI:
        scripts = {
            "checkout": (images.GIT, function_ci.CHECKOUT, restricted()),
            "build": (images.BUILDAH, function_ci.BUILD, buildah_context()),
            "scan": (images.TRIVY, function_ci.SCAN, restricted()),
            "push": (
                images.BUILDAH,
                function_ci.PUSH + 'cat "$WORKSPACE/digest" > "$(results.digest.path)"\n',
                buildah_context(),
            ),
        }
    else:
        scripts = {
            "checkout": (images.GIT, promote.CHECKOUT, restricted()),
            "set-digest": (images.YQ, promote.SET_DIGEST, restricted()),
            "publish": (
                images.GIT,
                promote.PUBLISH + 'cat "$WORKSPACE/revision" > "$(results.revision.path)"\n',
                restricted(),
            ),
            "wait-for-sync": (OC, WAIT_FOR_SYNC, restricted()),
            "smoke-test": (images.CURL, promote.SMOKE_TEST, restricted()),
            "rollback": (images.GIT, promote.ROLLBACK, restricted()),
        }
    return scripts[step.name]


def _shell_values() -> dict[str, str]:
    return {"function": "${FUNCTION}", "function_dir": "functions/${FUNCTION}"}


def task(pipeline: Pipeline, step: Step) -> Manifest:
    """The Task of one catalog step."""
    image, script, security = _script_for(pipeline, step)
    env: list[Manifest] = [
        {"name": "HOME", "value": "/tmp"},
        {"name": "WORKSPACE", "value": "$(workspaces.source.path)"},
        {"name": "SRC", "value": "$(workspaces.source.path)/src"},
        {"name": "RUN", "value": "$(context.taskRun.uid)"},
        {"name": "ARGOCD_NAMESPACE", "value": rbac.ARGOCD_NAMESPACE},
        {"name": "UV_CACHE_DIR", "value": "$(workspaces.source.path)/.uv-cache"},
        {"name": "UV_PROJECT_ENVIRONMENT", "value": "/tmp/venv"},
        {"name": "BULUT_STATE_DIR", "value": "/tmp/bulut"},
    ]
    env += [{"name": k, "value": f"$(params.{v})"} for k, v in PARAMS[pipeline.name].items()]
    if pipeline is PROMOTE and step.name in ("checkout", "publish", "rollback"):
        env.append(
            {
                "name": "GIT_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": "gitops-token", "key": "token"}},
            }
        )
    workspaces: list[Manifest] = [{"name": "source"}]
    if step.name == "push":
        workspaces.append({"name": "dockerconfig", "mountPath": "/etc/registry"})
    spec: Manifest = {
        "description": step.summary,
        "params": [{"name": v, "type": "string"} for v in PARAMS[pipeline.name].values()],
        "workspaces": workspaces,
        "steps": [
            {
                "name": step.name,
                "image": image,
                "script": script,
                "env": env,
                "securityContext": security,
                "computeResources": {
                    "requests": {"cpu": "100m", "memory": "256Mi"},
                    "limits": {"memory": "2Gi" if "buildah" in image else "1Gi"},
                },
            }
        ],
    }
    results = {"push": "digest", "publish": "revision"}
    if step.name in results:
        spec["results"] = [{"name": results[step.name], "type": "string"}]
    return {
        "apiVersion": API,
        "kind": "Task",
        "metadata": {
            "name": f"{pipeline.name}-{step.name}",
            "namespace": rbac.NAMESPACE,
            "labels": dict(LABELS),
            **(
                {"annotations": needs}
                if (needs := access.needs_annotation(pipeline.name, step.name))
                else {}
            ),
        },
        "spec": spec,
    }


def pipeline_manifest(pipeline: Pipeline) -> Manifest:
    """The Pipeline: catalog order, ``runAfter`` from ``depends``, rollback in ``finally``."""
    names = PARAMS[pipeline.name].values()
    tasks: list[Manifest] = []
    final: list[Manifest] = []
    for step in pipeline.steps:
        entry: Manifest = {
            "name": step.name,
            "taskRef": {"name": f"{pipeline.name}-{step.name}"},
            "params": [{"name": n, "value": f"$(params.{n})"} for n in names],
            "workspaces": [{"name": "source", "workspace": "source"}],
        }
        if step.name == "push":
            entry["workspaces"].append({"name": "dockerconfig", "workspace": "dockerconfig"})
        if step.name in ("checkout", "push", "publish", "scan"):
            entry["retries"] = 2
        if step.on_failure:
            entry["when"] = [
                {"input": f"$(tasks.{dep}.status)", "operator": "in", "values": ["Failed"]}
                for dep in step.depends
            ]
            final.append(entry)
            continue
        if step.depends:
            entry["runAfter"] = list(step.depends)
        tasks.append(entry)
    spec: Manifest = {
        "description": pipeline.summary,
        "params": [
            {"name": n, "type": "string", **({"default": DEFAULTS[n]} if n in DEFAULTS else {})}
            for n in names
        ],
        "workspaces": [{"name": "source"}],
        "tasks": tasks,
    }
    if final:
        spec["finally"] = final
    if pipeline is FUNCTION_CI:
        spec["workspaces"].append({"name": "dockerconfig"})
        spec["results"] = [{"name": "digest", "value": "$(tasks.push.results.digest)"}]
    return {
        "apiVersion": API,
        "kind": "Pipeline",
        "metadata": {
            "name": pipeline.name,
            "namespace": rbac.NAMESPACE,
            "labels": dict(LABELS),
            "annotations": {access.SERVICE_ACCOUNT: SERVICE_ACCOUNTS[pipeline.name]},
        },
        "spec": spec,
    }


def access_manifests() -> list[Manifest]:
    """promote's ServiceAccount and its read access to Argo CD Applications."""
    read_applications = {
        "apiGroups": ["argoproj.io"],
        "resources": ["applications"],
        "verbs": ["get", "list", "watch"],
    }
    return [
        rbac.service_account(PROMOTER),
        *rbac.grant(
            f"{PROMOTER}-argocd",
            [read_applications],
            subject=PROMOTER,
            namespace=rbac.ARGOCD_NAMESPACE,
        ),
    ]


def workspace_claim() -> Manifest:
    """The ``source`` workspace's volumeClaimTemplate (``volumeClaimTemplateFile=pvc.yaml``)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "source"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }


def manifests() -> dict[str, list[Manifest]]:
    """File stem -> documents: the Tasks of each pipeline, then the Pipeline."""
    files: dict[str, list[Manifest]] = {"rbac": access_manifests()}
    for pipeline in (FUNCTION_CI, PROMOTE):
        files[f"{pipeline.name}-tasks"] = [task(pipeline, step) for step in pipeline.steps]
        files[pipeline.name] = [pipeline_manifest(pipeline)]
    return files
