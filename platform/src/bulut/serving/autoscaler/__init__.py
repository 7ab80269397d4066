"""bulut.serving.autoscaler: Knative's KPA for the local runtime.

``metrics`` counts in-flight requests into 1 s buckets, ``decider`` is the pure per-tick
decision (Knative's ``Scale()``), ``activity`` the PodAutoscaler bounds, scale-to-zero gate
and ``Active`` condition, and ``scaler`` the loop that ticks every 2 s (or when poked) and
starts or stops instances through a :class:`~bulut.serving.autoscaler.scaler.ScaleTarget`.
"""

from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.serving.autoscaler.decider import (
    DeciderSpec,
    DeciderState,
    ScaleDecision,
    WindowAverages,
    decide,
    decider_spec,
)
from bulut.serving.autoscaler.metrics import ConcurrencyTracker
from bulut.serving.autoscaler.scaler import Autoscaler, ScaleTarget

__all__ = [
    "Autoscaler",
    "AutoscalerConfig",
    "ConcurrencyTracker",
    "DeciderSpec",
    "DeciderState",
    "ScaleDecision",
    "ScaleTarget",
    "WindowAverages",
    "decide",
    "decider_spec",
]
