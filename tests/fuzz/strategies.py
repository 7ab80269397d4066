"""Hypothesis strategies shared by the fuzz suite: JSON values and resource-shaped bodies."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bulut.controlplane.kinds import KINDS

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
#: Any JSON value, small.
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
#: Keys a Knative resource's fields use, so random objects reach deep into validation.
FIELD_NAMES = st.sampled_from(
    [
        "name", "namespace", "labels", "annotations", "template", "spec", "containers", "image",
        "env", "value", "ports", "containerPort", "traffic", "percent", "revisionName", "tag",
        "latestRevision", "broker", "filter", "attributes", "subscriber", "ref", "uri", "kind",
        "apiVersion", "delivery", "retry", "backoffDelay", "deadLetterSink", "schedule", "data",
        "sink", "subject", "containerConcurrency", "timeoutSeconds", "conditions", "status",
        "type", "reason", "message", "desiredScale", "actualScale", "runtime", "documents",
        "dry_run", "filters", "exact", "prefix", "cesql", "all", "any", "not", "ceOverrides",
        "autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/initial-scale",
        "autoscaling.knative.dev/max-scale", "bulut.dev/zygote", "valueFrom", "resources",
    ]
)  # fmt: skip
SHAPED: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(FIELD_NAMES | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=24,
)


@st.composite
def resources(draw: st.DrawFn) -> dict[str, Any]:
    """A document with a real apiVersion/kind and random (mostly Knative-shaped) content."""
    info = draw(st.sampled_from(KINDS))
    document: dict[str, Any] = {"apiVersion": info.api_version, "kind": info.kind}
    document["metadata"] = draw(
        st.fixed_dictionaries({"name": st.sampled_from(["orders", "x", "a-b"])}, optional={
            "namespace": st.sampled_from(["default", "shop-dev"]),
            "annotations": st.dictionaries(FIELD_NAMES, st.text(max_size=8) | JSON, max_size=3),
            "labels": SHAPED,
        })
    )  # fmt: skip
    for key in draw(st.lists(st.sampled_from(["spec", "data", "status"]), max_size=2, unique=True)):
        document[key] = draw(SHAPED)
    return document


#: A body for any write route: random JSON, a resource, or a runtime report.
BODIES: st.SearchStrategy[Any] = st.one_of(
    JSON,
    resources(),
    st.builds(
        lambda docs, dry: {"documents": docs, "dry_run": dry},
        st.lists(resources() | JSON, max_size=3),
        st.booleans(),
    ),
    st.builds(lambda runtime: {"runtime": runtime}, SHAPED),
)
