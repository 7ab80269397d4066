"""Knative Eventing's data plane: broker ingress, durable log, triggers, delivery, PingSource.

See docs/eventing.md for how each piece maps to Knative.
"""

from __future__ import annotations

from .dataplane import Eventing
from .records import Retention

__all__ = ["Eventing", "Retention"]
