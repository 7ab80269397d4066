"""Kind names, aliases and REST paths."""

from __future__ import annotations

import pytest

from bulut.controlplane import kinds
from bulut.errors import NotFoundError


@pytest.mark.parametrize(
    ("alias", "kind"),
    [
        ("ksvc", "Service"),
        ("services", "Service"),
        ("services.serving.knative.dev", "Service"),
        ("service.serving.knative.dev", "Service"),
        ("rev", "Revision"),
        ("Trigger", "Trigger"),
        ("pingsources", "PingSource"),
        ("cm", "ConfigMap"),
    ],
)
def test_kinds_are_found_by_any_of_their_names(alias: str, kind: str) -> None:
    assert kinds.lookup(alias).kind == kind


def test_an_unknown_kind_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        kinds.lookup("widgets")


def test_paths_are_a_clusters_paths() -> None:
    assert kinds.BY_KEY["Service"].collection_path("default") == (
        "/apis/serving.knative.dev/v1/namespaces/default/services"
    )
    assert kinds.BY_KEY["ConfigMap"].collection_path(None) == "/api/v1/configmaps"
    assert kinds.by_path("sources.knative.dev", "v1", "pingsources").kind == "PingSource"
