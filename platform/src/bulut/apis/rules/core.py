"""Core Kubernetes kinds served locally (Namespace, ConfigMap, ServiceAccount, NetworkPolicy).

Their rules are kube-apiserver's: a Namespace name is a DNS-1123 label and a Namespace is
``Active`` with the ``kubernetes`` finalizer and the ``kubernetes.io/metadata.name`` label;
the other kinds check ObjectMeta. A ConfigMap in ``knative-serving`` must also parse as the
Knative config it is (:func:`bulut.apis.rules.serving.validate_serving_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .meta import DNS1123_LABEL, validate_metadata
from .paths import fail
from .serving import validate_serving_config

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
NAMESPACE_FINALIZER = "kubernetes"


def validate_namespace(resource: Mapping[str, Any]) -> None:
    """metadata.name must be a DNS-1123 label."""
    name = (resource.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        fail("Required value: name or generateName is required", "metadata.name")
    if len(name) > 63 or not DNS1123_LABEL.match(name):
        fail(
            f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
            "alphanumeric characters or '-', and must start and end with an alphanumeric "
            "character",
            "metadata.name",
        )


def default_namespace(namespace: dict[str, Any]) -> dict[str, Any]:
    """The ``kubernetes`` finalizer, phase ``Active`` and the name label."""
    namespace.setdefault("spec", {}).setdefault("finalizers", [NAMESPACE_FINALIZER])
    namespace.setdefault("status", {}).setdefault("phase", "Active")
    meta = namespace.setdefault("metadata", {})
    meta.setdefault("labels", {})[NAMESPACE_NAME_LABEL] = meta.get("name")
    return namespace


def validate_configmap(resource: Mapping[str, Any]) -> None:
    """ObjectMeta, and Knative's own ConfigMaps in ``knative-serving`` must parse."""
    validate_serving_config(resource)


def validate_object_meta(resource: Mapping[str, Any]) -> None:
    """ObjectMeta only (a DNS-1123 subdomain name): ServiceAccount, NetworkPolicy."""
    validate_metadata(resource, dns1035=False)
