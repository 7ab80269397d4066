"""The channel dispatcher's pure parts: reading an IMC, and who answers a Host or path."""

from __future__ import annotations

from typing import Any

from bulut.eventing.channel import ChannelDispatcher, parse_channel
from bulut.eventing.channel_log import log_name, subscriber_trigger
from bulut.eventing.front import EventingFront
from bulut.eventing.replies import Verdict, classify
from bulut.httpd import Request

URL = "http://orders-kn-channel.shop.localhost:8080"


def imc(ready: str = "True", **annotations: str) -> dict[str, Any]:
    return {
        "kind": "InMemoryChannel",
        "metadata": {"name": "orders", "namespace": "shop", "annotations": annotations},
        "spec": {
            "subscribers": [
                {
                    "uid": "u1",
                    "generation": 2,
                    "name": "audit",
                    "subscriberUri": "http://audit/",
                    "replyUri": "http://reply/",
                    "delivery": {"retry": 3},
                }
            ]
        },
        "status": {
            "address": {"url": URL},
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def test_an_imc_is_read_with_its_host_subscribers_and_mode() -> None:
    channel = parse_channel(imc(**{"messaging.knative.dev/async-handler": "true"}))
    assert channel.host == "orders-kn-channel.shop.localhost"
    assert channel.ready and channel.async_handler
    [entry] = channel.subscribers
    assert (entry.name, entry.generation, entry.reply_uri) == ("audit", 2, "http://reply/")
    assert entry.delivery == {"retry": 3}
    assert not parse_channel(imc(ready="Unknown")).ready
    assert not parse_channel(imc(**{"messaging.knative.dev/async-handler": "maybe"})).async_handler


class _Brokers:
    def __init__(self) -> None:
        self.brokers = {("shop", "default"): object()}


class _Ingress:
    """Stands for the broker ingress: only its brokers are asked."""

    def __init__(self) -> None:
        self.dispatcher = _Brokers()


def test_the_front_answers_channel_hosts_and_paths_no_broker_has() -> None:
    channels = ChannelDispatcher(None, lambda url: None)  # type: ignore[arg-type,return-value]
    channels.set_channel(parse_channel(imc()))
    ingress: Any = _Ingress()
    front = EventingFront(ingress, channels)
    by_host = front.answerer("orders-kn-channel.shop.localhost", "/")
    assert by_host is not ingress
    assert front.answerer("127.0.0.1", "/shop/orders") is not ingress
    assert front.answerer("127.0.0.1", "/shop/default") is ingress  # a broker keeps its path
    assert front.answerer("127.0.0.1", "/shop/unknown") is ingress
    channels.remove_channel(("shop", "orders"))
    assert front.answerer("orders-kn-channel.shop.localhost", "/") is ingress


def test_a_registered_route_is_asked_before_the_broker_ingress() -> None:
    channels = ChannelDispatcher(None, lambda url: None)  # type: ignore[arg-type,return-value]
    front = EventingFront(_Ingress(), channels)  # type: ignore[arg-type]
    marker = object()
    front.add_route(lambda host, path: marker if host == "job-sink.local" else None)  # type: ignore[arg-type,return-value]
    assert front.answerer("job-sink.local", "/shop/j") is marker


def test_a_channel_takes_a_2xx_that_is_not_a_cloudevent_as_delivered() -> None:
    assert classify(200, {}, b"hello", any_body=True).verdict is Verdict.delivered
    assert classify(200, {}, b"hello").verdict is Verdict.retry  # the broker's 502


def test_a_kafka_channels_subscribers_are_queues_in_the_log_apart_from_triggers() -> None:
    kafka = {**imc(), "kind": "KafkaChannel"}
    kafka["spec"]["subscribers"][0]["delivery"]["deadLetterSink"] = {"uri": "http://dls/"}
    kafka["spec"]["subscribers"].append({"uid": "u2", "name": "echo", "replyUri": "http://r/"})
    channel = parse_channel(kafka)
    assert channel.durable and not parse_channel(imc()).durable
    assert log_name(channel) == "kafkachannel/orders"
    audit, echo = (subscriber_trigger(channel, entry) for entry in channel.subscribers)
    assert (audit.broker, audit.name, audit.subscription) == ("kafkachannel/orders", "audit", True)
    assert audit.key == "shop/kafkachannel/orders/audit"  # never a Trigger's "shop/audit"
    assert (audit.subscriber_uri, audit.reply_uri) == ("http://audit/", "http://reply/")
    assert audit.dead_letter_sink_uri == "http://dls/" and audit.delivery is not None
    assert audit.delivery["retry"] == 3
    assert (echo.subscriber_uri, echo.reply_uri) == ("http://r/", None)  # the event is the reply


def test_the_front_names_the_audience_of_the_channel_that_answers() -> None:
    announced = imc()
    announced["status"]["address"]["audience"] = "messaging.knative.dev/inmemorychannel/shop/orders"
    announced["spec"]["subscribers"][0]["replyAudience"] = "messaging.knative.dev/x/shop/next"
    channels = ChannelDispatcher(None, lambda url: None)  # type: ignore[arg-type,return-value]
    channel = parse_channel(announced)
    assert channel.subscribers[0].reply_audience == "messaging.knative.dev/x/shop/next"
    channels.set_channel(channel)
    front = EventingFront(_Ingress(), channels)  # type: ignore[arg-type]
    audience = "messaging.knative.dev/inmemorychannel/shop/orders"
    assert front.audience("orders-kn-channel.shop.localhost:8080", "/") == audience
    assert front.audience("127.0.0.1:8080", "/shop/orders") == audience  # the path form
    assert front.audience("audit.shop.localhost", "/") is None  # a Service: not a channel


def _front_recording_channels() -> tuple[EventingFront, list[str]]:
    """A front with the shop/orders channel; the names of the channels that answered."""
    channels = ChannelDispatcher(None, lambda url: None)  # type: ignore[arg-type,return-value]
    channels.set_channel(parse_channel(imc()))
    answered: list[str] = []

    def handle(channel: Any, request: Request, reply: Any) -> None:
        answered.append(channel.name)

    channels.handle = handle  # type: ignore[method-assign]
    return EventingFront(_Ingress(), channels), answered  # type: ignore[arg-type]


def test_the_front_reads_the_host_header_in_any_case_with_or_without_a_port() -> None:
    front, answered = _front_recording_channels()
    reply: Any = None  # the front hands the request on; the channel answers
    for host in (b"orders-kn-channel.shop.localhost", b"ORDERS-kn-channel.shop.localhost:8080"):
        for _ in range(2):  # the second time from what the front remembers
            front.handle_request(Request(b"POST", b"/", [], b"", host=host), reply)
    assert answered == ["orders"] * 4


def test_a_flood_of_host_values_is_answered_but_not_all_remembered() -> None:
    from bulut.eventing import hosts as module  # the front names Hosts as HostRoutes does

    front, answered = _front_recording_channels()
    reply: Any = None
    for port in range(module._MAX_NAMES + 100):
        host = b"orders-kn-channel.shop.localhost:%d" % port
        front.handle_request(Request(b"POST", b"/", [], b"", host=host), reply)
    assert answered == ["orders"] * (module._MAX_NAMES + 100)
    assert len(module._NAMES) <= module._MAX_NAMES
