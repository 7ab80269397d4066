"""Broker, Trigger, PingSource and SinkBinding: defaults, addresses, sinks, conditions."""

from __future__ import annotations

from typing import Any

from .factories import Namespace, resource, service

EVENTING = "eventing.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
KSVC_REF = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
BROKER_REF = {"apiVersion": EVENTING, "kind": "Broker", "name": "default"}


def broker(name: str = "default", **spec: Any) -> dict[str, Any]:
    return resource(EVENTING, "Broker", name, dict(spec))


def trigger(name: str = "t", **spec: Any) -> dict[str, Any]:
    body = {"broker": "default", "subscriber": {"ref": KSVC_REF}}
    body.update(spec)
    return resource(EVENTING, "Trigger", name, body)


def test_broker_without_delivery_gets_knative_default_delivery() -> None:
    ns = Namespace().apply(broker())
    assert ns["Broker", "default"]["spec"]["delivery"] == {
        "retry": 10,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.2S",
    }
    annotations = ns["Broker", "default"]["metadata"]["annotations"]
    assert annotations["eventing.knative.dev/broker.class"] == "MTChannelBasedBroker"
    assert ns["Broker", "default"]["spec"]["config"]["name"] == "config-br-default-channel"


def test_a_broker_with_its_own_delivery_keeps_it() -> None:
    ns = Namespace().apply(broker(delivery={"retry": 2}))
    assert ns["Broker", "default"]["spec"]["delivery"] == {"retry": 2}


def test_pingsource_schedule_defaults_to_every_minute() -> None:
    sink = {"uri": "http://example.com"}
    ns = Namespace().apply(resource(SOURCES, "PingSource", "p", {"sink": sink}))
    assert ns["PingSource", "p"]["spec"]["schedule"] == "* * * * *"


def test_broker_address_is_the_ingress_path_form() -> None:
    ns = Namespace().apply(broker())
    assert (
        ns.status("Broker", "default")["address"]["url"] == "http://127.0.0.1:8080/default/default"
    )
    assert ns.condition("Broker", "default") == ("True", "", "")
    assert ns.condition("Broker", "default", "DeadLetterSinkResolved")[:2] == (
        "True",
        "DeadLetterSinkNotConfigured",
    )


def test_trigger_resolves_a_service_ref_to_its_url() -> None:
    ns = Namespace().apply(service(), broker(), trigger())
    status = ns.status("Trigger", "t")
    assert status["subscriberUri"] == "http://orders.default.localhost:8080"
    assert ns.condition("Trigger", "t") == ("True", "", "")
    assert ns["Trigger", "t"]["metadata"]["labels"]["eventing.knative.dev/broker"] == "default"


def test_trigger_ref_plus_uri_appends_the_uri() -> None:
    ns = Namespace().apply(
        service(), broker(), trigger(subscriber={"ref": KSVC_REF, "uri": "/events"})
    )
    assert (
        ns.status("Trigger", "t")["subscriberUri"] == "http://orders.default.localhost:8080/events"
    )


def test_trigger_uri_is_used_as_given() -> None:
    ns = Namespace().apply(broker(), trigger(subscriber={"uri": "http://example.com/hook"}))
    assert ns.status("Trigger", "t")["subscriberUri"] == "http://example.com/hook"


def test_trigger_to_a_missing_service_is_not_resolved() -> None:
    ns = Namespace().apply(broker(), trigger())
    state, reason, message = ns.condition("Trigger", "t", "SubscriberResolved")
    assert (state, reason) == ("False", "Unable to get the Subscriber's URI")
    assert "orders" in message
    assert ns.condition("Trigger", "t")[0] == "False"


def test_trigger_without_its_broker_is_not_ready() -> None:
    ns = Namespace().apply(service(), trigger())
    assert ns.condition("Trigger", "t", "BrokerReady") == (
        "False",
        "BrokerDoesNotExist",
        'Broker "default" does not exist',
    )


def test_dead_letter_sink_comes_from_the_trigger_else_the_broker() -> None:
    dls = {"deadLetterSink": {"uri": "http://dls.example/broker"}}
    ns = Namespace().apply(service(), broker(delivery=dls), trigger())
    assert ns.status("Trigger", "t")["deadLetterSinkUri"] == "http://dls.example/broker"
    own = {"deadLetterSink": {"ref": KSVC_REF}}
    ns.apply(trigger(delivery=own))
    assert ns.status("Trigger", "t")["deadLetterSinkUri"] == "http://orders.default.localhost:8080"


def test_trigger_without_any_dead_letter_sink_says_not_configured() -> None:
    ns = Namespace().apply(service(), broker(), trigger())
    assert ns.condition("Trigger", "t", "DeadLetterSinkResolved") == (
        "True",
        "DeadLetterSinkNotConfigured",
        "No dead letter sink is configured.",
    )
    assert "deadLetterSinkUri" not in ns.status("Trigger", "t")


def test_pingsource_sink_resolves_to_a_broker() -> None:
    sink = {"ref": {"apiVersion": EVENTING, "kind": "Broker", "name": "default"}}
    ns = Namespace().apply(
        broker(), resource(SOURCES, "PingSource", "p", {"schedule": "* * * * *", "sink": sink})
    )
    assert ns.status("PingSource", "p")["sinkUri"] == "http://127.0.0.1:8080/default/default"
    assert ns.condition("PingSource", "p") == ("True", "", "")


def test_pingsource_with_a_missing_sink_is_not_ready() -> None:
    sink = {"ref": {"apiVersion": EVENTING, "kind": "Broker", "name": "nope"}}
    ns = Namespace().apply(resource(SOURCES, "PingSource", "p", {"sink": sink}))
    assert ns.condition("PingSource", "p", "SinkProvided")[:2] == ("False", "NotFound")


def test_sinkbinding_resolves_its_sink_and_checks_a_local_subject() -> None:
    spec = {"subject": KSVC_REF, "sink": {"uri": "http://sink.example"}}
    ns = Namespace().apply(resource(SOURCES, "SinkBinding", "b", spec))
    assert ns.status("SinkBinding", "b")["sinkUri"] == "http://sink.example"
    assert ns.condition("SinkBinding", "b", "BindingAvailable")[:2] == ("False", "SubjectMissing")
    ns.apply(service())
    assert ns.condition("SinkBinding", "b") == ("True", "", "")


def test_without_oidc_senders_have_no_identity_and_say_why() -> None:
    ns = Namespace().apply(service(), broker(), trigger())
    assert "auth" not in ns.status("Trigger", "t")
    assert "audience" not in ns.status("Broker", "default")["address"]
    assert "subscriberAudience" not in ns.status("Trigger", "t")
    assert ns.condition("Trigger", "t", "OIDCIdentityCreated")[:2] == (
        "True",
        "authentication-oidc feature disabled",
    )


def test_with_oidc_each_sender_has_an_identity_and_each_address_an_audience() -> None:
    """authentication-oidc (auth on): status.auth per sender, audiences per addressable."""
    dead_letter = {"deadLetterSink": {"ref": KSVC_REF}}
    ping = resource(SOURCES, "PingSource", "p", {"sink": {"ref": BROKER_REF}})
    binding = resource(
        SOURCES,
        "SinkBinding",
        "b",
        {"subject": {**KSVC_REF}, "sink": {"ref": BROKER_REF}},
    )
    ns = Namespace(oidc=True).apply(
        service(), broker(), trigger(delivery=dead_letter), ping, binding
    )
    broker_audience = "eventing.knative.dev/broker/default/default"
    assert ns.status("Broker", "default")["address"]["audience"] == broker_audience
    status = ns.status("Trigger", "t")
    assert status["auth"] == {"serviceAccountName": "t-oidc-eventing.knative.dev-trigger"}
    assert status["subscriberAudience"] == "serving.knative.dev/service/default/orders"
    assert status["deadLetterSinkAudience"] == "serving.knative.dev/service/default/orders"
    assert ns.condition("Trigger", "t", "OIDCIdentityCreated") == ("True", "", "")
    assert ns.status("PingSource", "p")["auth"] == {
        "serviceAccountName": "p-oidc-sources.knative.dev-pingsource"
    }
    assert ns.status("PingSource", "p")["sinkAudience"] == broker_audience
    assert ns.status("SinkBinding", "b")["auth"] == {
        "serviceAccountName": "b-oidc-sources.knative.dev-sinkbinding"
    }
    assert ns.status("SinkBinding", "b")["sinkAudience"] == broker_audience


def test_with_oidc_an_outside_sink_has_an_audience_only_when_its_destination_names_one() -> None:
    named = {"uri": "http://hooks.example.com/x", "audience": "hooks"}
    ns = Namespace(oidc=True).apply(
        broker(),
        trigger("named", subscriber=named),
        trigger("bare", subscriber={"uri": "http://hooks.example.com/x"}),
    )
    assert ns.status("Trigger", "named")["subscriberAudience"] == "hooks"
    assert "subscriberAudience" not in ns.status("Trigger", "bare")
