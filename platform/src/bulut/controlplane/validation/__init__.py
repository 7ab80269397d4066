"""Webhook rules, as pure functions over resource dicts.

Each ``validate_<kind>(resource)`` raises :class:`~bulut.errors.InvalidResourceError`
naming the JSON path, in Knative's own words where Knative has them.
"""

from __future__ import annotations

from .common import validate_metadata
from .eventing import validate_broker, validate_pingsource, validate_sinkbinding, validate_trigger
from .serving import (
    serving_config as serving_config_from,
    validate_configuration,
    validate_revision,
    validate_route,
    validate_service,
    validate_serving_config,
)

__all__ = [
    "serving_config_from",
    "validate_broker",
    "validate_configuration",
    "validate_metadata",
    "validate_pingsource",
    "validate_revision",
    "validate_route",
    "validate_service",
    "validate_serving_config",
    "validate_sinkbinding",
    "validate_trigger",
]
