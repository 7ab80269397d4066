"""CronWorkflow ``dr-drill``: every Sunday, a disaster-recovery drill on the cluster.

Argo Workflows v4 removed ``spec.schedule``; the list field ``schedules`` is required. The
drill (``bulut dr drill --cluster``) backs up, destroys, restores and verifies, then writes
its report (RTO, RPO, checks) to ``/workspace/report``, which is kept as the ``report``
artifact in the configured artifact repository. Runs never overlap (``Forbid``).
"""

from __future__ import annotations

from hera.workflows import DAG, Artifact, Container, CronWorkflow, Env, Parameter, Task

from bulut.workflows import DR_DRILL

from . import images, rbac
from .hygiene import pod_gc, transient_retry, ttl
from .pod_security import home_in_tmp, restricted_container, restricted_pod, small
from .workspace import MOUNT, SOURCE, claim, mount, tools_env

REPORT_DIR = f"{MOUNT}/report"
# The cluster scenario: Velero backs up shop-dev and restores it into shop-dev-drill
# (standard.yaml is the local drill; it has no namespace on the cluster).
SCENARIO = "disaster-recovery/drills/cluster.yaml"
CHECKOUT = 'set -eu\nrm -rf "$SRC"\ngit clone --depth 1 --branch "$BRANCH" "$REPO" "$SRC"\n'


def checkout() -> Container:
    """Clone the branch the scenarios come from."""
    return Container(
        name="checkout",
        image=images.GIT,
        command=["sh", "-c"],
        args=[CHECKOUT],
        env=[
            *home_in_tmp(),
            Env(name="SRC", value=SOURCE),
            Env(name="REPO", value="{{workflow.parameters.repo}}"),
            Env(name="BRANCH", value="{{workflow.parameters.branch}}"),
        ],
        volume_mounts=[mount()],
        security_context=restricted_container(),
        resources=small(),
        retry_strategy=transient_retry(),
    )


def drill() -> Container:
    """Run the scenario against the cluster; keep the report whatever the outcome."""
    return Container(
        name="drill",
        image=images.TOOLS,
        working_dir=SOURCE,
        command=[
            "uv",
            "run",
            "--frozen",
            "--project",
            SOURCE,
            "bulut",
            "dr",
            "drill",
            "--cluster",
            "{{workflow.parameters.scenario}}",
            "--velero-namespace",
            rbac.VELERO_NAMESPACE,  # OADP's, where its RBAC is granted
            "--report-dir",
            REPORT_DIR,
        ],
        env=tools_env(),
        volume_mounts=[mount()],
        security_context=restricted_container(),
        resources=small(memory="1Gi", cpu="500m"),
        outputs=[Artifact(name="report", path=REPORT_DIR, optional=True)],
    )


def cron_workflow() -> CronWorkflow:
    """The ``dr-drill`` CronWorkflow."""
    with CronWorkflow(
        name=DR_DRILL.name,
        namespace=rbac.NAMESPACE,
        annotations={"workflows.argoproj.io/description": DR_DRILL.summary},
        labels={"app.kubernetes.io/part-of": "bulut-pipelines"},
        schedules=["0 3 * * 0"],
        timezone="UTC",
        concurrency_policy="Forbid",
        starting_deadline_seconds=3600,
        successful_jobs_history_limit=4,
        failed_jobs_history_limit=4,
        entrypoint="main",
        service_account_name=rbac.DRILL,
        security_context=restricted_pod(),
        pod_gc=pod_gc(),
        ttl_strategy=ttl(),
        active_deadline_seconds=4 * 3600,
        volume_claim_templates=[claim("1Gi")],
        arguments=[
            Parameter(name="scenario", value=SCENARIO),
            Parameter(name="repo", value="https://github.com/example/bulut.git"),
            Parameter(name="branch", value="main"),
        ],
    ) as cron:
        templates = {"checkout": checkout(), "drill": drill()}
        with DAG(name="main"):
            for step in DR_DRILL.steps:
                Task(
                    name=step.name,
                    template=templates[step.name],
                    depends=step.depends_expression,
                )
    return cron
