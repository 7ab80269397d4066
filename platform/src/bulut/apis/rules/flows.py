"""flows.knative.dev/v1 webhook rules: Sequence and Parallel (pure).

As knative/eventing's ``pkg/apis/flows/v1`` (reference knative-kinds §4-§5): a
``channelTemplate`` defaulted from ``default-ch-webhook``, ref namespaces filled in,
non-empty ``steps`` / ``branches`` of valid destinations. Neither kind has immutable
fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .duck import validate_delivery
from .messaging import (
    ChannelDefaults,
    check_channel_template,
    check_namespaced_destination,
    default_channel_template,
    default_delivery_namespace,
    default_destination_namespace,
)
from .meta import validate_metadata
from .paths import fail, list_at, mapping_at


def default_sequence(resource: dict[str, Any], defaults: ChannelDefaults) -> dict[str, Any]:
    """Sequence: channel template, ref namespaces of steps, their dead letters and reply."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    spec = resource.setdefault("spec", {})
    default_channel_template(spec, namespace, defaults)
    for step in spec.get("steps") or ():
        default_destination_namespace(step, namespace)
        if isinstance(step, dict):
            default_delivery_namespace(step.get("delivery"), namespace)
    default_destination_namespace(spec.get("reply"), namespace)
    return resource


def default_parallel(resource: dict[str, Any], defaults: ChannelDefaults) -> dict[str, Any]:
    """Parallel: channel template, ref namespaces of every branch destination and reply."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    spec = resource.setdefault("spec", {})
    default_channel_template(spec, namespace, defaults)
    for branch in spec.get("branches") or ():
        if isinstance(branch, dict):
            for key in ("filter", "subscriber", "reply"):
                default_destination_namespace(branch.get(key), namespace)
            default_delivery_namespace(branch.get("delivery"), namespace)
    default_destination_namespace(spec.get("reply"), namespace)
    return resource


def _namespace(resource: Mapping[str, Any]) -> str:
    return str((resource.get("metadata") or {}).get("namespace") or "default")


def validate_sequence(resource: Mapping[str, Any]) -> None:
    """Sequence: at least one valid step, a channel template, a valid reply."""
    validate_metadata(resource, dns1035=False)
    namespace = _namespace(resource)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    steps = list_at(spec.get("steps"), "spec.steps")
    if not steps:
        fail("missing field(s)", "spec.steps")
    for index, step in enumerate(steps):
        path = f"spec.steps[{index}]"
        check_namespaced_destination(step, path, namespace)
        validate_delivery(mapping_at(step, path).get("delivery"), f"{path}.delivery")
    check_channel_template(spec.get("channelTemplate"), "spec.channelTemplate")
    if spec.get("reply") is not None:
        check_namespaced_destination(spec.get("reply"), "spec.reply", namespace)


def validate_parallel(resource: Mapping[str, Any]) -> None:
    """Parallel: at least one branch with a subscriber, valid filters/replies, a template."""
    validate_metadata(resource, dns1035=False)
    namespace = _namespace(resource)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    branches = list_at(spec.get("branches"), "spec.branches")
    if not branches:
        fail("missing field(s)", "spec.branches")
    for index, raw in enumerate(branches):
        path = f"spec.branches[{index}]"
        branch = mapping_at(raw, path)
        if branch.get("subscriber") is None:
            fail("missing field(s)", f"{path}.subscriber")
        check_namespaced_destination(branch.get("subscriber"), f"{path}.subscriber", namespace)
        for key in ("filter", "reply"):
            if branch.get(key) is not None:
                check_namespaced_destination(branch[key], f"{path}.{key}", namespace)
        validate_delivery(branch.get("delivery"), f"{path}.delivery")
    check_channel_template(spec.get("channelTemplate"), "spec.channelTemplate")
    if spec.get("reply") is not None:
        check_namespaced_destination(spec.get("reply"), "spec.reply", namespace)
