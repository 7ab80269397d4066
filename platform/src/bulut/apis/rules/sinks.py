"""sinks.knative.dev/v1alpha1 JobSink: defaults and webhook rules (knative-kinds §10).

Knative dry-runs the Job against the Job API; locally the Job API's own rules that matter
to a run are checked: a pod template with containers that have images, ``restartPolicy``
``Never`` or ``OnFailure``, and a non-negative ``backoffLimit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .meta import validate_metadata
from .paths import fail, list_at, mapping_at

EXECUTION_MODE = {"name": "K_EXECUTION_MODE", "value": "batch"}
RESTART_POLICIES = ("Never", "OnFailure")


def default_jobsink(resource: dict[str, Any]) -> dict[str, Any]:
    """``K_EXECUTION_MODE=batch`` in every container and init container lacking it."""
    job = (resource.setdefault("spec", {}).get("job")) or {}
    pod = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or []:
            if not isinstance(container, dict):
                continue
            env = container.setdefault("env", [])
            if isinstance(env, list) and not any(
                isinstance(e, Mapping) and e.get("name") == EXECUTION_MODE["name"] for e in env
            ):
                env.append(dict(EXECUTION_MODE))
    return resource


def validate_jobsink(resource: Mapping[str, Any]) -> None:
    """A JobSink: ``spec.job`` a runnable batch/v1 Job."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    job = mapping_at(spec.get("job"), "spec.job", required=True)
    job_spec = mapping_at(job.get("spec"), "spec.job.spec", required=True)
    limit = job_spec.get("backoffLimit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        fail(
            f"invalid value: {limit!r}: must be greater than or equal to 0",
            "spec.job.spec.backoffLimit",
        )
    template = mapping_at(job_spec.get("template"), "spec.job.spec.template", required=True)
    pod = mapping_at(template.get("spec"), "spec.job.spec.template.spec", required=True)
    policy = pod.get("restartPolicy")
    if policy not in RESTART_POLICIES:
        fail(
            f'Unsupported value: {policy!r}: supported values: "OnFailure", "Never"',
            "spec.job.spec.template.spec.restartPolicy",
        )
    containers = list_at(pod.get("containers"), "spec.job.spec.template.spec.containers")
    if not containers:
        fail("Required value", "spec.job.spec.template.spec.containers")
    for index, raw in enumerate(containers):
        where = f"spec.job.spec.template.spec.containers[{index}]"
        container = mapping_at(raw, where, required=True)
        for key in ("name", "image"):
            if not isinstance(container.get(key), str) or not container[key]:
                fail("Required value", f"{where}.{key}")
