"""The Serving configuration a platform runs with: features and defaults together.

Locally they are the ``config-features`` and ``config-defaults`` ConfigMaps in
``knative-serving``; on OpenShift Serverless the ``KnativeServing`` custom resource writes
them (``spec.config.features`` and ``spec.config.defaults``), so validating an overlay for
the cluster reads the CR in ``gitops/platform/openshift-serverless``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .defaults import Defaults
from .features import Features

NAMESPACE = "knative-serving"
FEATURES = "config-features"
DEFAULTS = "config-defaults"
NETWORK = "config-network"


@dataclass(frozen=True)
class ServingConfig:
    """``config-features`` and ``config-defaults`` in force."""

    features: Features = field(default_factory=Features)
    defaults: Defaults = field(default_factory=Defaults)
    source: str = "Knative's defaults"

    @classmethod
    def from_configmaps(cls, configmaps: Mapping[str, Mapping[str, object]]) -> ServingConfig:
        """From ConfigMap data by name (``config-features``, ``config-defaults``)."""
        return cls(
            Features.from_data(configmaps.get(FEATURES) or {}),
            Defaults.from_data(configmaps.get(DEFAULTS) or {}),
            source=f"ConfigMaps in {NAMESPACE}",
        )


def is_serving_configmap(document: Mapping[str, Any]) -> bool:
    """A ``config-features`` or ``config-defaults`` ConfigMap in knative-serving."""
    meta = document.get("metadata") or {}
    return (
        document.get("kind") == "ConfigMap"
        and meta.get("namespace") == NAMESPACE
        and meta.get("name") in (FEATURES, DEFAULTS)
    )


def serving_config_from_knativeserving(resource: Mapping[str, Any], source: str) -> ServingConfig:
    """What a ``KnativeServing`` CR configures (operator.knative.dev ``spec.config``)."""
    config = (resource.get("spec") or {}).get("config") or {}
    return ServingConfig(
        Features.from_data(config.get("features") or {}),
        Defaults.from_data(config.get("defaults") or {}),
        source=source,
    )


def configmaps_from_knativeserving(resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``config-features``, ``config-defaults`` and ``config-network`` ConfigMaps a
    KnativeServing CR makes.

    What the Knative (and OpenShift Serverless) operator writes into knative-serving from
    ``spec.config.features``, ``spec.config.defaults`` and ``spec.config.network``; the local
    platform stores them so its admission runs with the cluster's gates and limits, and its
    DomainMappings claim domains as the cluster's do (``autocreate-cluster-domain-claims``).
    """
    config = (resource.get("spec") or {}).get("config") or {}
    maps: list[dict[str, Any]] = []
    for name, key in ((FEATURES, "features"), (DEFAULTS, "defaults"), (NETWORK, "network")):
        data = config.get(key) or {}
        maps.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "namespace": NAMESPACE,
                    "labels": {"app.kubernetes.io/managed-by": "KnativeServing"},
                },
                "data": {str(k): str(v) for k, v in data.items()},
            }
        )
    return maps
