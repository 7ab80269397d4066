"""serving.knative.dev/v1 webhook rules (reference/knative.md §2.1–2.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.manifests.autoscaling import AutoscalerConfig, parse_annotations

from .common import check_dns1035, fail, int_at, list_at, mapping_at, validate_metadata

RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
RESERVED_PORTS = frozenset({8008, 8012, 8013, 8022, 9090, 9091})
PORT_NAMES = frozenset({"", "http1", "h2c"})
MAX_TIMEOUT_SECONDS = 600
MAX_CONTAINER_CONCURRENCY = 1000


def validate_service(resource: Mapping[str, Any], config: AutoscalerConfig | None = None) -> None:
    """A Knative Service: metadata, template, and a traffic block without configurationName."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    name = str(resource["metadata"]["name"])
    validate_template(spec.get("template"), "spec.template", owner=name, config=config)
    validate_traffic(spec.get("traffic"), "spec.traffic", in_service=True)


def validate_configuration(
    resource: Mapping[str, Any], config: AutoscalerConfig | None = None
) -> None:
    """A Configuration: metadata and template."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    validate_template(
        spec.get("template"),
        "spec.template",
        owner=str(resource["metadata"]["name"]),
        config=config,
    )


def validate_route(resource: Mapping[str, Any]) -> None:
    """A Route: metadata and a traffic block."""
    validate_metadata(resource, dns1035=True)
    spec = mapping_at(resource.get("spec"), "spec")
    validate_traffic(spec.get("traffic"), "spec.traffic", in_service=False)


def validate_revision(resource: Mapping[str, Any], config: AutoscalerConfig | None = None) -> None:
    """A Revision: metadata, its autoscaling annotations and a RevisionSpec."""
    validate_metadata(resource, dns1035=True)
    validate_autoscaling(resource["metadata"].get("annotations"), "metadata.annotations", config)
    validate_revision_spec(resource.get("spec"), "spec")


def validate_template(
    value: Any, path: str, *, owner: str, config: AutoscalerConfig | None = None
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
    validate_revision_spec(template.get("spec"), f"{path}.spec")


def validate_autoscaling(value: Any, path: str, config: AutoscalerConfig | None = None) -> None:
    """Autoscaling annotations (§1.2), read by the parser the autoscaler uses.

    With the stored ``config-autoscaler`` (as Knative's webhook reads it), ``max-scale-limit``
    and ``allow-zero-initial-scale`` are enforced at admission too.
    """
    parse_annotations(mapping_at(value, path), config, path=path)


def validate_serving_config(resource: Mapping[str, Any]) -> None:
    """A ConfigMap; ``knative-serving/config-autoscaler`` must parse (naming ``data.<key>``)."""
    validate_metadata(resource, dns1035=False)
    meta = resource["metadata"]
    if meta.get("namespace") == "knative-serving" and meta.get("name") == "config-autoscaler":
        data = mapping_at(resource.get("data"), "data")
        AutoscalerConfig.from_configmap({str(k): str(v) for k, v in data.items()})


def validate_revision_spec(value: Any, path: str) -> None:
    """containers, containerConcurrency <= 1000, timeoutSeconds <= 600, env, ports."""
    spec = mapping_at(value, path, required=True)
    if "containerConcurrency" in spec and spec["containerConcurrency"] is not None:
        cc = spec["containerConcurrency"]
        int_at(cc, f"{path}.containerConcurrency", 0, MAX_CONTAINER_CONCURRENCY)
    for key in ("timeoutSeconds", "responseStartTimeoutSeconds", "idleTimeoutSeconds"):
        if spec.get(key) is not None:
            int_at(spec[key], f"{path}.{key}", 0, MAX_TIMEOUT_SECONDS)
    containers = list_at(spec.get("containers"), f"{path}.containers")
    if not containers:
        fail("missing field(s)", f"{path}.containers")
    ported = [i for i, c in enumerate(containers) if isinstance(c, Mapping) and c.get("ports")]
    if len(containers) > 1 and len(ported) != 1:
        fail(
            "exactly one container must specify a containerPort when there are several",
            f"{path}.containers",
        )
    for index, container in enumerate(containers):
        validate_container(container, f"{path}.containers[{index}]")


def validate_container(value: Any, path: str) -> None:
    """image, reserved name, env and ports of one container."""
    container = mapping_at(value, path, required=True)
    image = container.get("image")
    if not isinstance(image, str) or not image.strip():
        fail("missing field(s)", f"{path}.image")
    if container.get("name") == "queue-proxy":
        fail("invalid value: queue-proxy: reserved container name", f"{path}.name")
    for index, env in enumerate(list_at(container.get("env"), f"{path}.env")):
        entry = mapping_at(env, f"{path}.env[{index}]")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            fail("missing field(s)", f"{path}.env[{index}].name")
        if name in RESERVED_ENV:
            fail(f'"{name}" is a reserved environment variable', f"{path}.env[{index}].name")
    ports = list_at(container.get("ports"), f"{path}.ports")
    if len(ports) > 1:
        fail("more than one container port is set", f"{path}.ports")
    for index, port in enumerate(ports):
        validate_port(port, f"{path}.ports[{index}]")


def validate_port(value: Any, path: str) -> None:
    """containerPort 1..65535 and not reserved; name "", http1 or h2c."""
    port = mapping_at(value, path)
    number = port.get("containerPort")
    if number is not None:
        int_at(number, f"{path}.containerPort", 0, 65535)
        if number in RESERVED_PORTS:
            fail(f"{number} is a reserved port", f"{path}.containerPort")
    if port.get("name", "") not in PORT_NAMES:
        fail(f"invalid value: {port.get('name')}", f"{path}.name")


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
