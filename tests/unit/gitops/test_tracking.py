"""Object references: Argo CD's identity of an object, and the control plane's key for its kind."""

from __future__ import annotations

import pytest

from bulut.gitops.tracking import ObjectRef


@pytest.mark.parametrize(
    ("api_version", "kind", "namespace", "key"),
    [
        ("serving.knative.dev/v1", "Service", "shop", "Service"),
        ("v1", "Service", "istio-system", "Service.core"),
        (
            "operators.coreos.com/v1alpha1",
            "Subscription",
            "openshift-serverless",
            "Subscription.operators.coreos.com",
        ),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "", "ClusterRole"),
    ],
)
def test_a_reference_printed_in_a_sync_record_reads_back_with_its_group(
    api_version: str, kind: str, namespace: str, key: str
) -> None:
    document = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": namespace},
    }
    ref = ObjectRef.of(document)
    assert ObjectRef.parse(str(ref)) == ref
    assert ref.kind_key == key
