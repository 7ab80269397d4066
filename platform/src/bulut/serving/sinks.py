"""SinkBinding: which revisions get ``K_SINK`` / ``K_CE_OVERRIDES`` (pure).

Knative mutates the subject's pod template; locally the matching revisions' instances
get the variables in their environment. A subject names a Service, Configuration or
Revision (``serving.knative.dev``) by name, or selects by ``matchLabels`` on the
Revision's labels.

With ``authentication-oidc`` on, the binding's status names its OIDC identity
(``status.auth.serviceAccountName``) and the sink's audience (``status.sinkAudience``); they
are passed on as ``K_OIDC_SERVICE_ACCOUNT`` and ``K_AUDIENCE`` (the names Knative gives a
source adapter), from which the local kubelet (:mod:`bulut.serving.podspec`) projects the
token file Knative mounts at ``/oidc/token``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

SUBJECT_LABELS = {
    "Service": "serving.knative.dev/service",
    "Configuration": "serving.knative.dev/configuration",
}


def binds(binding: Mapping[str, Any], revision: Mapping[str, Any]) -> bool:
    """True when ``binding``'s subject covers ``revision``."""
    meta = revision.get("metadata") or {}
    b_meta = binding.get("metadata") or {}
    if str(b_meta.get("namespace", "default")) != str(meta.get("namespace", "default")):
        return False
    subject = (binding.get("spec") or {}).get("subject") or {}
    labels = meta.get("labels") or {}
    kind = str(subject.get("kind", ""))
    if subject.get("name"):
        if kind == "Revision":
            return str(subject["name"]) == str(meta.get("name", ""))
        label = SUBJECT_LABELS.get(kind)
        return label is not None and labels.get(label) == subject["name"]
    selector = subject.get("selector") or {}
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def sink_env(revision: Mapping[str, Any], bindings: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """K_SINK and K_CE_OVERRIDES from the bindings whose subject is ``revision``."""
    env: dict[str, str] = {}
    for binding in bindings:
        if not binds(binding, revision):
            continue
        sink = (binding.get("status") or {}).get("sinkUri")
        if sink:
            env["K_SINK"] = str(sink)
        auth = (binding.get("status") or {}).get("auth") or {}
        audience = (binding.get("status") or {}).get("sinkAudience")
        if sink and audience and auth.get("serviceAccountName"):
            env["K_AUDIENCE"] = str(audience)
            env["K_OIDC_SERVICE_ACCOUNT"] = str(auth["serviceAccountName"])
        overrides = (binding.get("spec") or {}).get("ceOverrides")
        if overrides:
            env["K_CE_OVERRIDES"] = json.dumps(overrides, separators=(",", ":"))
    return env
