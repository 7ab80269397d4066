"""How the local data plane classifies the traffic it routes, and which revisions refuse it."""

from __future__ import annotations

from typing import Any

from bulut.serving.networkpolicy import NetworkPolicies, decide, pod_labels


def policy(name: str, spec: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def revision(name: str, namespace: str = "shop", **labels: str) -> dict[str, Any]:
    return {
        "kind": "Revision",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    }


DENY = policy("deny-all-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
KNATIVE = policy(
    "allow-from-knative-system",
    {
        "podSelector": {},
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"knative.openshift.io/system-namespace": "true"}
                        }
                    }
                ]
            }
        ],
    },
)


def names(rule: dict[str, Any]) -> dict[str, Any]:
    return policy(
        "by-name",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {
                                        "key": "kubernetes.io/metadata.name",
                                        "operator": "In",
                                        "values": rule["values"],
                                    }
                                ]
                            }
                        }
                    ]
                }
            ],
        },
    )


def test_a_revisions_pods_carry_its_labels_and_knatives() -> None:
    labels = pod_labels(revision("orders-00001", **{"serving.knative.dev/service": "orders"}))
    assert labels["app"] == labels["serving.knative.dev/revision"] == "orders-00001"
    assert labels["serving.knative.dev/service"] == "orders"


def test_a_namespace_that_admits_knatives_system_namespaces_is_reachable() -> None:
    assert decide([DENY, KNATIVE], {}, "shop", {"app": "a"}) == (True, "")


def test_deny_all_alone_refuses_the_gateway_and_the_activator_naming_the_policy() -> None:
    allowed, why = decide([DENY], {}, "shop", {"app": "a", "serving.knative.dev/revision": "a"})
    assert allowed is False
    assert "shop/deny-all-ingress" in why and "shop/a" in why


def test_admitting_the_gateway_and_not_the_activator_cannot_be_decided() -> None:
    only_gateway = names({"values": ["knative-serving-ingress"]})
    allowed, why = decide([DENY, only_gateway], {}, "shop", {"app": "a"})
    assert allowed is None and "activator is in the path" in why


def test_the_refusals_follow_policies_namespaces_and_revisions() -> None:
    network = NetworkPolicies()
    network.apply("Revision", revision("a-00001"), deleted=False)
    network.apply("Revision", revision("b-00001", namespace="open"), deleted=False)
    assert network.refusals == {}
    network.apply("NetworkPolicy", DENY, deleted=False)
    assert set(network.refusals) == {("shop", "a-00001")}
    network.apply("NetworkPolicy", KNATIVE, deleted=False)
    assert network.refusals == {}
    network.apply("NetworkPolicy", KNATIVE, deleted=True)
    assert set(network.refusals) == {("shop", "a-00001")}
    network.apply("Revision", revision("a-00001"), deleted=True)
    assert network.refusals == {}
