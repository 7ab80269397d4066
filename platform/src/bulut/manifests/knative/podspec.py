"""Knative's webhook rules for a RevisionSpec: the pod spec allow-list and what it checks.

Rules and messages follow knative/serving ``pkg/apis/serving/k8s_validation.go`` and
``fieldmask.go`` (1.21): a field outside the allow-list, or behind a ``config-features`` gate
that is Disabled, is refused with ``must not set the field(s)``; volumes and init containers
need their gate Enabled; reserved container names, env vars, ports and mount paths are
refused; probes must target the serving port; ``containerConcurrency`` and
``timeoutSeconds`` stay within ``config-defaults``.

:func:`validate_revision_spec` returns every error; paths are below the ``path`` it is given.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from ..findings import FieldError
from ..kube.names import is_dns1123_label, is_dns1123_subdomain
from .config import ServingConfig
from .features import PODSPEC_GATES, VOLUME_GATES, Features

RESERVED_CONTAINER_NAMES = frozenset({"queue-proxy"})
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
RESERVED_SIDECAR_ENV = RESERVED_ENV - {"PORT"}
# queue-proxy's ports (8012 http, 8013 h2c, 8022 admin, 9090/9091 metrics) and profiling (8008).
RESERVED_PORTS = frozenset({8008, 8012, 8013, 8022, 9090, 9091})
RESERVED_PATHS = frozenset({"/", "/dev", "/dev/log"})
PORT_NAMES = frozenset({"", "h2c", "http1"})
DEFAULT_PORT = 8080

_PODSPEC_ALWAYS = {
    "serviceAccountName",
    "containers",
    "volumes",
    "imagePullSecrets",
    "enableServiceLinks",
}
# Revision-only fields around the pod spec, validated on their own below.
_REVISION_FIELDS = {
    "containerConcurrency",
    "timeoutSeconds",
    "responseStartTimeoutSeconds",
    "idleTimeoutSeconds",
}
_CONTAINER_FIELDS = {
    "name", "args", "command", "env", "workingDir", "envFrom", "image", "imagePullPolicy",
    "livenessProbe", "ports", "readinessProbe", "resources", "securityContext", "startupProbe",
    "terminationMessagePath", "terminationMessagePolicy", "volumeMounts",
}  # fmt: skip
_SECURITY_FIELDS = {
    "capabilities", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "runAsNonRoot",
    "allowPrivilegeEscalation", "seccompProfile", "privileged",
}  # fmt: skip
_POD_SECURITY_FIELDS = {
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "fsGroup",
    "supplementalGroups",
    "seccompProfile",
}
_PROBE_FIELDS = {
    "exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds",
    "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds",
}  # fmt: skip
_MOUNT_FIELDS = {"name", "readOnly", "mountPath", "subPath"}
_PORT_FIELDS = {"containerPort", "name", "protocol"}
_ENV_SOURCES = {"configMapKeyRef", "secretKeyRef"}
_IMAGE = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[A-Za-z0-9._-]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)
MAX_INT32 = 2147483647


# Go map fields: an empty map is omitted like an unset one. Any other ``{}`` is a set
# struct pointer (``emptyDir: {}``), which the webhook's field mask does see.
_MAP_FIELDS = frozenset({"nodeSelector", "overhead", "limits", "requests"})


def disallowed(path: str, fields: list[str]) -> FieldError:
    """Knative's ``must not set the field(s)`` for fields outside the allow-list."""
    return FieldError(
        ", ".join(f"{path}.{name}" for name in sorted(fields)), "must not set the field(s)"
    )


def _outside(value: Mapping[str, Any], allowed: set[str]) -> list[str]:
    """Keys set (as Go's JSON omitempty sees them) that ``allowed`` does not list."""
    return [
        key
        for key, item in value.items()
        if key not in allowed
        and item not in (None, False, "", [], 0)
        and not (item == {} and key in _MAP_FIELDS)
    ]


def validate_revision_spec(
    spec: Mapping[str, Any], path: str, config: ServingConfig
) -> list[FieldError]:
    """Every webhook error in a RevisionSpec (a template's ``spec``) at ``path``."""
    errors: list[FieldError] = []
    errors += validate_pod_spec(spec, path, config.features)
    concurrency = spec.get("containerConcurrency")
    if concurrency is not None:
        low, high = (
            config.defaults.min_container_concurrency,
            config.defaults.container_concurrency_max_limit,
        )
        if (
            isinstance(concurrency, bool)
            or not isinstance(concurrency, int)
            or not low <= concurrency <= high
        ):
            errors.append(
                FieldError(
                    f"{path}.containerConcurrency", f"expected {low} <= {concurrency} <= {high}"
                )
            )
    timeout = spec.get("timeoutSeconds")
    if timeout is not None and timeout != 0:
        high = config.defaults.max_revision_timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= high:
            errors.append(
                FieldError(f"{path}.timeoutSeconds", f"expected 0 <= {timeout} <= {high}")
            )
    return errors


def validate_pod_spec(spec: Mapping[str, Any], path: str, features: Features) -> list[FieldError]:
    """The pod spec part of a RevisionSpec."""
    errors: list[FieldError] = []
    allowed = set(_PODSPEC_ALWAYS) | _REVISION_FIELDS
    allowed |= {name for name, gate in PODSPEC_GATES.items() if features.allows(gate)}
    if features.allows("kubernetes.podspec-securitycontext") or features.secure_defaults:
        allowed.add("securityContext")
    outside = _outside(spec, allowed)
    if spec.get("automountServiceAccountToken") is False:
        outside = [name for name in outside if name != "automountServiceAccountToken"]
    if outside:
        errors.append(disallowed(path, outside))
    errors += _pod_security(spec.get("securityContext"), f"{path}.securityContext", features)
    containers = [c for c in spec.get("containers") or [] if isinstance(c, Mapping)]
    init = [c for c in spec.get("initContainers") or [] if isinstance(c, Mapping)]
    mounted = {
        str(m.get("name")) for c in [*init, *containers] for m in c.get("volumeMounts") or []
    }
    volumes = _volumes(spec.get("volumes") or [], f"{path}.volumes", mounted, features, errors)
    if init:
        if not features.enabled("kubernetes.podspec-init-containers"):
            errors.append(
                FieldError(
                    f"{path}.initContainers",
                    "pod spec support for init-containers is off, "
                    f"but found {len(init)} init containers",
                )
            )
        names = {c.get("name") for c in containers}
        for index, container in enumerate(init):
            where = f"{path}.initContainers[{index}]"
            if container.get("name") in names:
                errors.append(
                    FieldError(
                        f"{where}.name", f'duplicate container name "{container.get("name")}"'
                    )
                )
            for field in ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle"):
                if container.get(field) is not None:
                    errors.append(
                        FieldError(f"{where}.{field}", "field not allowed in an init container")
                    )
            errors += _container(
                container, where, volumes, features, reserved=RESERVED_SIDECAR_ENV, init=True
            )
    port, port_errors = _serving_port(containers, f"{path}.containers[*]")
    errors += port_errors
    if not containers:
        errors.append(FieldError(f"{path}.containers", "missing field(s)"))
    elif len(containers) == 1:
        errors += _user_container(containers[0], f"{path}.containers[0]", volumes, port, features)
    else:
        if not features.enabled("multi-container"):
            errors.append(
                FieldError(
                    f"{path}.containers",
                    f"multi-container is off, but found {len(containers)} containers",
                )
            )
        seen: set[str] = set()
        for index, container in enumerate(containers):
            where = f"{path}.containers[{index}]"
            name = str(container.get("name") or "")  # unnamed ones get distinct defaults
            if name and name in seen:
                errors.append(FieldError(f"{where}.name", f'duplicate container name "{name}"'))
            seen.add(name)
            if container.get("ports"):
                errors += _user_container(container, where, volumes, port, features)
            else:
                errors += _sidecar(container, where, volumes, features)
    account = spec.get("serviceAccountName")
    if account and not is_dns1123_subdomain(account):
        errors.append(FieldError(f"{path}.serviceAccountName", f"invalid value: {account}"))
    return errors


def _pod_security(context: Any, path: str, features: Features) -> list[FieldError]:
    if not isinstance(context, Mapping):
        return []
    if features.allows("kubernetes.podspec-securitycontext"):
        allowed = set(_POD_SECURITY_FIELDS)
    else:
        allowed = set()
        seccomp = (context.get("seccompProfile") or {}).get("type")
        if features.secure_defaults and seccomp in ("RuntimeDefault", "Unconfined"):
            allowed.add("seccompProfile")
    errors: list[FieldError] = []
    outside = _outside(context, allowed)
    if outside:
        errors.append(disallowed(path, outside))
    for field in ("runAsUser", "runAsGroup", "fsGroup"):
        value = context.get(field)
        if isinstance(value, int) and not 0 <= value <= MAX_INT32:
            errors.append(FieldError(f"{path}.{field}", f"expected 0 <= {value} <= {MAX_INT32}"))
    return errors


def _volumes(
    volumes: list[Any], path: str, mounted: set[str], features: Features, errors: list[FieldError]
) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for index, volume in enumerate(volumes):
        where = f"{path}[{index}]"
        name = str(volume.get("name", ""))
        if name in found:
            errors.append(FieldError(f"{where}.name", f'duplicate volume name "{name}"'))
        if name not in mounted:
            errors.append(FieldError(f"{where}.name", f'volume with name "{name}" not mounted'))
        if not name:
            errors.append(FieldError(f"{where}.name", "missing field(s)"))
        elif not is_dns1123_label(name):
            errors.append(FieldError(f"{where}.name", f"invalid value: {name}"))
        errors += _volume_source(volume, where, features)
        found[name] = volume
    return found


def _volume_source(volume: Mapping[str, Any], path: str, features: Features) -> list[FieldError]:
    errors: list[FieldError] = []
    name = volume.get("name")
    allowed = {"name", "secret", "configMap", "projected"}
    allowed |= {source for source, gate in VOLUME_GATES.items() if features.allows(gate)}
    outside = _outside(volume, allowed)
    if outside:
        errors.append(disallowed(path, outside))
    labels = {
        "emptyDir": "EmptyDir",
        "hostPath": "HostPath",
        "csi": "CSI",
        "ephemeral": "Ephemeral",
        "image": "Image",
    }
    for source, label in labels.items():
        if volume.get(source) is not None and not features.enabled(VOLUME_GATES[source]):
            errors.append(
                FieldError(
                    path, f"{label} volume support is disabled, but found {label} volume {name}"
                )
            )
    claim = volume.get("persistentVolumeClaim")
    if claim is not None:
        claim_name = claim.get("claimName")
        if not features.enabled("kubernetes.podspec-persistent-volume-claim"):
            errors.append(
                FieldError(
                    path,
                    "Persistent volume claim support is disabled, "
                    f"but found persistent volume claim {claim_name}",
                )
            )
        if not claim.get("readOnly") and not features.enabled(
            "kubernetes.podspec-persistent-volume-write"
        ):
            errors.append(
                FieldError(
                    path,
                    "Persistent volume write support is disabled, "
                    f"but found persistent volume claim {claim_name} that is not read-only",
                )
            )
    known = ("secret", "configMap", "projected", *VOLUME_GATES)
    given = [source for source in known if volume.get(source) is not None]
    if not given:
        errors.append(FieldError(path, "expected exactly one, got neither"))
    elif len(given) > 1:
        errors.append(
            FieldError(", ".join(f"{path}.{g}" for g in given), "expected exactly one, got both")
        )
    empty = volume.get("emptyDir")
    if isinstance(empty, Mapping) and empty.get("medium", "") not in ("", "Memory"):
        errors.append(FieldError(f"{path}.emptyDir.medium", f"invalid value: {empty['medium']}"))
    projected = volume.get("projected")
    for index, source in enumerate((projected or {}).get("sources") or []):
        kinds = [
            k
            for k in ("secret", "configMap", "serviceAccountToken", "downwardAPI")
            if source.get(k) is not None
        ]
        outside = _outside(source, {"secret", "configMap", "serviceAccountToken", "downwardAPI"})
        where = f"{path}.projected[{index}]"
        if outside:
            errors.append(disallowed(where, outside))
        if not kinds:
            errors.append(FieldError(where, "expected exactly one, got neither"))
        elif len(kinds) > 1:
            errors.append(FieldError(where, "expected exactly one, got both"))
    return errors


def _serving_port(
    containers: list[Mapping[str, Any]], path: str
) -> tuple[Mapping[str, Any], list[FieldError]]:
    ports = [p for c in containers for p in c.get("ports") or []]
    port: dict[str, Any] = dict(ports[0]) if ports else {}
    port.setdefault("name", "")
    port["containerPort"] = port.get("containerPort") or DEFAULT_PORT
    if not ports and len(containers) > 1:
        return port, [FieldError(f"{path}.ports", "missing field(s)")]
    if len(ports) > 1:
        return port, [FieldError(f"{path}.ports", "more than one container port is set")]
    return port, []


def _user_container(
    container: Mapping[str, Any],
    path: str,
    volumes: Mapping[str, Any],
    port: Mapping[str, Any],
    features: Features,
) -> list[FieldError]:
    errors: list[FieldError] = []
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if container.get(probe) is not None:
            errors += _probe(
                container[probe], f"{path}.{probe}", port, readiness=probe == "readinessProbe"
            )
    return errors + _container(container, path, volumes, features, reserved=RESERVED_ENV)


def _sidecar(
    container: Mapping[str, Any], path: str, volumes: Mapping[str, Any], features: Features
) -> list[FieldError]:
    errors: list[FieldError] = []
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        value = container.get(probe)
        if value is None:
            continue
        if not features.enabled("multi-container-probing"):
            fields = [k for k, v in value.items() if v not in (None, 0, {}, [])]
            if fields:
                errors.append(disallowed(f"{path}.{probe}", fields))
        else:
            errors += _probe(value, f"{path}.{probe}", None, readiness=probe == "readinessProbe")
    return errors + _container(container, path, volumes, features, reserved=RESERVED_SIDECAR_ENV)


def _probe(
    probe: Mapping[str, Any], path: str, port: Mapping[str, Any] | None, *, readiness: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    outside = _outside(probe, _PROBE_FIELDS)
    if outside:
        errors.append(disallowed(path, outside))
    handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if probe.get(h) is not None]
    if not handlers:
        errors.append(
            FieldError(
                ", ".join(f"{path}.{h}" for h in ("httpGet", "tcpSocket", "exec", "grpc")),
                "expected exactly one, got neither",
            )
        )
    elif len(handlers) > 1:
        errors.append(
            FieldError(", ".join(f"{path}.{h}" for h in handlers), "expected exactly one, got both")
        )
    for handler in ("httpGet", "tcpSocket"):
        target = probe.get(handler)
        if not isinstance(target, Mapping):
            continue
        given = target.get("port")
        if port is not None:
            if isinstance(given, str) and given and given != port.get("name"):
                errors.append(
                    FieldError(
                        f"{path}.{handler}.port",
                        f"invalid value: {given}: Probe port must match container port",
                    )
                )
        elif given in (None, 0, ""):
            errors.append(
                FieldError(
                    f"{path}.{handler}.port",
                    f"invalid value: {given}: Probe port must be specified",
                )
            )
    if readiness:
        errors += _readiness_timings(probe, path)
    return errors


def _readiness_timings(probe: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    period = probe.get("periodSeconds") or 0
    delay = probe.get("initialDelaySeconds") or 0
    success = probe.get("successThreshold") or 1  # Knative defaults it to 1
    if period < 0:
        errors.append(FieldError(f"{path}.periodSeconds", f"expected 0 <= {period} <= {MAX_INT32}"))
    if delay < 0:
        errors.append(
            FieldError(f"{path}.initialDelaySeconds", f"expected 0 <= {delay} <= {MAX_INT32}")
        )
    if success < 1:
        errors.append(
            FieldError(f"{path}.successThreshold", f"expected 1 <= {success} <= {MAX_INT32}")
        )
    if period == 0:
        if probe.get("failureThreshold"):
            errors.append(
                FieldError(
                    f"{path}.failureThreshold",
                    "failureThreshold is disallowed when periodSeconds is zero",
                )
            )
        if probe.get("timeoutSeconds"):
            errors.append(
                FieldError(
                    f"{path}.timeoutSeconds",
                    "timeoutSeconds is disallowed when periodSeconds is zero",
                )
            )
    else:  # Knative defaults timeoutSeconds to 1 and failureThreshold to 3 here
        timeout = probe.get("timeoutSeconds", 1)
        failure = probe.get("failureThreshold", 3)
        if timeout is not None and timeout < 1:
            errors.append(
                FieldError(f"{path}.timeoutSeconds", f"expected 1 <= {timeout} <= {MAX_INT32}")
            )
        if failure is not None and failure < 1:
            errors.append(
                FieldError(f"{path}.failureThreshold", f"expected 1 <= {failure} <= {MAX_INT32}")
            )
    return errors


def _container(
    container: Mapping[str, Any],
    path: str,
    volumes: Mapping[str, Any],
    features: Features,
    *,
    reserved: frozenset[str],
    init: bool = False,
) -> list[FieldError]:
    errors: list[FieldError] = []
    outside = _outside(container, _CONTAINER_FIELDS)
    if outside:
        errors.append(disallowed(path, outside))
    name = container.get("name")
    if name in RESERVED_CONTAINER_NAMES:
        errors.append(FieldError(f"{path}.name", f'"{name}" is a reserved container name'))
    errors += _env(container.get("env") or [], f"{path}.env", features, reserved)
    errors += _env_from(container.get("envFrom") or [], f"{path}.envFrom")
    image = container.get("image")
    if not isinstance(image, str) or not image.strip():
        errors.append(FieldError(f"{path}.image", "missing field(s)"))
    elif not _IMAGE.match(image):
        errors.append(
            FieldError(f"{path}.image", f'Failed to parse image reference: image: "{image}"')
        )
    errors += _ports(container.get("ports") or [], f"{path}.ports", init=init)
    errors += _security(container.get("securityContext"), f"{path}.securityContext", features)
    message = container.get("terminationMessagePolicy")
    if message not in (None, "", "File", "FallbackToLogsOnError"):
        errors.append(FieldError(f"{path}.terminationMessagePolicy", f"invalid value: {message}"))
    errors += _mounts(
        container.get("volumeMounts") or [], f"{path}.volumeMounts", volumes, features
    )
    return errors


def _env(
    env: list[Any], path: str, features: Features, reserved: frozenset[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    sources = set(_ENV_SOURCES)
    if features.allows("kubernetes.podspec-fieldref"):
        sources |= {"fieldRef", "resourceFieldRef"}
    for index, entry in enumerate(env):
        where = f"{path}[{index}]"
        outside = _outside(entry, {"name", "value", "valueFrom"})
        if outside:
            errors.append(disallowed(where, outside))
        name = entry.get("name")
        if not name:
            errors.append(FieldError(f"{where}.name", "missing field(s)"))
        elif name in reserved:
            errors.append(
                FieldError(f"{where}.name", f'"{name}" is a reserved environment variable')
            )
        source = entry.get("valueFrom")
        if isinstance(source, Mapping):
            outside = _outside(source, sources)
            if outside:
                errors.append(disallowed(f"{where}.valueFrom", outside))
    return errors


def _env_from(sources: list[Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, source in enumerate(sources):
        where = f"{path}[{index}]"
        outside = _outside(source, {"prefix", "configMapRef", "secretRef"})
        if outside:
            errors.append(disallowed(where, outside))
        given = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        if len(given) > 1:
            errors.append(
                FieldError(
                    f"{where}.configMapRef, {where}.secretRef", "expected exactly one, got both"
                )
            )
        elif not given:
            errors.append(
                FieldError(
                    f"{where}.configMapRef, {where}.secretRef", "expected exactly one, got neither"
                )
            )
    return errors


def _ports(ports: list[Any], path: str, *, init: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, port in enumerate(ports if init else ports[:1]):
        where = f"{path}[{index}]" if init else path
        outside = _outside(port, _PORT_FIELDS)
        if outside:
            errors.append(disallowed(where, outside))
        number = port.get("containerPort", 0)
        if number in RESERVED_PORTS:
            errors.append(
                FieldError(f"{where}.containerPort", f"invalid value: {number} is a reserved port")
            )
        if isinstance(number, int) and not 0 <= number <= 65535:
            errors.append(FieldError(f"{where}.containerPort", f"expected 0 <= {number} <= 65535"))
        if init:
            continue
        protocol = port.get("protocol", "")
        if protocol not in ("", "TCP"):
            errors.append(FieldError(f"{where}.protocol", f"invalid value: {protocol}"))
        name = port.get("name", "")
        if name not in PORT_NAMES:
            errors.append(FieldError(where, f"Port name {name} is not allowed"))
    return errors


def _security(context: Any, path: str, features: Features) -> list[FieldError]:
    if not isinstance(context, Mapping):
        return []
    errors: list[FieldError] = []
    outside = _outside(context, _SECURITY_FIELDS)
    if context.get("privileged") is True:
        outside.append("privileged")
    if outside:
        errors.append(disallowed(path, sorted(set(outside))))
    added = (context.get("capabilities") or {}).get("add") or []
    add_allowed = features.enabled("kubernetes.containerspec-addcapabilities") or (
        features.secure_defaults and list(added) == ["NET_BIND_SERVICE"]
    )
    if added and not add_allowed:
        errors.append(disallowed(f"{path}.capabilities", ["add"]))
    for field in ("runAsUser", "runAsGroup"):
        value = context.get(field)
        if isinstance(value, int) and not 0 <= value <= MAX_INT32:
            errors.append(FieldError(f"{path}.{field}", f"expected 0 <= {value} <= {MAX_INT32}"))
    return errors


def _mounts(
    mounts: list[Any], path: str, volumes: Mapping[str, Any], features: Features
) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = set(_MOUNT_FIELDS)
    if features.allows("kubernetes.podspec-volumes-mount-propagation"):
        allowed.add("mountPropagation")
    seen: set[str] = set()
    for index, mount in enumerate(mounts):
        where = f"{path}[{index}]"
        outside = _outside(mount, allowed)
        if outside:
            errors.append(disallowed(where, outside))
        name = str(mount.get("name", ""))
        volume = volumes.get(name)
        if volume is None:
            errors.append(FieldError(f"{where}.name", "volumeMount has no matching volume"))
        target = mount.get("mountPath")
        clean = posixpath.normpath(str(target)) if target else ""
        if not target:
            errors.append(FieldError(f"{where}.mountPath", "missing field(s)"))
        elif clean in RESERVED_PATHS:
            errors.append(
                FieldError(f"{where}.mountPath", f'mountPath "{clean}" is a reserved path')
            )
        elif not posixpath.isabs(str(target)):
            errors.append(FieldError(f"{where}.mountPath", f"invalid value: {target}"))
        elif clean in seen:
            errors.append(
                FieldError(f"{where}.mountPath", f'invalid value: "{target}" must be unique')
            )
        seen.add(clean)
        writable_kind = volume is not None and any(
            volume.get(k) is not None for k in ("emptyDir", "persistentVolumeClaim", "ephemeral")
        )
        if volume is not None and not writable_kind and not mount.get("readOnly"):
            errors.append(
                FieldError(
                    f"{where}.readOnly", "volume mount should be readOnly for this type of volume"
                )
            )
        propagation = mount.get("mountPropagation")
        if propagation is not None and propagation not in ("None", "HostToContainer"):
            errors.append(
                FieldError(
                    f"{where}.mountPropagation",
                    "mount propagation should be set to None or HostToContainer",
                )
            )
        claim = (volume or {}).get("persistentVolumeClaim") if volume is not None else None
        if isinstance(claim, Mapping) and claim.get("readOnly") and not mount.get("readOnly"):
            errors.append(
                FieldError(f"{where}.readOnly", "volume is readOnly but volume mount is not")
            )
    return errors
