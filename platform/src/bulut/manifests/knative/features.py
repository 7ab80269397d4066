"""``config-features``: which optional pod spec fields and behaviours Knative's webhook allows.

Each key takes ``Enabled``, ``Disabled`` or ``Allowed`` (any case); ``secure-pod-defaults``
takes ``Enabled``, ``Disabled`` or ``AllowRootBounded``. A value Knative does not recognise
leaves the key at its default, as ``NewFeaturesConfigFromMap`` does. Defaults are those of
knative/serving ``pkg/apis/config/features.go`` (1.21, what OpenShift Serverless 1.38 runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Flag(Enum):
    """A gate's value."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"
    ALLOWED = "Allowed"
    ALLOW_ROOT_BOUNDED = "AllowRootBounded"


E, D = Flag.ENABLED, Flag.DISABLED
DEFAULTS: dict[str, Flag] = {
    "multi-container": E,
    "multi-container-probing": D,
    "kubernetes.podspec-affinity": D,
    "kubernetes.podspec-topologyspreadconstraints": D,
    "kubernetes.podspec-hostaliases": D,
    "kubernetes.podspec-fieldref": D,
    "kubernetes.podspec-nodeselector": D,
    "kubernetes.podspec-runtimeclassname": D,
    "kubernetes.podspec-securitycontext": D,
    "kubernetes.podspec-shareprocessnamespace": D,
    "kubernetes.podspec-hostipc": D,
    "kubernetes.podspec-hostpid": D,
    "kubernetes.podspec-hostnetwork": D,
    "kubernetes.podspec-priorityclassname": D,
    "kubernetes.podspec-schedulername": D,
    "kubernetes.containerspec-addcapabilities": D,
    "kubernetes.podspec-tolerations": D,
    "kubernetes.podspec-volumes-emptydir": E,
    "kubernetes.podspec-volumes-hostpath": D,
    "kubernetes.podspec-volumes-mount-propagation": D,
    "kubernetes.podspec-volumes-csi": D,
    "kubernetes.podspec-volumes-ephemeral": D,
    "kubernetes.podspec-volumes-image": D,
    "kubernetes.podspec-persistent-volume-claim": D,
    "kubernetes.podspec-persistent-volume-write": D,
    "kubernetes.podspec-init-containers": D,
    "kubernetes.podspec-dnspolicy": D,
    "kubernetes.podspec-dnsconfig": D,
    "queueproxy.mount-podinfo": D,
    "queueproxy.resource-defaults": D,
    "secure-pod-defaults": D,
    "tag-header-based-routing": D,
    "autodetect-http2": D,
}
# Pod spec fields behind a gate: the field is refused while its gate is Disabled.
PODSPEC_GATES: dict[str, str] = {
    "affinity": "kubernetes.podspec-affinity",
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "hostAliases": "kubernetes.podspec-hostaliases",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "tolerations": "kubernetes.podspec-tolerations",
    "shareProcessNamespace": "kubernetes.podspec-shareprocessnamespace",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "schedulerName": "kubernetes.podspec-schedulername",
    "initContainers": "kubernetes.podspec-init-containers",
    "dnsPolicy": "kubernetes.podspec-dnspolicy",
    "dnsConfig": "kubernetes.podspec-dnsconfig",
    "hostIPC": "kubernetes.podspec-hostipc",
    "hostPID": "kubernetes.podspec-hostpid",
    "hostNetwork": "kubernetes.podspec-hostnetwork",
}
# Volume sources behind a gate (secret, configMap and projected are always allowed).
VOLUME_GATES: dict[str, str] = {
    "emptyDir": "kubernetes.podspec-volumes-emptydir",
    "persistentVolumeClaim": "kubernetes.podspec-persistent-volume-claim",
    "hostPath": "kubernetes.podspec-volumes-hostpath",
    "csi": "kubernetes.podspec-volumes-csi",
    "ephemeral": "kubernetes.podspec-volumes-ephemeral",
    "image": "kubernetes.podspec-volumes-image",
}


def _parse(key: str, raw: object) -> Flag | None:
    text = str(raw).strip().lower()
    choices = (
        (Flag.DISABLED, Flag.ALLOW_ROOT_BOUNDED, Flag.ENABLED)
        if key == "secure-pod-defaults"
        else (Flag.ENABLED, Flag.ALLOWED, Flag.DISABLED)
    )
    for flag in choices:
        if text == flag.value.lower():
            return flag
    return None


@dataclass(frozen=True)
class Features:
    """The gates in force; every key of :data:`DEFAULTS` has a value."""

    flags: Mapping[str, Flag] = field(default_factory=lambda: dict(DEFAULTS))

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Features:
        """The gates a ``config-features`` ConfigMap's data sets (unknown values ignored)."""
        flags = dict(DEFAULTS)
        for key, raw in data.items():
            if key in flags:
                parsed = _parse(key, raw)
                if parsed is not None:
                    flags[key] = parsed
        return cls(flags)

    def flag(self, key: str) -> Flag:
        """One gate's value."""
        return self.flags[key]

    def allows(self, key: str) -> bool:
        """The field-mask test: anything but Disabled lets the field through."""
        return self.flags[key] is not Flag.DISABLED

    def enabled(self, key: str) -> bool:
        """The stricter test some rules use (volumes, init containers, multi-container)."""
        return self.flags[key] is Flag.ENABLED

    @property
    def secure_defaults(self) -> bool:
        """``secure-pod-defaults`` is Enabled or AllowRootBounded."""
        return self.flags["secure-pod-defaults"] in (Flag.ENABLED, Flag.ALLOW_ROOT_BOUNDED)
