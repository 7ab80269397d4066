"""JobSink: its address, job selector and conditions (knative-kinds §10).

Knative's reconciler creates nothing: the shared job-sink service answers for every
JobSink at ``/<ns>/<name>``. The runs are started by the eventing plane, which reports them
into ``status.jobs``; from each reported run :func:`run_jobs` makes the ``batch/v1`` Job that
Knative's job-sink creates on a cluster (its name, labels, controller ownerReference, the
JobSink's job with the event volume mounted at ``/etc/jobsink-event``), with a status from
the local run: ``active`` while it runs, ``succeeded``/``failed`` counts, and a ``Complete``
or ``Failed`` condition. ``kubectl get jobs`` lists them; deleting the JobSink deletes them
(garbage collection). Locally no Secret holds the event: the run reads it from the state
folder (:mod:`bulut.eventing.jobsink`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import mark, mark_ready_from
from ..patching import clone
from .ownership import Objects, is_controlled_by, owner_reference

DEPENDENTS = ("Addressable", "EventPoliciesReady")
JOB_SINK_NAME_LABEL = "sinks.knative.dev/job-sink-name"
JOB_SINK_ID_LABEL = "sinks.knative.dev/job-sink-id"
EVENT_VOLUME = "jobsink-event"
EVENT_MOUNT = "/etc/jobsink-event"


def reconcile_jobsink(sink: Resource, _objects: Objects, addressing: Addressing) -> Resource:
    """``status.address``, ``status.job.selector``, Addressable and EventPoliciesReady."""
    now = addressing.now()
    result = clone(sink)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    meta = result["metadata"]
    status["address"] = {
        "name": "http",
        "url": addressing.jobsink_url(meta["name"], meta["namespace"]),
    }
    status["job"] = {"selector": f"{JOB_SINK_NAME_LABEL}={meta['name']}"}
    mark(status, "Addressable", "True", now=now)
    mark(status, "EventPoliciesReady", "True", "OIDCDisabled", "", now=now)
    mark_ready_from(status, DEPENDENTS, now=now)
    result["status"] = status
    return result


def run_jobs(
    sink: Resource, runs: Sequence[Mapping[str, Any]], objects: Objects, addressing: Addressing
) -> Objects:
    """The ``batch/v1`` Jobs of the reported runs, keyed as the namespace's objects are
    (a Job of that name that this JobSink does not control is left alone)."""
    jobs: Objects = {}
    for run in runs:
        name = str(run.get("name") or "")
        existing = objects.get(("Job", name))
        if not name or (existing is not None and not is_controlled_by(existing, sink)):
            continue
        jobs[("Job", name)] = _job(sink, run, existing, addressing)
    return jobs


def _job(
    sink: Resource, run: Mapping[str, Any], existing: Resource | None, addressing: Addressing
) -> Resource:
    name = str(run["name"])
    meta = sink["metadata"]
    job: Resource = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "uid": existing["metadata"]["uid"] if existing else addressing.new_uid(),
            "generation": 1,
            "creationTimestamp": str(run.get("startTime") or addressing.now()),
            "labels": {JOB_SINK_ID_LABEL: name, JOB_SINK_NAME_LABEL: meta["name"]},
            "ownerReferences": [owner_reference(sink)],
        },
        "spec": _job_spec(sink, name),
        "status": _job_status(run),
    }
    return job


def _job_spec(sink: Resource, name: str) -> dict[str, Any]:
    """The JobSink's job with the event's volume, as job-sink mounts it."""
    spec: dict[str, Any] = copy.deepcopy(
        ((sink.get("spec") or {}).get("job") or {}).get("spec") or {}
    )
    pod = spec.setdefault("template", {}).setdefault("spec", {})
    volumes = [v for v in pod.get("volumes") or [] if v.get("name") != EVENT_VOLUME]
    pod["volumes"] = [*volumes, {"name": EVENT_VOLUME, "secret": {"secretName": name}}]
    for container in pod.get("containers") or []:
        mounts = container.get("volumeMounts") or []
        mounted = next((m for m in mounts if m.get("name") == EVENT_VOLUME), None)
        if mounted is None:
            mounted = {"name": EVENT_VOLUME, "mountPath": EVENT_MOUNT, "readOnly": True}
            container["volumeMounts"] = [*mounts, mounted]
        env = [e for e in container.get("env") or [] if e.get("name") != "K_EVENT_PATH"]
        env.append({"name": "K_EVENT_PATH", "value": str(mounted["mountPath"])})
        if not any(e.get("name") == "K_EXECUTION_MODE" for e in env):
            env.append({"name": "K_EXECUTION_MODE", "value": "batch"})
        container["env"] = env
    return spec


def _job_status(run: Mapping[str, Any]) -> dict[str, Any]:
    """batch/v1 JobStatus of a reported run."""
    state = str(run.get("status") or "Running")
    status: dict[str, Any] = {
        "startTime": run.get("startTime"),
        "succeeded": int(run.get("succeeded") or 0),
        "failed": int(run.get("failed") or 0),
    }
    ended = run.get("completionTime")
    if state == "Running":
        status["active"] = 1
    elif state == "Complete":
        status["completionTime"] = ended
        status["conditions"] = [
            {
                "type": "Complete",
                "status": "True",
                "lastProbeTime": ended,
                "lastTransitionTime": ended,
            }
        ]
    else:
        reason = str(run.get("reason") or "BackoffLimitExceeded").split(":", 1)[0]
        message = (
            "Job has reached the specified backoff limit"
            if reason == "BackoffLimitExceeded"
            else str(run.get("reason") or "")
        )
        status["conditions"] = [
            {
                "type": "Failed",
                "status": "True",
                "reason": reason,
                "message": message,
                "lastProbeTime": ended,
                "lastTransitionTime": ended,
            }
        ]
    return status
