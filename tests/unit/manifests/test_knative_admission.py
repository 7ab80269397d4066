"""Knative's webhook rules, table-driven: each row is a case Knative documents and enforces.

Sources (facts, not code): knative/serving pkg/apis/config/features.go (gates and defaults),
pkg/apis/serving/fieldmask.go and k8s_validation.go (allow-list, reserved names, env, ports,
paths, probes, volumes), pkg/apis/config/defaults.go and v1/revision_validation.go
(config-defaults limits); knative.dev docs "Feature and extension flags".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bulut.errors import InvalidResourceError
from bulut.manifests.knative import Defaults, Features, Flag, ServingConfig, validate_revision_spec
from bulut.manifests.knative.config import serving_config_from_knativeserving
from bulut.manifests.knative.features import DEFAULTS, PODSPEC_GATES

IMAGE = "registry.example.com/shop/orders@sha256:" + "a" * 64
BASE: dict[str, Any] = {"containers": [{"image": IMAGE}]}


def spec(**fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(fields)
    return out


def container(**fields: Any) -> dict[str, Any]:
    return spec(containers=[{"image": IMAGE, **fields}])


def errors(value: dict[str, Any], **features: str) -> list[str]:
    config = ServingConfig(Features.from_data(features), Defaults())
    return [str(e) for e in validate_revision_spec(value, "spec.template.spec", config)]


def test_a_plain_container_is_admitted() -> None:
    assert errors(BASE) == []


# Every kubernetes.podspec-* field gate: refused while Disabled (the default), admitted when
# Enabled or Allowed (the field mask lets anything but Disabled through).
GATE_VALUES: dict[str, Any] = {
    "affinity": {"nodeAffinity": {}},
    "topologySpreadConstraints": [{"maxSkew": 1}],
    "hostAliases": [{"ip": "10.0.0.1"}],
    "nodeSelector": {"disk": "ssd"},
    "runtimeClassName": "kata",
    "tolerations": [{"key": "k"}],
    "shareProcessNamespace": True,
    "priorityClassName": "high",
    "schedulerName": "mine",
    "dnsPolicy": "None",
    "dnsConfig": {"nameservers": ["1.1.1.1"]},
    "hostIPC": True,
    "hostPID": True,
    "hostNetwork": True,
}


@pytest.mark.parametrize("field", sorted(GATE_VALUES))
def test_a_gated_pod_spec_field_is_refused_by_default(field: str) -> None:
    assert errors(spec(**{field: GATE_VALUES[field]})) == [
        f"spec.template.spec.{field}: must not set the field(s)"
    ]


@pytest.mark.parametrize("value", ["enabled", "Allowed", "ENABLED"])
@pytest.mark.parametrize("field", sorted(GATE_VALUES))
def test_a_gated_pod_spec_field_is_admitted_once_its_gate_is_on(field: str, value: str) -> None:
    assert errors(spec(**{field: GATE_VALUES[field]}), **{PODSPEC_GATES[field]: value}) == []


def test_every_gate_of_the_field_table_exists_in_config_features() -> None:
    assert set(PODSPEC_GATES.values()) <= set(DEFAULTS)
    assert set(GATE_VALUES) == set(PODSPEC_GATES) - {"initContainers"}


def test_an_unknown_gate_value_leaves_the_default() -> None:
    assert (
        Features.from_data({"kubernetes.podspec-nodeselector": "yes"}).flag(
            "kubernetes.podspec-nodeselector"
        )
        is Flag.DISABLED
    )


@pytest.mark.parametrize(
    ("case", "value", "features", "expected"),
    [
        ("fields outside the allow-list", spec(restartPolicy="Never", nodeName="n1"), {},
         "spec.template.spec.nodeName, spec.template.spec.restartPolicy: must not set the field(s)"),
        ("automountServiceAccountToken true", spec(automountServiceAccountToken=True), {},
         "spec.template.spec.automountServiceAccountToken: must not set the field(s)"),
        ("init containers off", spec(initContainers=[{"image": IMAGE, "name": "init"}]),
         {"kubernetes.podspec-init-containers": "allowed"},
         "pod spec support for init-containers is off, but found 1 init containers"),
        ("pod securityContext off", spec(securityContext={"runAsUser": 1000}), {},
         "spec.template.spec.securityContext: must not set the field(s)"),
        ("pod securityContext with secure-pod-defaults: only seccomp",
         spec(securityContext={"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}),
         {"secure-pod-defaults": "enabled"},
         "spec.template.spec.securityContext.runAsUser: must not set the field(s)"),
        ("two containers need one port", spec(containers=[{"image": IMAGE, "name": "a"}, {"image": IMAGE, "name": "b"}]),
         {}, "spec.template.spec.containers[*].ports: missing field(s)"),
        ("multi-container off", spec(containers=[{"image": IMAGE, "name": "a", "ports": [{"containerPort": 8080}]}, {"image": IMAGE, "name": "b"}]),
         {"multi-container": "disabled"}, "multi-container is off, but found 2 containers"),
        ("sidecar probes without multi-container-probing",
         spec(containers=[{"image": IMAGE, "name": "a", "ports": [{"containerPort": 8080}]},
                          {"image": IMAGE, "name": "b", "readinessProbe": {"tcpSocket": {"port": 9000}}}]),
         {}, "spec.template.spec.containers[1].readinessProbe.tcpSocket: must not set the field(s)"),
        ("reserved container name", container(name="queue-proxy"), {},
         'spec.template.spec.containers[0].name: "queue-proxy" is a reserved container name'),
        ("reserved env PORT", container(env=[{"name": "PORT", "value": "1"}]), {},
         'spec.template.spec.containers[0].env[0].name: "PORT" is a reserved environment variable'),
        ("reserved env K_REVISION", container(env=[{"name": "K_REVISION", "value": "x"}]), {},
         'spec.template.spec.containers[0].env[0].name: "K_REVISION" is a reserved environment variable'),
        ("fieldRef off", container(env=[{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]), {},
         "spec.template.spec.containers[0].env[0].valueFrom.fieldRef: must not set the field(s)"),
        ("reserved port 8012", container(ports=[{"containerPort": 8012}]), {},
         "spec.template.spec.containers[0].ports.containerPort: invalid value: 8012 is a reserved port"),
        ("reserved port 9091", container(ports=[{"containerPort": 9091}]), {},
         "spec.template.spec.containers[0].ports.containerPort: invalid value: 9091 is a reserved port"),
        ("port name", container(ports=[{"containerPort": 8080, "name": "web"}]), {},
         "spec.template.spec.containers[0].ports: Port name web is not allowed"),
        ("UDP port", container(ports=[{"containerPort": 8080, "protocol": "UDP"}]), {},
         "spec.template.spec.containers[0].ports.protocol: invalid value: UDP"),
        ("two ports", container(ports=[{"containerPort": 8080}, {"containerPort": 8081}]), {},
         "spec.template.spec.containers[*].ports: more than one container port is set"),
        ("hostPort", container(ports=[{"containerPort": 8080, "hostPort": 80}]), {},
         "spec.template.spec.containers[0].ports.hostPort: must not set the field(s)"),
        ("lifecycle", container(lifecycle={"preStop": {}}), {},
         "spec.template.spec.containers[0].lifecycle: must not set the field(s)"),
        ("privileged", container(securityContext={"privileged": True}), {},
         "spec.template.spec.containers[0].securityContext.privileged: must not set the field(s)"),
        ("added capability", container(securityContext={"capabilities": {"add": ["NET_ADMIN"]}}), {},
         "spec.template.spec.containers[0].securityContext.capabilities.add: must not set the field(s)"),
        ("probe on another named port", container(ports=[{"containerPort": 8080, "name": "h2c"}], readinessProbe={"httpGet": {"port": "metrics"}}), {},
         "Probe port must match container port"),
        ("probe without a handler", container(livenessProbe={"periodSeconds": 5}), {},
         "expected exactly one, got neither"),
        ("readiness timeoutSeconds with periodSeconds 0", container(readinessProbe={"tcpSocket": {}, "timeoutSeconds": 2}), {},
         "timeoutSeconds is disallowed when periodSeconds is zero"),
        ("mount on a reserved path", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "/dev"}]}], volumes=[{"name": "d", "emptyDir": {}}]), {},
         'mountPath "/dev" is a reserved path'),
        ("relative mount path", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "tmp"}]}], volumes=[{"name": "d", "emptyDir": {}}]), {},
         "invalid value: tmp"),
        ("writable configMap mount", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "c", "mountPath": "/etc/c"}]}], volumes=[{"name": "c", "configMap": {"name": "c"}}]), {},
         "volume mount should be readOnly for this type of volume"),
        ("unmounted volume", spec(volumes=[{"name": "d", "emptyDir": {}}]), {},
         'volume with name "d" not mounted'),
        ("emptyDir gate off", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "/data"}]}], volumes=[{"name": "d", "emptyDir": {}}]),
         {"kubernetes.podspec-volumes-emptydir": "disabled"}, "must not set the field(s)"),
        ("PVC off", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "p", "mountPath": "/data", "readOnly": True}]}], volumes=[{"name": "p", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}}]), {},
         "must not set the field(s)"),
        ("writable PVC without persistent-volume-write", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "p", "mountPath": "/data"}]}], volumes=[{"name": "p", "persistentVolumeClaim": {"claimName": "c"}}]),
         {"kubernetes.podspec-persistent-volume-claim": "enabled"},
         "Persistent volume write support is disabled, but found persistent volume claim c that is not read-only"),
        ("hostPath allowed but not enabled", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "h", "mountPath": "/h", "readOnly": True}]}], volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
         {"kubernetes.podspec-volumes-hostpath": "allowed"}, "HostPath volume support is disabled, but found HostPath volume h"),
        ("missing image", spec(containers=[{"name": "x"}]), {},
         "spec.template.spec.containers[0].image: missing field(s)"),
        ("unparseable image", container(image="Registry/UPPER CASE"), {},
         "Failed to parse image reference"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_the_webhook_refuses(
    case: str, value: dict[str, Any], features: dict[str, str], expected: str
) -> None:
    found = errors(value, **features)
    assert any(expected in error for error in found), (case, found)


@pytest.mark.parametrize(
    ("case", "value", "features"),
    [
        ("emptyDir mounted writable (default on)", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "/tmp"}]}], volumes=[{"name": "d", "emptyDir": {}}]), {}),
        ("read-only secret mount", spec(containers=[{"image": IMAGE, "volumeMounts": [{"name": "s", "mountPath": "/s", "readOnly": True}]}], volumes=[{"name": "s", "secret": {"secretName": "s"}}]), {}),
        ("fieldRef on", container(env=[{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]), {"kubernetes.podspec-fieldref": "enabled"}),
        ("NET_BIND_SERVICE under secure-pod-defaults", container(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE"]}}), {"secure-pod-defaults": "enabled"}),
        ("a sidecar's env may set PORT", spec(containers=[{"image": IMAGE, "name": "a", "ports": [{"containerPort": 8080}]}, {"image": IMAGE, "name": "b", "env": [{"name": "PORT", "value": "9"}]}]), {}),
        ("probe on the serving port's name", container(ports=[{"containerPort": 8080, "name": "h2c"}], readinessProbe={"httpGet": {"port": "h2c"}}), {}),
        ("automountServiceAccountToken false", spec(automountServiceAccountToken=False), {}),
        ("init containers on", spec(initContainers=[{"image": IMAGE, "name": "init"}]), {"kubernetes.podspec-init-containers": "enabled"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_the_webhook_admits(case: str, value: dict[str, Any], features: dict[str, str]) -> None:
    assert errors(value, **features) == [], case


@pytest.mark.parametrize(
    ("data", "value", "expected"),
    [
        ({}, {"containerConcurrency": 1001}, "expected 0 <= 1001 <= 1000"),
        (
            {"container-concurrency-max-limit": "50"},
            {"containerConcurrency": 60},
            "expected 0 <= 60 <= 50",
        ),
        (
            {"allow-container-concurrency-zero": "false"},
            {"containerConcurrency": 0},
            "expected 1 <= 0 <= 1000",
        ),
        ({}, {"timeoutSeconds": 601}, "expected 0 <= 601 <= 600"),
        (
            {"max-revision-timeout-seconds": "3600"},
            {"timeoutSeconds": 3601},
            "expected 0 <= 3601 <= 3600",
        ),
    ],
)
def test_config_defaults_bound_concurrency_and_timeout(
    data: dict[str, str], value: dict[str, Any], expected: str
) -> None:
    config = ServingConfig(Features(), Defaults.from_data(data))
    found = [str(e) for e in validate_revision_spec(spec(**value), "spec", config)]
    assert any(expected in error for error in found), found


def test_a_raised_maximum_admits_a_longer_timeout() -> None:
    config = ServingConfig(Features(), Defaults.from_data({"max-revision-timeout-seconds": "3600"}))
    assert validate_revision_spec(spec(timeoutSeconds=1800), "spec", config) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"revision-timeout-seconds": "700"}, "data.revision-timeout-seconds"),
        ({"container-concurrency": "2000"}, "data.container-concurrency"),
        ({"container-concurrency-max-limit": "0"}, "data.container-concurrency-max-limit"),
        ({"revision-idle-timeout-seconds": "900"}, "data.revision-idle-timeout-seconds"),
        ({"max-revision-timeout-seconds": "ten"}, "data.max-revision-timeout-seconds"),
    ],
)
def test_config_defaults_that_contradict_themselves_are_refused(
    data: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidResourceError) as raised:
        Defaults.from_data(data)
    assert raised.value.field == field


def test_the_knativeserving_cr_configures_features_and_defaults() -> None:
    resource = {
        "kind": "KnativeServing",
        "spec": {
            "config": {
                "features": {"kubernetes.podspec-nodeselector": "enabled"},
                "defaults": {
                    "max-revision-timeout-seconds": 900,
                    "revision-timeout-seconds": "300",
                },
            }
        },
    }
    config = serving_config_from_knativeserving(resource, "cr")
    assert config.features.enabled("kubernetes.podspec-nodeselector")
    assert config.defaults.max_revision_timeout_seconds == 900
