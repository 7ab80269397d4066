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
    assert registry().for_document("serving.knative.dev/v1beta1", "Service") is None
    assert registry().for_document("v1", "Secret") is None


@pytest.mark.parametrize(
    ("api_version", "kind", "key", "short_names"),
    [
        ("serving.knative.dev/v1", "Service", "Service", ("kservice", "ksvc")),
        ("v1", "Service", "Service.core", ("svc",)),
        ("serving.knative.dev/v1", "Route", "Route", ("rt",)),
        ("route.openshift.io/v1", "Route", "Route.route.openshift.io", ()),
        ("messaging.knative.dev/v1", "Subscription", "Subscription", ("sub",)),
        (
            "operators.coreos.com/v1alpha1",
            "Subscription",
            "Subscription.operators.coreos.com",
            ("sub", "subs"),
        ),
        ("v1", "ConfigMap", "ConfigMap", ("cm",)),
    ],
)
def test_kinds_of_the_same_name_are_stored_under_group_qualified_keys(
    api_version: str, kind: str, key: str, short_names: tuple[str, ...]
) -> None:
    served = registry().for_document(api_version, kind)
    assert served is not None
    assert (served.key, served.short_names) == (key, short_names)
    assert registry().key_for(api_version, kind) == key
    assert registry().by_key[key] is served
    assert registry().lookup(key) is served


@pytest.mark.parametrize(
    ("name", "api_version"),
    [
        ("svc", "v1"),
        ("ksvc", "serving.knative.dev/v1"),
        ("service", "serving.knative.dev/v1"),  # bulut's own lookup prefers Knative's
        ("routes.route.openshift.io", "route.openshift.io/v1"),
        ("routes", "serving.knative.dev/v1"),
        ("subscriptions.operators.coreos.com", "operators.coreos.com/v1alpha1"),
        ("subscriptions", "messaging.knative.dev/v1"),
    ],
)
def test_a_shared_name_resolves_to_knative_and_a_qualified_one_to_its_group(
    name: str, api_version: str
) -> None:
    assert registry().lookup(name).api_version == api_version
