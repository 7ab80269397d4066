"""PodDisruptionBudgets, NetworkPolicies and RBAC objects, as kube-apiserver validates them.

- PodDisruptionBudget (policy/v1): ``minAvailable`` xor ``maxUnavailable``, each a
  non-negative integer or a percentage up to 100%; a valid selector;
  ``unhealthyPodEvictionPolicy`` IfHealthyBudget or AlwaysAllow.
- NetworkPolicy (networking.k8s.io/v1): selectors, ``policyTypes`` Ingress/Egress, ports
  (protocol, number or name, ``endPort`` >= ``port`` and only with a numeric port), peers
  that set ``ipBlock`` alone or selectors, an ``ipBlock`` whose ``except`` lies in ``cidr``.
- Role/ClusterRole rules (verbs, and apiGroups for resources); RoleBinding/ClusterRoleBinding
  ``roleRef`` (apiGroup rbac.authorization.k8s.io, kind Role or ClusterRole; a
  ClusterRoleBinding only a ClusterRole) and subjects (kind, name, namespace, apiGroup).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from ..findings import FieldError
from .names import forbidden, invalid, port_number, port_number_or_name, required, unsupported
from .selectors import validate_selector

RBAC_GROUP = "rbac.authorization.k8s.io"
_PERCENT = re.compile(r"^[0-9]+%$")


def _int_or_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, bool):
        return [invalid(path, value, "must be an integer or percentage (e.g '5%')")]
    if isinstance(value, int):
        return [] if value >= 0 else [invalid(path, value, "must be greater than or equal to 0")]
    if isinstance(value, str) and _PERCENT.match(value):
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
        return []
    return [
        invalid(
            path,
            value,
            "a valid percent string must be a numeric string followed by an ending '%' "
            "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        )
    ]


def validate_pdb(document: Mapping[str, Any]) -> list[FieldError]:
    """A policy/v1 PodDisruptionBudget."""
    spec = document.get("spec") or {}
    errors: list[FieldError] = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errors.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    for field in ("minAvailable", "maxUnavailable"):
        if spec.get(field) is not None:
            errors += _int_or_percent(spec[field], f"spec.{field}")
    errors += validate_selector(spec.get("selector"), "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errors.append(
            unsupported(
                "spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]
            )
        )
    return errors


def _ports(ports: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, port in enumerate(ports or []):
        where = f"{path}[{index}]"
        protocol = port.get("protocol", "TCP")
        if protocol not in ("SCTP", "TCP", "UDP"):
            errors.append(unsupported(f"{where}.protocol", protocol, ["SCTP", "TCP", "UDP"]))
        number = port.get("port")
        if number is not None:
            errors += port_number_or_name(f"{where}.port", number)
        end = port.get("endPort")
        if end is None:
            continue
        if not isinstance(number, int):
            errors.append(
                forbidden(f"{where}.endPort", "may not be specified when `port` is non-numeric")
                if number is not None
                else required(f"{where}.port", "must be specified when `endPort` is specified")
            )
            continue
        errors += port_number(f"{where}.endPort", end)
        if isinstance(end, int) and end < number:
            errors.append(
                invalid(f"{where}.endPort", end, "must be greater than or equal to `port`")
            )
    return errors


def _peers(peers: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, peer in enumerate(peers or []):
        where = f"{path}[{index}]"
        selectors = [k for k in ("podSelector", "namespaceSelector") if peer.get(k) is not None]
        block = peer.get("ipBlock")
        if block is not None and selectors:
            errors.append(forbidden(where, "may not specify more than 1 peer type"))
        elif block is None and not selectors:
            errors.append(required(where, "must specify a peer"))
        for key in selectors:
            errors += validate_selector(peer[key], f"{where}.{key}")
        if block is not None:
            errors += _ip_block(block, f"{where}.ipBlock")
    return errors


def _ip_block(block: Mapping[str, Any], path: str) -> list[FieldError]:
    cidr = block.get("cidr")
    if not cidr:
        return [required(f"{path}.cidr")]
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return [
            invalid(
                f"{path}.cidr",
                cidr,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            )
        ]
    errors: list[FieldError] = []
    for index, item in enumerate(block.get("except") or []):
        where = f"{path}.except[{index}]"
        try:
            excluded = ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            errors.append(invalid(where, item, "must be a valid CIDR value"))
            continue
        inside = excluded.version == network.version and str(excluded) != str(network)
        inside = (
            inside and excluded.network_address in network and excluded.broadcast_address in network
        )
        if not inside:
            errors.append(invalid(where, item, "must be a strict subset of `cidr`"))
    return errors


def validate_network_policy(document: Mapping[str, Any]) -> list[FieldError]:
    """A networking.k8s.io/v1 NetworkPolicy."""
    spec = document.get("spec") or {}
    errors = validate_selector(spec.get("podSelector"), "spec.podSelector")
    if spec.get("podSelector") is None:
        errors.append(required("spec.podSelector"))
    types = spec.get("policyTypes") or []
    for index, kind in enumerate(types):
        if kind not in ("Egress", "Ingress"):
            errors.append(unsupported(f"spec.policyTypes[{index}]", kind, ["Egress", "Ingress"]))
    if len(types) > 2:
        errors.append(invalid("spec.policyTypes", types, "may not have more than 2 values"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction) or []):
            where = f"spec.{direction}[{index}]"
            errors += _ports(rule.get("ports"), f"{where}.ports")
            errors += _peers(rule.get(peers), f"{where}.{peers}")
    return errors


def validate_role(document: Mapping[str, Any]) -> list[FieldError]:
    """A Role or ClusterRole: every rule has verbs; resource rules name apiGroups."""
    errors: list[FieldError] = []
    for index, rule in enumerate(document.get("rules") or []):
        where = f"rules[{index}]"
        if not rule.get("verbs"):
            errors.append(required(f"{where}.verbs", "verbs must contain at least one value"))
        has_urls = bool(rule.get("nonResourceURLs"))
        if has_urls and document.get("kind") == "Role":
            errors.append(
                invalid(
                    f"{where}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
        if rule.get("resources") and rule.get("apiGroups") is None:
            errors.append(
                required(f"{where}.apiGroups", "resource rules must supply at least one api group")
            )
        if not has_urls and not rule.get("resources"):
            errors.append(
                required(f"{where}.resources", "resource rules must supply at least one resource")
            )
    return errors


def validate_binding(document: Mapping[str, Any]) -> list[FieldError]:
    """A RoleBinding or ClusterRoleBinding: roleRef and subjects."""
    errors: list[FieldError] = []
    ref = document.get("roleRef") or {}
    if ref.get("apiGroup") != RBAC_GROUP:
        errors.append(unsupported("roleRef.apiGroup", ref.get("apiGroup"), [RBAC_GROUP]))
    kinds = ["Role", "ClusterRole"] if document.get("kind") == "RoleBinding" else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errors.append(unsupported("roleRef.kind", ref.get("kind"), kinds))
    if not ref.get("name"):
        errors.append(required("roleRef.name"))
    namespaced = document.get("kind") == "RoleBinding"
    for index, subject in enumerate(document.get("subjects") or []):
        where = f"subjects[{index}]"
        kind = subject.get("kind")
        if not subject.get("name"):
            errors.append(required(f"{where}.name"))
        if kind == "ServiceAccount":
            if subject.get("apiGroup", ""):
                errors.append(unsupported(f"{where}.apiGroup", subject["apiGroup"], [""]))
            if not subject.get("namespace") and not namespaced:
                errors.append(required(f"{where}.namespace"))
        elif kind in ("User", "Group"):
            if subject.get("apiGroup") != RBAC_GROUP:
                errors.append(
                    unsupported(f"{where}.apiGroup", subject.get("apiGroup"), [RBAC_GROUP])
                )
        else:
            errors.append(unsupported(f"{where}.kind", kind, ["Group", "ServiceAccount", "User"]))
    return errors
