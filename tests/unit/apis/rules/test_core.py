"""Core kinds: Namespace names and defaults, Knative's ConfigMaps, ObjectMeta-only kinds."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.rules.core import (
    default_namespace,
    validate_configmap,
    validate_namespace,
    validate_object_meta,
)
from bulut.errors import InvalidResourceError


@pytest.mark.parametrize("name", ["Shop", "shop_dev", "-shop", "a" * 64, "", None])
def test_a_namespace_name_must_be_a_dns1123_label(name: Any) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_namespace({"kind": "Namespace", "metadata": {"name": name}})
    assert caught.value.field == "metadata.name"


def test_a_namespace_is_active_with_the_kubernetes_finalizer_and_its_name_label() -> None:
    namespace = default_namespace({"kind": "Namespace", "metadata": {"name": "shop"}})
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}


def test_knatives_config_autoscaler_must_parse_naming_the_key() -> None:
    configmap: dict[str, Any] = {
        "kind": "ConfigMap",
        "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
        "data": {"stable-window": "sixty"},
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_configmap(configmap)
    assert caught.value.field == "data.stable-window"
    configmap["metadata"]["namespace"] = "shop"  # an application's own ConfigMap: not Knative's
    validate_configmap(configmap)


def test_other_core_kinds_check_their_object_meta() -> None:
    validate_object_meta({"kind": "ServiceAccount", "metadata": {"name": "ci.bot"}})
    with pytest.raises(InvalidResourceError) as caught:
        validate_object_meta({"kind": "ServiceAccount", "metadata": {"name": "CI"}})
    assert caught.value.field == "metadata.name"
