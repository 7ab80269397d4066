"""kube-apiserver's validation of the fields the overlays use, table-driven.

Cases and wording from Kubernetes' pkg/apis/core/validation (pod spec: topology spread,
resources, probes, securityContext, volumes, env) and the policy, networking and RBAC
validation packages, as documented for Kubernetes 1.33.
"""

from __future__ import annotations

from typing import Any

import pytest

from bulut.manifests.kube.objects import validate_object
from bulut.manifests.kube.pods import validate_pod_spec
from bulut.manifests.kube.quantity import parse

SPREAD = {
    "maxSkew": 1,
    "topologyKey": "kubernetes.io/hostname",
    "whenUnsatisfiable": "ScheduleAnyway",
}


def pod(**fields: Any) -> list[str]:
    spec = {"containers": [{"name": "c", "image": "x"}], **fields}
    return [str(e) for e in validate_pod_spec(spec, "spec")]


def one(**container: Any) -> list[str]:
    return pod(containers=[{"name": "c", "image": "x", **container}])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"topologySpreadConstraints": [{**SPREAD, "labelSelector": {"matchLabels": {"app": "a"}}, "matchLabelKeys": ["app"]}]},
         'spec.topologySpreadConstraints[0].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector'),
        ({"topologySpreadConstraints": [{**SPREAD, "matchLabelKeys": ["app"]}]},
         "spec.topologySpreadConstraints[0].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"),
        ({"topologySpreadConstraints": [{**SPREAD, "maxSkew": 0}]},
         "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero"),
        ({"topologySpreadConstraints": [{**SPREAD, "whenUnsatisfiable": "Maybe"}]},
         'Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"'),
        ({"topologySpreadConstraints": [SPREAD, SPREAD]},
         "{topologyKey, whenUnsatisfiable}: Duplicate value"),
        ({"topologySpreadConstraints": [{**SPREAD, "minDomains": 2}]},
         "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"),
        ({"topologySpreadConstraints": [{**SPREAD, "topologyKey": ""}]},
         "topologyKey: Required value: can not be empty"),
        ({"topologySpreadConstraints": [{**SPREAD, "nodeTaintsPolicy": "Sometimes"}]},
         'nodeTaintsPolicy: Unsupported value: "Sometimes"'),
        ({"securityContext": {"runAsUser": -1}}, "spec.securityContext.runAsUser: Invalid value: -1"),
        ({"securityContext": {"seccompProfile": {"type": "Localhost"}}},
         "must be set when seccomp type is Localhost"),
        ({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]},
         'spec.volumes[1].name: Duplicate value: "a"'),
        ({"volumes": [{"name": "a"}]}, "spec.volumes[0]: Required value: must specify a volume type"),
        ({"volumes": [{"name": "a", "emptyDir": {}, "configMap": {"name": "c"}}]},
         "may not specify more than 1 volume type"),
        ({"volumes": [{"name": "Bad_Name", "emptyDir": {}}]}, "a lowercase RFC 1123 label"),
        ({"volumes": [{"name": "c", "configMap": {"name": "c", "defaultMode": 1000}}]},
         "must be a number between 0 and 0777 (octal), both inclusive"),
        ({"serviceAccountName": "Not_Valid"}, "spec.serviceAccountName: Invalid value"),
    ],
    ids=lambda value: str(value)[:60],
)  # fmt: skip
def test_the_api_server_refuses_pod_spec(fields: dict[str, Any], expected: str) -> None:
    found = pod(**fields)
    assert any(expected in error for error in found), found


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}},
         'resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1'),
        ({"resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "128Mi"}}},
         "must be less than or equal to memory limit of 128Mi"),
        ({"resources": {"requests": {"memory": "-1Mi"}}}, "must be greater than or equal to 0"),
        ({"resources": {"requests": {"memory": "lots"}}}, "quantities must match the regular expression"),
        ({"resources": {"limits": {"gpu": "1"}}}, "must be a standard resource for containers"),
        ({"livenessProbe": {"httpGet": {"path": "/", "port": 8080}, "successThreshold": 2}},
         "livenessProbe.successThreshold: Invalid value: 2: must be 1"),
        ({"readinessProbe": {"tcpSocket": {"port": 8080}, "terminationGracePeriodSeconds": 5}},
         "must not be set for readinessProbes"),
        ({"readinessProbe": {"periodSeconds": 5}}, "readinessProbe: Required value: must specify a handler type"),
        ({"readinessProbe": {"httpGet": {"port": 8080}, "exec": {"command": ["true"]}}},
         "may not specify more than 1 handler type"),
        ({"readinessProbe": {"httpGet": {"path": "/"}}}, "readinessProbe.httpGet.port: Required value"),
        ({"readinessProbe": {"httpGet": {"port": 70000}}}, "must be between 1 and 65535, inclusive"),
        ({"readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": -1}},
         "periodSeconds: Invalid value: -1: must be greater than or equal to 0"),
        ({"securityContext": {"privileged": True, "allowPrivilegeEscalation": False}},
         "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"),
        ({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}, "allowPrivilegeEscalation": False}},
         "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"),
        ({"env": [{"name": "A=B", "value": "1"}]}, "other than '='"),
        ({"env": [{"name": "A", "value": "1", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
         "may not be specified when `value` is not empty"),
        ({"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}]}, "secretKeyRef.key: Required value"),
        ({"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}}]},
         'fieldPath: Unsupported value: "spec.hostname"'),
        ({"envFrom": [{"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}]},
         "may not have more than one field specified at a time"),
        ({"ports": [{"containerPort": 8080, "name": "this-name-is-too-long"}]}, "must be no more than 15 characters"),
        ({"ports": [{"containerPort": 8080, "protocol": "HTTP"}]}, 'protocol: Unsupported value: "HTTP"'),
        ({"volumeMounts": [{"name": "missing", "mountPath": "/m"}]}, 'volumeMounts[0].name: Not found: "missing"'),
        ({"imagePullPolicy": "Sometimes"}, 'imagePullPolicy: Unsupported value: "Sometimes"'),
    ],
    ids=lambda value: str(value)[:60],
)  # fmt: skip
def test_the_api_server_refuses_container(container: dict[str, Any], expected: str) -> None:
    found = one(**container)
    assert any(expected in error for error in found), found


def test_a_knative_template_may_leave_the_probe_port_and_name_to_knative() -> None:
    spec = {"containers": [{"image": "x", "readinessProbe": {"httpGet": {"path": "/health"}}}]}
    assert validate_pod_spec(spec, "spec", knative=True) == []
    assert validate_pod_spec(spec, "spec") != []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100m", "0.1"),
        ("128Mi", str(128 * 1024**2)),
        ("1e3", "1000"),
        ("1.5G", "1500000000"),
        (2, "2"),
    ],
)
def test_quantities_parse_as_the_api_server_reads_them(value: object, expected: str) -> None:
    assert parse(value) == parse(expected)


PDB = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}}
NETPOL = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"}}
RBAC = "rbac.authorization.k8s.io/v1"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({**PDB, "spec": {"minAvailable": 1, "maxUnavailable": 1}}, "minAvailable and maxUnavailable cannot be both set"),
        ({**PDB, "spec": {"minAvailable": "150%"}}, "must not be greater than 100%"),
        ({**PDB, "spec": {"maxUnavailable": "half"}}, "a valid percent string"),
        ({**PDB, "spec": {"minAvailable": 1, "selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}},
         "must be specified when `operator` is 'In' or 'NotIn'"),
        ({**NETPOL, "spec": {"podSelector": {}, "policyTypes": ["Sideways"]}}, 'Unsupported value: "Sideways"'),
        ({**NETPOL, "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}},
         "may not specify more than 1 peer type"),
        ({**NETPOL, "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]}},
         "must be a strict subset of `cidr`"),
        ({**NETPOL, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 9000, "endPort": 8000}]}]}},
         "must be greater than or equal to `port`"),
        ({**NETPOL, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 8000}]}]}},
         "may not be specified when `port` is non-numeric"),
        ({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "b"}, "roleRef": {"apiGroup": "", "kind": "Role", "name": "r"}, "subjects": []},
         'roleRef.apiGroup: Unsupported value: ""'),
        ({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}},
         'roleRef.kind: Unsupported value: "Role"'),
        ({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "s"}]},
         "subjects[0].namespace: Required value"),
        ({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "r"}, "rules": [{"resources": ["pods"], "verbs": ["get"]}]},
         "resource rules must supply at least one api group"),
        ({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]},
         "verbs must contain at least one value"),
    ],
    ids=lambda value: str(value.get("kind", value) if isinstance(value, dict) else value)[:50],
)  # fmt: skip
def test_the_api_server_refuses_objects(document: dict[str, Any], expected: str) -> None:
    found = [str(e) for e in validate_object(document)]
    assert any(expected in error for error in found), found


def test_a_rolebinding_subject_may_omit_its_namespace() -> None:
    binding = {
        "apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "s"}],
    }  # fmt: skip
    assert validate_object(binding) == []
