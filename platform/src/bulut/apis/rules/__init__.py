"""Every served kind's defaults, validation and update rules: one row per kind.

The rules are pure functions grouped by API group (:mod:`.serving`, :mod:`.eventing`,
:mod:`.sources`, :mod:`.sinks`, :mod:`.networking`, :mod:`.core`; shared pieces in
:mod:`.meta`, :mod:`.duck` and :mod:`.paths`). Each group module has
``default_<kind>(resource) -> resource`` (filling in place the copy it is given),
``validate_<kind>(resource, ...)`` raising :class:`~bulut.errors.InvalidResourceError`
naming the JSON path, and
``check_<kind>_update(existing, desired)`` where the kind has immutable fields.

:data:`RULES` maps ``(group, kind)`` to a :class:`KindRules` row; the control plane's
admission reads it (:func:`rules_for`) and nothing else decides what a kind's defaults and
rules are. Cluster-only kinds (:mod:`.cluster`) share one row, :data:`CLUSTER_OBJECT`: their
schema and ObjectMeta. A test requires a row for every other kind the registry serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulut.apis.patches import clone
from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.manifests.knative import ServingConfig

from . import (
    cluster,
    core,
    eventing,
    eventpolicies,
    eventtypes,
    flows,
    messaging,
    networking,
    serving,
    sinks,
    sources,
)
from .messaging import ChannelDefaults

Resource = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """The platform configuration some rules read: ``config-autoscaler`` (None when not
    stored: its two config-dependent rules are then skipped), the ServingConfig of the
    stored ``config-features`` and ``config-defaults``, and the channel templates of
    ``knative-eventing/default-ch-webhook``."""

    autoscaler: AutoscalerConfig | None = None
    serving: ServingConfig = field(default_factory=ServingConfig)
    schema: Mapping[str, Any] | None = None
    """The kind's ``openAPIV3Schema`` (from the registry), for the rules that check it."""
    channels: ChannelDefaults = field(default_factory=ChannelDefaults)


Defaulter = Callable[[Resource], Resource]
Validator = Callable[[Mapping[str, Any], Context], None]
UpdateCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], None]
ConfiguredDefaulter = Callable[[Resource, Context], Resource]


def _unchanged(resource: Resource) -> Resource:
    return resource


def _no_update_rules(_existing: Mapping[str, Any], _desired: Mapping[str, Any]) -> None:
    return None


def _ignoring_context(check: Callable[[Mapping[str, Any]], None]) -> Validator:
    def validate(resource: Mapping[str, Any], _context: Context) -> None:
        check(resource)

    validate.__doc__ = check.__doc__
    return validate


@dataclass(frozen=True)
class KindRules:
    """One kind's row: how it is defaulted, validated, and what may not change on update."""

    validate: Validator
    default: Defaulter = _unchanged
    check_update: UpdateCheck = _no_update_rules
    # defaults that read the platform's configuration, applied before validation (as
    # Knative's webhook defaults, then validates): a channelTemplate from default-ch-webhook
    configured_default: ConfiguredDefaulter | None = None


OBJECT_META_ONLY = KindRules(_ignoring_context(core.validate_object_meta))
CLUSTER_OBJECT = KindRules(lambda r, c: cluster.validate_cluster_object(r, c.schema))
"""Every cluster-only kind: ObjectMeta and its schema; no defaults, no update rules."""

SERVING = "serving.knative.dev"
EVENTING = "eventing.knative.dev"
SOURCES = "sources.knative.dev"
CORE = ""
NETWORKING = "networking.k8s.io"
KNATIVE_NETWORKING = "networking.internal.knative.dev"
SINKS = "sinks.knative.dev"
MESSAGING = "messaging.knative.dev"
FLOWS = "flows.knative.dev"

RULES: Mapping[tuple[str, str], KindRules] = {
    (SERVING, "Service"): KindRules(
        lambda r, c: serving.validate_service(r, c.autoscaler, c.serving),
        serving.default_service,
        serving.check_template_update,
    ),
    (SERVING, "Configuration"): KindRules(
        lambda r, c: serving.validate_configuration(r, c.autoscaler, c.serving),
        serving.default_configuration,
        serving.check_template_update,
    ),
    (SERVING, "Revision"): KindRules(
        lambda r, c: serving.validate_revision(r, c.autoscaler, c.serving),
        serving.default_revision,
        serving.check_revision_update,
    ),
    (SERVING, "Route"): KindRules(_ignoring_context(serving.validate_route), serving.default_route),
    (SERVING, "DomainMapping"): KindRules(
        _ignoring_context(serving.validate_domainmapping), serving.default_domainmapping
    ),
    (KNATIVE_NETWORKING, "ClusterDomainClaim"): KindRules(
        _ignoring_context(networking.validate_clusterdomainclaim)
    ),
    (EVENTING, "Broker"): KindRules(
        _ignoring_context(eventing.validate_broker), eventing.default_broker
    ),
    (EVENTING, "Trigger"): KindRules(
        _ignoring_context(eventing.validate_trigger),
        eventing.default_trigger,
        eventing.check_trigger_update,
    ),
    (SOURCES, "PingSource"): KindRules(
        _ignoring_context(sources.validate_pingsource), sources.default_pingsource
    ),
    (SOURCES, "SinkBinding"): KindRules(_ignoring_context(sources.validate_sinkbinding)),
    (SOURCES, "ApiServerSource"): KindRules(
        _ignoring_context(sources.validate_apiserversource), sources.default_apiserversource
    ),
    (SOURCES, "ContainerSource"): KindRules(
        _ignoring_context(sources.validate_containersource), sources.default_containersource
    ),
    (SINKS, "JobSink"): KindRules(_ignoring_context(sinks.validate_jobsink), sinks.default_jobsink),
    (EVENTING, "EventPolicy"): KindRules(_ignoring_context(eventpolicies.validate_eventpolicy)),
    (MESSAGING, "InMemoryChannel"): KindRules(
        _ignoring_context(messaging.validate_inmemorychannel), messaging.default_inmemorychannel
    ),
    (MESSAGING, "KafkaChannel"): KindRules(
        _ignoring_context(messaging.validate_kafkachannel), messaging.default_kafkachannel
    ),
    (MESSAGING, "Channel"): KindRules(
        _ignoring_context(messaging.validate_channel),
        check_update=messaging.check_channel_update,
        configured_default=lambda r, c: messaging.default_channel(r, c.channels),
    ),
    (MESSAGING, "Subscription"): KindRules(
        _ignoring_context(messaging.validate_subscription),
        check_update=messaging.check_subscription_update,
        configured_default=lambda r, _: messaging.default_subscription(r),
    ),
    (FLOWS, "Sequence"): KindRules(
        _ignoring_context(flows.validate_sequence),
        configured_default=lambda r, c: flows.default_sequence(r, c.channels),
    ),
    (FLOWS, "Parallel"): KindRules(
        _ignoring_context(flows.validate_parallel),
        configured_default=lambda r, c: flows.default_parallel(r, c.channels),
    ),
    (EVENTING, "EventType"): KindRules(
        _ignoring_context(eventtypes.validate_eventtype), eventtypes.default_eventtype
    ),
    (CORE, "ConfigMap"): KindRules(_ignoring_context(core.validate_configmap)),
    (CORE, "Namespace"): KindRules(
        _ignoring_context(core.validate_namespace), core.default_namespace
    ),
    (CORE, "ServiceAccount"): OBJECT_META_ONLY,
    (NETWORKING, "NetworkPolicy"): OBJECT_META_ONLY,
}


def group_of(api_version: str) -> str:
    """The group of an ``apiVersion`` (``""`` for the core group's ``v1``)."""
    return api_version.rpartition("/")[0]


def rules_for(group: str, kind: str, *, cluster_only: bool = False) -> KindRules:
    """The row of one kind: its own, else :data:`CLUSTER_OBJECT` for a cluster-only kind,
    else :data:`OBJECT_META_ONLY`."""
    row = RULES.get((group, kind))
    if row is not None:
        return row
    return CLUSTER_OBJECT if cluster_only else OBJECT_META_ONLY


def with_defaults(resource: Mapping[str, Any]) -> Resource:
    """A copy of ``resource`` with its kind's defaults filled in (namespace ``default``)."""
    result: Resource = clone(dict(resource))
    result.setdefault("metadata", {}).setdefault("namespace", "default")
    row = rules_for(group_of(str(result.get("apiVersion") or "")), str(result.get("kind") or ""))
    return row.default(result)


__all__ = [
    "CLUSTER_OBJECT",
    "OBJECT_META_ONLY",
    "RULES",
    "Context",
    "KindRules",
    "group_of",
    "rules_for",
    "with_defaults",
]
