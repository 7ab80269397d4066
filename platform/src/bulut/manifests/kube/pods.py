"""kube-apiserver's validation of a pod spec, for the fields Bulut's manifests use.

:func:`validate_pod_spec` checks containers (names, ports, env, envFrom, resources, probes,
securityContext, volumeMounts), volumes, the pod's securityContext, serviceAccountName and
topologySpreadConstraints, with the rules of ``pkg/apis/core/validation`` (Kubernetes 1.33,
the version OpenShift 4.20 runs), after the API server's defaults.

``knative=True`` checks a Knative pod template: Knative fills in the container name
(``user-container``) and every probe's port before it creates the revision's Deployment, so
their absence is not an error there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.errors import InvalidInputError

from ..findings import FieldError
from . import quantity
from .names import (
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    invalid,
    label_key,
    port_name,
    port_number,
    port_number_or_name,
    required,
    unsupported,
)
from .selectors import keys_of, validate_selector

MAX_ID = 2147483647
PROTOCOLS = ["SCTP", "TCP", "UDP"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
MESSAGE_POLICIES = ["FallbackToLogsOnError", "File"]
SECCOMP_TYPES = ["Localhost", "RuntimeDefault", "Unconfined"]
WHEN_UNSATISFIABLE = ["DoNotSchedule", "ScheduleAnyway"]
NODE_POLICIES = ["Honor", "Ignore"]
VOLUME_SOURCES = (
    "emptyDir", "configMap", "secret", "projected", "persistentVolumeClaim", "downwardAPI",
    "hostPath", "csi", "ephemeral", "image", "nfs", "iscsi",
)  # fmt: skip
STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
FIELD_PATHS = {
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs",
}  # fmt: skip
RESOURCE_FIELDS = {
    f"{kind}.{name}"
    for kind in ("limits", "requests")
    for name in ("cpu", "memory", "ephemeral-storage")
}
NON_NEGATIVE = "must be greater than or equal to 0"


def validate_pod_spec(
    spec: Mapping[str, Any], path: str, *, knative: bool = False
) -> list[FieldError]:
    """Every error in a pod spec at ``path``."""
    errors: list[FieldError] = []
    volumes = _volumes(spec.get("volumes"), f"{path}.volumes", errors)
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        items = spec.get(group) or []
        if not isinstance(items, list):
            errors.append(invalid(f"{path}.{group}", items, "must be a list"))
            continue
        for index, container in enumerate(items):
            where = f"{path}.{group}[{index}]"
            if not isinstance(container, Mapping):
                errors.append(invalid(where, container, "must be an object"))
                continue
            name = container.get("name")
            if name in names:
                errors.append(duplicate(f"{where}.name", name))
            elif isinstance(name, str):
                names.add(name)
            errors += validate_container(
                container, where, volumes, knative=knative, init=group == "initContainers"
            )
    if not spec.get("containers"):
        errors.append(required(f"{path}.containers"))
    account = spec.get("serviceAccountName")
    if account:
        errors += dns1123_subdomain(f"{path}.serviceAccountName", account)
    errors += validate_pod_security_context(spec.get("securityContext"), f"{path}.securityContext")
    errors += validate_topology_spread(
        spec.get("topologySpreadConstraints"), f"{path}.topologySpreadConstraints"
    )
    return errors


def validate_container(
    container: Mapping[str, Any],
    path: str,
    volumes: Mapping[str, Mapping[str, Any]],
    *,
    knative: bool = False,
    init: bool = False,
) -> list[FieldError]:
    """One container: name, ports, env, envFrom, resources, probes, security, mounts."""
    errors: list[FieldError] = []
    name = container.get("name")
    if name is None or name == "":
        if not knative:
            errors.append(required(f"{path}.name"))
    else:
        errors += dns1123_label(f"{path}.name", name)
    errors += _ports(container.get("ports"), f"{path}.ports")
    errors += validate_env(container.get("env"), f"{path}.env")
    errors += validate_env_from(container.get("envFrom"), f"{path}.envFrom")
    errors += validate_resources(container.get("resources"), f"{path}.resources")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if container.get(probe) is not None:
            errors += validate_probe(
                container[probe], f"{path}.{probe}", kind=probe, port_defaulted=knative
            )
    errors += validate_security_context(container.get("securityContext"), f"{path}.securityContext")
    errors += _mounts(container.get("volumeMounts"), f"{path}.volumeMounts", volumes)
    policy = container.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        errors.append(unsupported(f"{path}.imagePullPolicy", policy, PULL_POLICIES))
    message = container.get("terminationMessagePolicy")
    if message is not None and message not in MESSAGE_POLICIES:
        errors.append(unsupported(f"{path}.terminationMessagePolicy", message, MESSAGE_POLICIES))
    return errors


def _ports(ports: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, port in enumerate(ports or []):
        where = f"{path}[{index}]"
        if "containerPort" not in port:
            errors.append(required(f"{where}.containerPort"))
        else:
            errors += port_number(f"{where}.containerPort", port["containerPort"])
        name = port.get("name")
        if name:
            errors += port_name(f"{where}.name", name)
            if name in names:
                errors.append(duplicate(f"{where}.name", name))
            names.add(name)
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            errors.append(unsupported(f"{where}.protocol", protocol, PROTOCOLS))
        if port.get("hostPort") is not None:
            errors += port_number(f"{where}.hostPort", port["hostPort"])
    return errors


def _env_name_problem(name: str) -> str | None:
    if not name:
        return None
    if "=" in name or any(not 32 <= ord(char) <= 126 for char in name):
        return (
            "a valid environment variable name must consist only of printable ASCII "
            "characters other than '='"
        )
    return None


def validate_env(env: Any, path: str) -> list[FieldError]:
    """Env vars: names, value xor valueFrom, exactly one source with its keys."""
    errors: list[FieldError] = []
    for index, entry in enumerate(env or []):
        where = f"{path}[{index}]"
        name = entry.get("name")
        if not name:
            errors.append(required(f"{where}.name"))
        else:
            problem = _env_name_problem(str(name))
            if problem:
                errors.append(invalid(f"{where}.name", name, problem))
        source = entry.get("valueFrom")
        if source is None:
            continue
        if entry.get("value"):
            errors.append(
                invalid(f"{where}.valueFrom", "", "may not be specified when `value` is not empty")
            )
        errors += _env_source(source, f"{where}.valueFrom")
    return errors


def _env_source(source: Mapping[str, Any], path: str) -> list[FieldError]:
    kinds = [
        k
        for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
        if source.get(k) is not None
    ]
    if not kinds:
        return [
            required(
                path,
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                "`secretKeyRef`",
            )
        ]
    if len(kinds) > 1:
        return [invalid(path, "", "may not have more than one field specified at a time")]
    kind = kinds[0]
    ref = source[kind]
    where = f"{path}.{kind}"
    errors: list[FieldError] = []
    if kind in ("configMapKeyRef", "secretKeyRef"):
        if not ref.get("name"):
            errors.append(required(f"{where}.name"))
        else:
            errors += dns1123_subdomain(f"{where}.name", ref["name"])
        if not ref.get("key"):
            errors.append(required(f"{where}.key"))
    elif kind == "fieldRef":
        field = str(ref.get("fieldPath", ""))
        bracketed = field.startswith(
            ("metadata.labels[", "metadata.annotations[")
        ) and field.endswith("]")
        if not field:
            errors.append(required(f"{where}.fieldPath"))
        elif field not in FIELD_PATHS and not bracketed:
            errors.append(unsupported(f"{where}.fieldPath", field, sorted(FIELD_PATHS)))
    else:
        resource = str(ref.get("resource", ""))
        if not resource:
            errors.append(required(f"{where}.resource"))
        elif resource not in RESOURCE_FIELDS:
            errors.append(unsupported(f"{where}.resource", resource, sorted(RESOURCE_FIELDS)))
    return errors


def validate_env_from(sources: Any, path: str) -> list[FieldError]:
    """envFrom: exactly one of configMapRef/secretRef, with a name; a valid prefix."""
    errors: list[FieldError] = []
    for index, source in enumerate(sources or []):
        where = f"{path}[{index}]"
        refs = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        if not refs:
            errors.append(required(where, "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            errors.append(
                invalid(where, "", "may not have more than one field specified at a time")
            )
        for ref in refs:
            name = source[ref].get("name")
            if not name:
                errors.append(required(f"{where}.{ref}.name"))
            else:
                errors += dns1123_subdomain(f"{where}.{ref}.name", name)
        prefix = source.get("prefix")
        if prefix:
            problem = _env_name_problem(str(prefix))
            if problem:
                errors.append(invalid(f"{where}.prefix", prefix, problem))
    return errors


def validate_resources(resources: Any, path: str) -> list[FieldError]:
    """Resource names, quantities >= 0, and every request <= its limit."""
    if not resources:
        return []
    errors: list[FieldError] = []
    parsed: dict[str, dict[str, Any]] = {"limits": {}, "requests": {}}
    for kind in ("limits", "requests"):
        for name, value in (resources.get(kind) or {}).items():
            where = f"{path}.{kind}[{name}]"
            name = str(name)
            if (
                "/" not in name
                and name not in STANDARD_CONTAINER_RESOURCES
                and not name.startswith("hugepages-")
            ):
                errors.append(invalid(where, name, "must be a standard resource for containers"))
                continue
            try:
                amount = quantity.parse(value)
            except InvalidInputError as error:
                errors.append(invalid(where, value, error.message))
                continue
            if amount < 0:
                errors.append(invalid(where, str(value), NON_NEGATIVE))
            parsed[kind][name] = (amount, value)
    for name, (request, shown) in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and request > limit[0]:
            errors.append(
                invalid(
                    f"{path}.requests[{name}]",
                    str(shown),
                    f"must be less than or equal to {name} limit of {limit[1]}",
                )
            )
    return errors


def validate_probe(
    probe: Any, path: str, *, kind: str, port_defaulted: bool = False
) -> list[FieldError]:
    """One handler, non-negative timings, successThreshold 1 for liveness and startup."""
    if not isinstance(probe, Mapping):
        return [invalid(path, probe, "must be an object")]
    errors: list[FieldError] = []
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(h) is not None]
    if not handlers:
        errors.append(required(path, "must specify a handler type"))
    elif len(handlers) > 1:
        errors.append(
            forbidden(f"{path}.{handlers[1]}", "may not specify more than 1 handler type")
        )
    for field in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        value = probe.get(field)
        if value is not None and (not isinstance(value, int) or value < 0):
            errors.append(invalid(f"{path}.{field}", value, NON_NEGATIVE))
    success = probe.get("successThreshold")
    if kind in ("livenessProbe", "startupProbe") and success not in (None, 0, 1):
        errors.append(invalid(f"{path}.successThreshold", success, "must be 1"))
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None:
        if kind == "readinessProbe":
            errors.append(
                invalid(
                    f"{path}.terminationGracePeriodSeconds",
                    grace,
                    "must not be set for readinessProbes",
                )
            )
        elif not isinstance(grace, int) or grace <= 0:
            errors.append(
                invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0")
            )
    http = probe.get("httpGet")
    if isinstance(http, Mapping):
        errors += _probe_port(http, f"{path}.httpGet", port_defaulted)
        scheme = http.get("scheme", "HTTP")
        if scheme not in ("HTTP", "HTTPS"):
            errors.append(unsupported(f"{path}.httpGet.scheme", scheme, ["HTTP", "HTTPS"]))
    tcp = probe.get("tcpSocket")
    if isinstance(tcp, Mapping):
        errors += _probe_port(tcp, f"{path}.tcpSocket", port_defaulted)
    command = (
        (probe.get("exec") or {}).get("command") if isinstance(probe.get("exec"), Mapping) else None
    )
    if probe.get("exec") is not None and not command:
        errors.append(required(f"{path}.exec.command"))
    grpc = probe.get("grpc")
    if isinstance(grpc, Mapping) and not (port_defaulted and grpc.get("port") is None):
        errors += port_number(f"{path}.grpc.port", grpc.get("port"))
    return errors


def _probe_port(handler: Mapping[str, Any], path: str, defaulted: bool) -> list[FieldError]:
    port = handler.get("port")
    if port is None or port == 0:
        return [] if defaulted else [required(f"{path}.port")]
    return port_number_or_name(f"{path}.port", port)


def _seccomp(profile: Any, path: str) -> list[FieldError]:
    if not isinstance(profile, Mapping):
        return []
    kind = profile.get("type")
    errors: list[FieldError] = []
    if kind not in SECCOMP_TYPES:
        errors.append(unsupported(f"{path}.type", kind, SECCOMP_TYPES))
    local = profile.get("localhostProfile")
    if kind == "Localhost" and not local:
        errors.append(
            required(f"{path}.localhostProfile", "must be set when seccomp type is Localhost")
        )
    if kind != "Localhost" and local:
        errors.append(
            invalid(
                f"{path}.localhostProfile", local, "can only be set when seccomp type is Localhost"
            )
        )
    return errors


def _id_range(context: Mapping[str, Any], path: str, fields: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    for field in fields:
        value = context.get(field)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_ID):
            errors.append(
                invalid(f"{path}.{field}", value, f"must be between 0 and {MAX_ID}, inclusive")
            )
    return errors


def validate_security_context(context: Any, path: str) -> list[FieldError]:
    """A container's securityContext."""
    if not isinstance(context, Mapping):
        return []
    errors = _id_range(context, path, ("runAsUser", "runAsGroup"))
    errors += _seccomp(context.get("seccompProfile"), f"{path}.seccompProfile")
    escalation = context.get("allowPrivilegeEscalation")
    if escalation is False and context.get("privileged") is True:
        errors.append(
            invalid(
                path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            )
        )
    added = (context.get("capabilities") or {}).get("add") or []
    if escalation is False and ("CAP_SYS_ADMIN" in added or "SYS_ADMIN" in added):
        errors.append(
            invalid(
                path,
                "",
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                "CAP_SYS_ADMIN",
            )
        )
    mount = context.get("procMount")
    if mount is not None and mount not in ("Default", "Unmasked"):
        errors.append(unsupported(f"{path}.procMount", mount, ["Default", "Unmasked"]))
    return errors


def validate_pod_security_context(context: Any, path: str) -> list[FieldError]:
    """The pod's securityContext: ids, groups, seccomp, fsGroupChangePolicy."""
    if not isinstance(context, Mapping):
        return []
    errors = _id_range(context, path, ("runAsUser", "runAsGroup", "fsGroup"))
    for index, group in enumerate(context.get("supplementalGroups") or []):
        if not isinstance(group, int) or not 0 <= group <= MAX_ID:
            errors.append(
                invalid(
                    f"{path}.supplementalGroups[{index}]",
                    group,
                    f"must be between 0 and {MAX_ID}, inclusive",
                )
            )
    errors += _seccomp(context.get("seccompProfile"), f"{path}.seccompProfile")
    policy = context.get("fsGroupChangePolicy")
    if policy is not None and policy not in ("Always", "OnRootMismatch"):
        errors.append(
            unsupported(f"{path}.fsGroupChangePolicy", policy, ["Always", "OnRootMismatch"])
        )
    return errors


def _volumes(volumes: Any, path: str, errors: list[FieldError]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for index, volume in enumerate(volumes or []):
        where = f"{path}[{index}]"
        name = volume.get("name")
        if not name:
            errors.append(required(f"{where}.name"))
        else:
            errors += dns1123_label(f"{where}.name", name)
            if name in found:
                errors.append(duplicate(f"{where}.name", name))
            found[str(name)] = volume
        sources = [s for s in VOLUME_SOURCES if volume.get(s) is not None]
        if not sources:
            errors.append(required(where, "must specify a volume type"))
        elif len(sources) > 1:
            errors.append(
                forbidden(f"{where}.{sources[1]}", "may not specify more than 1 volume type")
            )
        else:
            errors += _volume_source(sources[0], volume[sources[0]], f"{where}.{sources[0]}")
    return found


def _volume_source(kind: str, source: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if kind == "configMap" and not source.get("name"):
        errors.append(required(f"{path}.name"))
    if kind == "secret" and not source.get("secretName"):
        errors.append(required(f"{path}.secretName"))
    if kind == "persistentVolumeClaim" and not source.get("claimName"):
        errors.append(required(f"{path}.claimName"))
    if kind == "emptyDir":
        medium = source.get("medium", "")
        if medium not in ("", "Memory") and not str(medium).startswith("HugePages"):
            errors.append(unsupported(f"{path}.medium", medium, ["", "Memory", "HugePages"]))
        if source.get("sizeLimit") is not None:
            try:
                if quantity.parse(source["sizeLimit"]) <= 0:
                    errors.append(
                        invalid(
                            f"{path}.sizeLimit",
                            str(source["sizeLimit"]),
                            "must be greater than zero",
                        )
                    )
            except InvalidInputError as error:
                errors.append(invalid(f"{path}.sizeLimit", source["sizeLimit"], error.message))
    mode = source.get("defaultMode")
    if mode is not None and (not isinstance(mode, int) or not 0 <= mode <= 0o777):
        errors.append(
            invalid(
                f"{path}.defaultMode",
                mode,
                "must be a number between 0 and 0777 (octal), both inclusive",
            )
        )
    for index, item in enumerate(source.get("items") or []):
        where = f"{path}.items[{index}]"
        if not item.get("key"):
            errors.append(required(f"{where}.key"))
        errors += _relative_path(item.get("path"), f"{where}.path", required_value=True)
    return errors


def _relative_path(value: Any, path: str, *, required_value: bool) -> list[FieldError]:
    if not value:
        return [required(path)] if required_value else []
    text = str(value)
    if text.startswith("/"):
        return [invalid(path, text, "must be a relative path")]
    if ".." in text.split("/"):
        return [invalid(path, text, "must not contain '..'")]
    return []


def _mounts(mounts: Any, path: str, volumes: Mapping[str, Mapping[str, Any]]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, mount in enumerate(mounts or []):
        where = f"{path}[{index}]"
        name = mount.get("name")
        if not name:
            errors.append(required(f"{where}.name"))
        elif name not in volumes:
            errors.append(FieldError(f"{where}.name", f'Not found: "{name}"'))
        mount_path = mount.get("mountPath")
        if not mount_path:
            errors.append(required(f"{where}.mountPath"))
        elif mount_path in seen:
            errors.append(invalid(f"{where}.mountPath", mount_path, "must be unique"))
        else:
            seen.add(str(mount_path))
        errors += _relative_path(mount.get("subPath"), f"{where}.subPath", required_value=False)
    return errors


def validate_topology_spread(constraints: Any, path: str) -> list[FieldError]:
    """topologySpreadConstraints: maxSkew > 0, key, action, no repeats, minDomains, label keys.

    ``matchLabelKeys`` follows the rule of Kubernetes <= 1.33 (``validateMatchLabelKeysIn
    TopologySpread``): a key may not also appear in ``labelSelector``, and the field needs a
    ``labelSelector``.
    """
    errors: list[FieldError] = []
    items = constraints or []
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        skew = item.get("maxSkew")
        if not isinstance(skew, int) or skew <= 0:
            errors.append(invalid(f"{where}.maxSkew", skew, "must be greater than zero"))
        if not item.get("topologyKey"):
            errors.append(required(f"{where}.topologyKey", "can not be empty"))
        action = item.get("whenUnsatisfiable")
        if action not in WHEN_UNSATISFIABLE:
            errors.append(unsupported(f"{where}.whenUnsatisfiable", action, WHEN_UNSATISFIABLE))
        for later in items[index + 1 :]:
            if (later.get("topologyKey"), later.get("whenUnsatisfiable")) == (
                item.get("topologyKey"),
                action,
            ):
                errors.append(
                    duplicate(
                        f"{where}.{{topologyKey, whenUnsatisfiable}}",
                        f"{{{item.get('topologyKey')}, {action}}}",
                    )
                )
                break
        domains = item.get("minDomains")
        if domains is not None:
            if not isinstance(domains, int) or domains <= 0:
                errors.append(invalid(f"{where}.minDomains", domains, "must be greater than zero"))
            if action != "DoNotSchedule":
                errors.append(
                    invalid(
                        f"{where}.minDomains",
                        domains,
                        f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}",
                    )
                )
        for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            if item.get(policy) is not None and item[policy] not in NODE_POLICIES:
                errors.append(unsupported(f"{where}.{policy}", item[policy], NODE_POLICIES))
        selector = item.get("labelSelector")
        keys = item.get("matchLabelKeys") or []
        if keys and selector is None:
            errors.append(
                forbidden(
                    f"{where}.matchLabelKeys", "must not be specified when labelSelector is not set"
                )
            )
        in_selector = set(keys_of(selector))
        for key_index, key in enumerate(keys):
            errors += label_key(f"{where}.matchLabelKeys[{key_index}]", key)
            if key in in_selector:
                errors.append(
                    invalid(
                        f"{where}.matchLabelKeys[{key_index}]",
                        key,
                        "exists in both matchLabelKeys and labelSelector",
                    )
                )
        errors += validate_selector(selector, f"{where}.labelSelector")
    return errors


__all__ = [
    "validate_container",
    "validate_env",
    "validate_env_from",
    "validate_pod_security_context",
    "validate_pod_spec",
    "validate_probe",
    "validate_resources",
    "validate_security_context",
    "validate_topology_spread",
]
