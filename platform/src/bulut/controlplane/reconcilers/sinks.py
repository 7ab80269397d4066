"""JobSink: its address, job selector and conditions (knative-kinds §10).

Knative's reconciler creates nothing: the shared job-sink service answers for every
JobSink at ``/<ns>/<name>``. The runs (Jobs on a cluster) are started by the eventing
plane, which reports them into ``status.jobs``.
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import mark, mark_ready_from
from ..patching import clone
from .ownership import Objects

DEPENDENTS = ("Addressable", "EventPoliciesReady")
JOB_SINK_NAME_LABEL = "sinks.knative.dev/job-sink-name"


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
