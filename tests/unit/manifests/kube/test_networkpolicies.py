"""NetworkPolicy ingress, as Kubernetes decides it, and what cannot be decided locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.manifests.kube.networkpolicies import Endpoint, ingress_verdict

REPO = Path(__file__).resolve().parents[4]
SHOP = [
    {**d, "metadata": {**d["metadata"], "namespace": "shop"}}
    for d in yaml.safe_load_all((REPO / "gitops/bases/policies/networkpolicy.yaml").read_text())
]
FUNCTION = Endpoint("shop", {"app": "orders-00001", "serving.knative.dev/service": "orders"})
OPENSHIFT = {"knative.openshift.io/system-namespace": "true"}


def policy(name: str, spec: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


DENY = policy("deny", {"podSelector": {}, "policyTypes": ["Ingress"]})


@pytest.mark.parametrize(
    ("peer", "port", "allowed"),
    [
        (Endpoint("knative-serving-ingress", None, OPENSHIFT), 8012, True),
        (Endpoint("kourier-system"), 8012, True),  # upstream Knative: by name
        (Endpoint("knative-eventing"), 8012, True),
        (Endpoint("shop", {"app": "inventory"}), 8012, False),  # a pod of the same namespace
        (Endpoint("other"), 8012, False),
        (
            Endpoint(
                "openshift-monitoring", None, {"network.openshift.io/policy-group": "monitoring"}
            ),
            9091,
            True,
        ),
        (
            Endpoint(
                "openshift-monitoring", None, {"network.openshift.io/policy-group": "monitoring"}
            ),
            8012,
            False,
        ),
    ],
)
def test_the_shops_policies_admit_knatives_data_path_and_monitoring_only(
    peer: Endpoint, port: int, allowed: bool
) -> None:
    verdict = ingress_verdict(SHOP, FUNCTION, peer, port)
    assert verdict.allowed is allowed
    assert "shop/deny-all-ingress" in verdict.isolating


def test_a_pod_no_policy_selects_accepts_everything() -> None:
    only_audit = policy("audit-only", {"podSelector": {"matchLabels": {"app": "audit"}}})
    verdict = ingress_verdict([only_audit], FUNCTION, Endpoint("anywhere"), 8012)
    assert (verdict.allowed, verdict.isolating) == (True, ())


def test_an_egress_only_policy_does_not_isolate_for_ingress() -> None:
    egress = policy("egress", {"podSelector": {}, "policyTypes": ["Egress"]})
    assert ingress_verdict([egress], FUNCTION, Endpoint("anywhere"), 8012).allowed is True


def test_policies_of_another_namespace_do_not_apply() -> None:
    elsewhere = policy("deny", {"podSelector": {}}, namespace="other")
    assert ingress_verdict([elsewhere], FUNCTION, Endpoint("x"), 8012).allowed is True


def test_policies_add_up_and_a_refusal_names_what_isolates() -> None:
    peer = Endpoint("shop", {"role": "frontend"})
    allow = policy(
        "frontend",
        {
            "podSelector": {},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}],
        },
    )
    assert ingress_verdict([DENY, allow], FUNCTION, peer, 8012).admitting == ("shop/frontend",)
    refused = ingress_verdict([DENY], FUNCTION, peer, 8012)
    assert refused.allowed is False
    assert "shop/deny isolate" in refused.explain("orders", "frontend")


def test_both_selectors_in_one_peer_need_both() -> None:
    rule = {
        "from": [
            {
                "namespaceSelector": {"matchLabels": {"team": "a"}},
                "podSelector": {"matchLabels": {"role": "x"}},
            }
        ]
    }
    both = policy("both", {"podSelector": {}, "ingress": [rule]})
    assert (
        ingress_verdict([both], FUNCTION, Endpoint("n", {"role": "x"}, {"team": "a"}), 1).allowed
        is True
    )
    assert (
        ingress_verdict([both], FUNCTION, Endpoint("n", {"role": "y"}, {"team": "a"}), 1).allowed
        is False
    )
    assert (
        ingress_verdict([both], FUNCTION, Endpoint("n", {"role": "x"}, {"team": "b"}), 1).allowed
        is False
    )


@pytest.mark.parametrize(
    ("ports", "allowed"),
    [
        ([{"port": 8012}], True),
        ([{"port": 8000, "endPort": 8100}], True),
        ([{"port": 9091}], False),
        ([{"protocol": "UDP", "port": 8012}], False),
        ([{"protocol": "TCP"}], True),
        ([{"port": "http"}], None),
    ],
)
def test_ports_numbers_ranges_protocols_and_names(ports: list[Any], allowed: bool | None) -> None:
    rule = policy("ports", {"podSelector": {}, "ingress": [{"ports": ports}]})
    assert ingress_verdict([rule], FUNCTION, Endpoint("x"), 8012).allowed is allowed


@pytest.mark.parametrize(
    ("peer_rule", "peer", "reason"),
    [
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, Endpoint("x"), "ipBlock"),
        (
            {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "gw"}}},
            Endpoint("x"),
            "labels are not known",
        ),
    ],
)
def test_what_cannot_be_decided_says_why(
    peer_rule: dict[str, Any], peer: Endpoint, reason: str
) -> None:
    rule = policy("p", {"podSelector": {}, "ingress": [{"from": [peer_rule]}]})
    verdict = ingress_verdict([rule], FUNCTION, peer, 8012)
    assert verdict.allowed is None
    assert reason in verdict.explain("orders", "x")


def test_an_undecidable_rule_does_not_hide_one_that_admits() -> None:
    unknown = policy(
        "ip", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}
    )
    everyone = policy("all", {"podSelector": {}, "ingress": [{}]})
    assert ingress_verdict([unknown, everyone], FUNCTION, Endpoint("x"), 8012).allowed is True
