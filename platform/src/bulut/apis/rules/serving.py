"""serving.knative.dev/v1: defaults, webhook rules and update rules (reference/knative.md §2).

``default_<kind>`` fills in what Knative's defaulting webhook persists; ``validate_<kind>``
raises :class:`~bulut.errors.InvalidResourceError` naming the JSON path;
``check_<kind>_update`` refuses the changes Knative refuses on update. The RevisionSpec rules
(the pod spec allow-list behind the ``config-features`` gates, reserved names, env, ports and
paths, probes, volumes, ``config-defaults`` limits) are the pure functions of
:mod:`bulut.manifests.knative`, with the ServingConfig the platform runs with (its stored
``config-features`` and ``config-defaults``); the first error is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling import ALIASES, AutoscalerConfig, parse_annotations
from bulut.manifests.autoscaling.annotations import MAX_SCALE
from bulut.manifests.knative import ServingConfig, validate_revision_spec as knative_revision_errors
from bulut.manifests.knative.config import DEFAULTS, FEATURES, NAMESPACE
from bulut.manifests.knative.defaults import Defaults

from .meta import check_dns1035, validate_metadata
from .paths import fail, int_at, list_at, mapping_at

DEFAULT_SERVING = ServingConfig()
KNATIVE_DEFAULTS = Defaults()
"""``config-defaults`` as Knative ships it: what the defaulting webhook writes."""
DEFAULT_TIMEOUT_SECONDS = KNATIVE_DEFAULTS.revision_timeout_seconds
DEFAULT_CONTAINER_NAME = KNATIVE_DEFAULTS.container_name


def validate_service(
    resource: Mapping[str, Any],
    config: AutoscalerConfig | None = None,
    serving: ServingConfig = DEFAULT_SERVING,
) -> None:
    """A Knative Service: metadata, template, and a traffic block without configurationName."""
    validate_configuration(resource, config, serving)
    validate_traffic(resource["spec"].get("traffic"), "spec.traffic", in_service=True)


def validate_configuration(
    resource: Mapping[str, Any],
    config: AutoscalerConfig | None = None,
    serving: ServingConfig = DEFAULT_SERVING,
) -> None:
    """A Configuration: metadata and template."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    validate_template(
        spec.get("template"),
        "spec.template",
        owner=str(resource["metadata"]["name"]),
        config=config,
        serving=serving,
    )


def validate_route(resource: Mapping[str, Any]) -> None:
    """A Route: metadata and a traffic block."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec")
    validate_traffic(spec.get("traffic"), "spec.traffic", in_service=False)


def validate_revision(
    resource: Mapping[str, Any],
    config: AutoscalerConfig | None = None,
    serving: ServingConfig = DEFAULT_SERVING,
) -> None:
    """A Revision: metadata, its autoscaling annotations and a RevisionSpec."""
    validate_metadata(resource, dns1035=True)
    validate_autoscaling(resource["metadata"].get("annotations"), "metadata.annotations", config)
    validate_revision_spec(resource.get("spec"), "spec", serving)


def validate_template(
    value: Any,
    path: str,
    *,
    owner: str,
    config: AutoscalerConfig | None = None,
    serving: ServingConfig = DEFAULT_SERVING,
) -> None:
    """A RevisionTemplateSpec: BYO name rules, autoscaling annotations, RevisionSpec."""
    template = mapping_at(value, path, required=True)
    meta = mapping_at(template.get("metadata"), f"{path}.metadata")
    byo = meta.get("name")
    if byo is not None:
        check_dns1035(byo, f"{path}.metadata.name")
        if not str(byo).startswith(f"{owner}-"):
            fail(f"invalid value: {byo}: must have prefix {owner}-", f"{path}.metadata.name")
    if meta.get("generateName") is not None:
        fail("must not set the field(s)", f"{path}.metadata.generateName")
    validate_autoscaling(meta.get("annotations"), f"{path}.metadata.annotations", config)
    validate_revision_spec(template.get("spec"), f"{path}.spec", serving)


def validate_autoscaling(value: Any, path: str, config: AutoscalerConfig | None = None) -> None:
    """Autoscaling annotations (§1.2), read by the parser the autoscaler uses.

    With the stored ``config-autoscaler`` (as Knative's webhook reads it), ``max-scale-limit``
    and ``allow-zero-initial-scale`` are enforced at admission too.
    """
    parse_annotations(mapping_at(value, path), config, path=path)


def validate_serving_config(resource: Mapping[str, Any]) -> None:
    """A ConfigMap; knative-serving's ``config-autoscaler`` and ``config-defaults`` must parse
    (naming ``data.<key>``); ``config-features`` ignores values it does not know, as Knative."""
    validate_metadata(resource, dns1035=False)
    meta = resource["metadata"]
    if meta.get("namespace") != NAMESPACE:
        return
    data = {str(k): str(v) for k, v in mapping_at(resource.get("data"), "data").items()}
    if meta.get("name") == "config-autoscaler":
        AutoscalerConfig.from_configmap(data)
    if meta.get("name") == DEFAULTS:
        Defaults.from_data(data)


def serving_config(
    features: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None
) -> ServingConfig:
    """The ServingConfig of the stored ``config-features`` and ``config-defaults`` ConfigMaps."""
    return ServingConfig.from_configmaps(
        {
            FEATURES: (features or {}).get("data") or {},
            DEFAULTS: (defaults or {}).get("data") or {},
        }
    )


def validate_revision_spec(value: Any, path: str, serving: ServingConfig = DEFAULT_SERVING) -> None:
    """Knative's RevisionSpec rules under ``serving``'s gates and limits (first error)."""
    spec = mapping_at(value, path, required=True)
    errors = knative_revision_errors(spec, path, serving)
    if errors:
        first = errors[0]
        fail(first.message, first.path)


def validate_traffic(value: Any, path: str, *, in_service: bool) -> None:
    """Traffic targets: exclusivity rules, unique DNS-1035 tags, percents summing to 100."""
    targets = list_at(value, path)
    if not targets:
        if in_service:
            return  # defaulted to {percent: 100, latestRevision: true}
        fail("missing field(s)", path)
    total = 0
    tags: dict[str, int] = {}
    for index, raw in enumerate(targets):
        where = f"{path}[{index}]"
        target = mapping_at(raw, where)
        total += _validate_target(target, where, in_service=in_service)
        tag = target.get("tag")
        if tag is not None:
            check_dns1035(tag, f"{where}.tag")
            if tag in tags:
                fail(f'Multiple definitions for "{tag}"', f"{where}.tag")
            tags[tag] = index
    if total != 100:
        fail(f"Traffic targets sum to {total}, want 100", path)


def _validate_target(target: Mapping[str, Any], where: str, *, in_service: bool) -> int:
    revision, configuration = target.get("revisionName"), target.get("configurationName")
    latest = target.get("latestRevision")
    if configuration and in_service:
        fail("must not set the field(s)", f"{where}.configurationName")
    if revision and configuration:
        fail("expected exactly one, got both", f"{where}.revisionName, {where}.configurationName")
    if latest is True and revision:
        fail(
            f"may not set revisionName {revision!r} when latestRevision is true",
            f"{where}.latestRevision",
        )
    if latest is False and not revision:
        fail("may not set false when revisionName is unset", f"{where}.latestRevision")
    if not in_service and not revision and not configuration:
        fail(
            "expected exactly one, got neither", f"{where}.revisionName, {where}.configurationName"
        )
    if target.get("url") is not None:
        fail("must not set the field(s)", f"{where}.url")
    percent = target.get("percent", 0)
    if percent is None:
        return 0
    return int_at(percent, f"{where}.percent", 0, 100)


# Defaults (Knative's defaulting webhook), filled in place on the copy admission passes.


def default_service(resource: dict[str, Any]) -> dict[str, Any]:
    """A Service: its template's RevisionSpec defaults, and 100% to the latest revision."""
    spec = resource.setdefault("spec", {})
    default_revision_spec(spec.setdefault("template", {}).setdefault("spec", {}))
    if not spec.get("traffic"):
        spec["traffic"] = [{"percent": 100, "latestRevision": True}]
    default_traffic(spec["traffic"])
    return resource


def default_configuration(resource: dict[str, Any]) -> dict[str, Any]:
    """A Configuration: its template's RevisionSpec defaults."""
    template = resource.setdefault("spec", {}).setdefault("template", {})
    default_revision_spec(template.setdefault("spec", {}))
    return resource


def default_revision(resource: dict[str, Any]) -> dict[str, Any]:
    """A Revision: the RevisionSpec defaults."""
    default_revision_spec(resource.setdefault("spec", {}))
    return resource


def default_route(resource: dict[str, Any]) -> dict[str, Any]:
    """A Route: ``latestRevision`` on each traffic target."""
    default_traffic(resource.setdefault("spec", {}).setdefault("traffic", []))
    return resource


def default_revision_spec(spec: dict[str, Any]) -> None:
    """containerConcurrency 0, timeoutSeconds 300, container name, readiness probe."""
    spec.setdefault("containerConcurrency", KNATIVE_DEFAULTS.container_concurrency)
    if not spec.get("timeoutSeconds"):
        spec["timeoutSeconds"] = DEFAULT_TIMEOUT_SECONDS
    spec.setdefault("enableServiceLinks", False)
    containers = spec.get("containers") or []
    for index, container in enumerate(containers):
        if not isinstance(container, dict):
            continue
        if not container.get("name"):
            suffix = "" if len(containers) == 1 else f"-{index}"
            container["name"] = f"{DEFAULT_CONTAINER_NAME}{suffix}"
        if container.get("ports") or len(containers) == 1:
            probe = container.setdefault("readinessProbe", {"tcpSocket": {"port": 0}})
            probe.setdefault("successThreshold", 1)


def default_traffic(traffic: list[dict[str, Any]]) -> None:
    """Per target: latestRevision = (revisionName unset); percent stays as given."""
    for target in traffic:
        if isinstance(target, dict) and "latestRevision" not in target:
            target["latestRevision"] = not target.get("revisionName")


# Update rules (what Knative's webhook refuses when an object changes).


def check_revision_update(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> None:
    """A Revision's spec is immutable."""
    if (existing.get("spec") or {}) != (desired.get("spec") or {}):
        fail("Immutable fields changed (-old +new)", "spec")


def check_template_update(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> None:
    """A Service or Configuration may not change its template under the same revision name."""
    old_t = (existing.get("spec") or {}).get("template") or {}
    new_t = (desired.get("spec") or {}).get("template") or {}
    name = (new_t.get("metadata") or {}).get("name")
    if name and name == (old_t.get("metadata") or {}).get("name") and old_t != new_t:
        raise InvalidResourceError(
            "Saw the following changes without a name change (-old +new): "
            f"spec.template (revision {name!r} already exists)",
            field="spec.template.metadata.name",
        )


# What the data plane reads from a stored object with the same rules.


def container_concurrency(revision: Mapping[str, Any], defaults: Mapping[str, str]) -> int:
    """``spec.containerConcurrency``, else config-defaults ``container-concurrency``."""
    value = (revision.get("spec") or {}).get("containerConcurrency")
    if value is None:
        value = defaults.get("container-concurrency") or KNATIVE_DEFAULTS.container_concurrency
    return int(value)


def max_scale(annotations: Mapping[str, Any]) -> int:
    """A template's ``max-scale`` annotation (canonical key, else its legacy alias), 0 when
    absent or unreadable (0 means unbounded, as in Knative)."""
    for key in (MAX_SCALE, ALIASES[MAX_SCALE]):
        if key in annotations:
            try:
                return int(str(annotations[key]))
            except ValueError:
                return 0
    return 0


CLUSTER_LOCAL_DOMAIN = "cluster.local"


def default_domainmapping(resource: dict[str, Any]) -> dict[str, Any]:
    """``spec.ref.namespace`` defaults to the DomainMapping's own."""
    ref = (resource.setdefault("spec", {}).get("ref")) or None
    if isinstance(ref, dict) and not ref.get("namespace"):
        ref["namespace"] = resource["metadata"].get("namespace", "default")
    return resource


def validate_domainmapping(resource: Mapping[str, Any]) -> None:
    """A DomainMapping: its name is the domain (a fully qualified name, not under
    cluster.local, no generateName); ``spec.ref`` in its own namespace; optional TLS secret."""
    validate_metadata(resource, dns1035=False)
    meta = resource.get("metadata") or {}
    name = str(meta.get("name") or "")
    if meta.get("generateName"):
        fail("disallowed field", "metadata.generateName")
    if "." not in name.strip("."):
        fail(
            f"invalid value: {name}: a DomainMapping's name is its domain and must be a fully "
            "qualified domain name (e.g. shop.example.com)",
            "metadata.name",
        )
    if name == CLUSTER_LOCAL_DOMAIN or name.endswith("." + CLUSTER_LOCAL_DOMAIN):
        fail(
            f"invalid value: {name}: must not be a subdomain of cluster local domain "
            f'"{CLUSTER_LOCAL_DOMAIN}"',
            "metadata.name",
        )
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    ref = mapping_at(spec.get("ref"), "spec.ref", required=True)
    for key in ("name", "kind", "apiVersion"):
        if not isinstance(ref.get(key), str) or not ref[key]:
            fail("missing field(s)", f"spec.ref.{key}")
    if ref.get("group"):
        fail("disallowed field", "spec.ref.group")
    namespace = meta.get("namespace", "default")
    if ref.get("namespace") and ref["namespace"] != namespace:
        fail(
            f'mismatched namespaces: "{ref["namespace"]}" (ref) vs "{namespace}" (DomainMapping)',
            "spec.ref.namespace",
        )
    tls = mapping_at(spec.get("tls"), "spec.tls")
    if spec.get("tls") is not None and not tls.get("secretName"):
        fail("missing field(s)", "spec.tls.secretName")
