"""Knative autoscaling settings, parsed once for the control plane and the autoscaler.

``config`` reads the ``config-autoscaler`` ConfigMap, ``annotations`` the per-revision
``autoscaling.knative.dev/*`` annotations (reference/knative.md §1.1, §1.2), both with
Go's value syntax from ``values``. The control plane's webhook rules and the autoscaler's
DeciderSpec call the same parser, so they accept and read exactly the same values.
"""

from bulut.manifests.autoscaling.annotations import (
    ALIASES,
    PREFIX,
    AutoscalingAnnotations,
    parse_annotations,
)
from bulut.manifests.autoscaling.config import HPA_CLASS, KPA_CLASS, AutoscalerConfig

__all__ = [
    "ALIASES",
    "HPA_CLASS",
    "KPA_CLASS",
    "PREFIX",
    "AutoscalerConfig",
    "AutoscalingAnnotations",
    "parse_annotations",
]
