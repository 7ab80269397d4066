"""serving.knative.dev/v1 webhook rules (reference/knative.md §2.1–2.6).

The RevisionSpec rules (the pod spec allow-list behind the ``config-features`` gates,
reserved names, env, ports and paths, probes, volumes, ``config-defaults`` limits) are the
pure functions of :mod:`bulut.manifests.knative`, with the ServingConfig the platform runs
with (its stored ``config-features`` and ``config-defaults``); the first error is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.manifests.autoscaling import AutoscalerConfig, parse_annotations
from bulut.manifests.knative import ServingConfig, validate_revision_spec as knative_revision_errors
from bulut.manifests.knative.config import DEFAULTS, FEATURES, NAMESPACE
from bulut.manifests.knative.defaults import Defaults

from .common import check_dns1035, fail, int_at, list_at, mapping_at, validate_metadata

DEFAULT_SERVING = ServingConfig()


def validate_service(
    resource: Mapping[str, Any],
    config: AutoscalerConfig | None = None,
    serving: ServingConfig = DEFAULT_SERVING,
) -> None:
    """A Knative Service: metadata, template, and a traffic block without configurationName."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    name = str(resource["metadata"]["name"])
    validate_template(
        spec.get("template"), "spec.template", owner=name, config=config, serving=serving
    )
    validate_traffic(spec.get("traffic"), "spec.traffic", in_service=True)


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
