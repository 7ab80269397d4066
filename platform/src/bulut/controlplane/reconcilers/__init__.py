"""Reconcile one namespace: a pure function from its objects to their desired state.

Level-based, like Knative's controllers: every write re-derives children and status for
the whole namespace in dependency order, and the caller stores only what changed.
"""

from __future__ import annotations

from ..addresses import Addressing
from . import (
    configuration,
    domains,
    eventing,
    eventpolicies,
    eventtypes,
    flows,
    messaging,
    revision,
    route,
    service,
    sinks,
    sources,
)
from .ownership import Objects, collect_garbage, of_kind

__all__ = ["Objects", "reconcile_namespace"]


def reconcile_namespace(objects: Objects, addressing: Addressing) -> Objects:
    """The namespace's objects after one full reconcile (the input is not modified)."""
    # Shallow: every reconciler below copies an object before it changes it.
    result: Objects = dict(objects)
    now = addressing.now()
    collect_garbage(result)
    for svc in of_kind(result, "Service"):
        service.reconcile_children(svc, result, addressing)
    collect_garbage(result)
    stamped = configuration.index_revisions(result)
    for config in of_kind(result, "Configuration"):
        owned = stamped.get(config["metadata"]["name"], [])
        configuration.ensure_revision(config, owned, result, addressing)
    for rev in of_kind(result, "Revision"):
        result[("Revision", rev["metadata"]["name"])] = revision.reconcile_status(rev, now=now)
    stamped = configuration.index_revisions(result)
    for config in of_kind(result, "Configuration"):
        name = config["metadata"]["name"]
        updated = configuration.reconcile_status(config, stamped.get(name, []), addressing)
        result[("Configuration", name)] = updated
    for rt in of_kind(result, "Route"):
        result[("Route", rt["metadata"]["name"])] = route.reconcile_status(rt, result, addressing)
    route.update_routing_state(result)
    for svc in of_kind(result, "Service"):
        result[("Service", svc["metadata"]["name"])] = service.reconcile_status(
            svc, result, addressing
        )
    for mapping in of_kind(result, "DomainMapping"):
        result[("DomainMapping", mapping["metadata"]["name"])] = domains.reconcile_domainmapping(
            mapping, result, addressing
        )
    _reconcile_eventing(result, addressing)
    return result


def _reconcile_eventing(result: Objects, addressing: Addressing) -> None:
    for broker in of_kind(result, "Broker"):
        name = broker["metadata"]["name"]
        result[("Broker", name)] = eventing.reconcile_broker(broker, result, addressing)
    # channels and flows: addressable targets for what follows (and brokers for them)
    flows.flow_children(result, addressing)
    collect_garbage(result)
    messaging.reconcile_messaging(result, addressing, flows.flow_status)
    flows.flow_status(result, addressing)
    for trigger in of_kind(result, "Trigger"):
        name = trigger["metadata"]["name"]
        result[("Trigger", name)] = eventing.reconcile_trigger(trigger, result, addressing)
    for source in of_kind(result, "PingSource"):
        name = source["metadata"]["name"]
        result[("PingSource", name)] = eventing.reconcile_pingsource(source, result, addressing)
    for container in of_kind(result, "ContainerSource"):
        sources.reconcile_containersource_children(container, result, addressing)
    for binding in of_kind(result, "SinkBinding"):
        name = binding["metadata"]["name"]
        result[("SinkBinding", name)] = eventing.reconcile_sinkbinding(binding, result, addressing)
    for source in of_kind(result, "ApiServerSource"):
        name = source["metadata"]["name"]
        result[("ApiServerSource", name)] = sources.reconcile_apiserversource(
            source, result, addressing
        )
    for container in of_kind(result, "ContainerSource"):
        name = container["metadata"]["name"]
        result[("ContainerSource", name)] = sources.reconcile_containersource(
            container, result, addressing
        )
    for sink in of_kind(result, "JobSink"):
        name = sink["metadata"]["name"]
        result[("JobSink", name)] = sinks.reconcile_jobsink(sink, result, addressing)
    eventtypes.reconcile_eventtypes(result, addressing)
    for policy in of_kind(result, "EventPolicy"):  # after the senders: it reads their identity
        name = policy["metadata"]["name"]
        result[("EventPolicy", name)] = eventpolicies.reconcile_eventpolicy(
            policy, result, addressing
        )
