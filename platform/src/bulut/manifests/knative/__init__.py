"""Knative Serving's admission rules, as pure functions over plain dicts.

- :mod:`.features`: the ``config-features`` gates (``kubernetes.podspec-*`` and the rest);
- :mod:`.defaults`: the ``config-defaults`` limits (timeouts, containerConcurrency);
- :mod:`.podspec`: the webhook's pod spec allow-list and its rules (reserved names, env,
  ports and paths, probes, volumes), driven by those two;
- :mod:`.config`: both read from the ConfigMaps a platform runs with, or from the
  ``KnativeServing`` custom resource that configures them on OpenShift Serverless.

The local admission (control plane) and ``bulut validate`` call the same functions.
"""

from __future__ import annotations

from .config import ServingConfig, serving_config_from_knativeserving
from .defaults import Defaults
from .features import Features, Flag
from .podspec import validate_revision_spec

__all__ = [
    "Defaults",
    "Features",
    "Flag",
    "ServingConfig",
    "serving_config_from_knativeserving",
    "validate_revision_spec",
]
