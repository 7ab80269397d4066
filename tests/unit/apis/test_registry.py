"""The served kinds come from the vendored CRDs."""

from __future__ import annotations

import pytest

from bulut.apis.registry import registry
from bulut.errors import NotFoundError


def test_a_service_reads_its_names_scope_and_columns_from_the_crd() -> None:
    service = registry().lookup("ksvc")
    assert (service.group, service.version, service.kind, service.plural) == (
        "serving.knative.dev",
        "v1",
        "Service",
        "services",
    )
    assert service.short_names == ("kservice", "ksvc")
    assert service.categories == ("all", "knative", "serving")
    assert service.namespaced and service.status_subresource
    assert [c.name for c in service.printer_columns] == [
        "URL",
        "LatestCreated",
        "LatestReady",
        "Ready",
        "Reason",
    ]
    assert "template" in service.schema["properties"]["spec"]["properties"]
    assert service.source == "knative/serving-service-crd.yaml"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cfg", "Configuration"),
        ("ns", "Namespace"),
        ("cm", "ConfigMap"),
        ("sa", "ServiceAccount"),
        ("triggers.eventing.knative.dev", "Trigger"),
        ("PingSource", "PingSource"),
    ],
)
def test_every_spelling_resolves(name: str, kind: str) -> None:
    assert registry().lookup(name).kind == kind


def test_namespaces_are_cluster_scoped_and_unknown_names_are_not_found() -> None:
    assert not registry().lookup("namespaces").namespaced
    assert registry().lookup("namespaces").collection_path("x") == "/api/v1/namespaces"
    with pytest.raises(NotFoundError):
        registry().lookup("widgets")


def test_only_served_api_versions_match_a_document() -> None:
    assert registry().for_document("serving.knative.dev/v1", "Service") is not None
    assert registry().for_document("v1", "Service") is None
