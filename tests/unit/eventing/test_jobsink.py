"""JobSink: job names, Location paths, webhook rules and defaults, status (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.errors import InvalidResourceError
from bulut.eventing.jobsink import job_name, location, parse_jobsink, parse_location
from tests.unit.controlplane.factories import Namespace


def jobsink(**pod: Any) -> dict[str, Any]:
    template = {"restartPolicy": "Never", "containers": [{"name": "job", "image": "mailer"}]}
    return {
        "apiVersion": "sinks.knative.dev/v1alpha1",
        "kind": "JobSink",
        "metadata": {"name": "mail", "namespace": "default"},
        "spec": {"job": {"spec": {"template": {"spec": {**template, **pod}}}}},
    }


def test_a_job_is_named_after_its_jobsink_and_the_event_s_source_and_id() -> None:
    name = job_name("mail", "/orders", "o-1")
    assert name.startswith("mail-") and len(name) == len("mail-") + 32
    assert name == job_name("mail", "/orders", "o-1") != job_name("mail", "/orders", "o-2")
    assert len(job_name("x" * 60, "/orders", "o-1")) <= 63


def test_a_location_round_trips_an_escaped_source() -> None:
    path = location("default", "mail", "https://shop/orders", "a/b")
    assert path == "/namespaces/default/name/mail/sources/https%3A%2F%2Fshop%2Forders/ids/a%2Fb"
    assert parse_location(path) == ("default", "mail", "https://shop/orders", "a/b")
    assert parse_location("/default/mail") is None


@pytest.mark.parametrize(
    ("pod", "field"),
    [
        ({"restartPolicy": "Always"}, "spec.job.spec.template.spec.restartPolicy"),
        ({"containers": []}, "spec.job.spec.template.spec.containers"),
        ({"containers": [{"name": "job"}]}, "spec.job.spec.template.spec.containers[0].image"),
    ],
)
def test_an_invalid_job_is_rejected_naming_the_field(pod: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        Namespace().apply(jobsink(**pod))
    assert caught.value.field == field


def test_a_negative_backoff_limit_is_rejected() -> None:
    document = jobsink()
    document["spec"]["job"]["spec"]["backoffLimit"] = -1
    with pytest.raises(InvalidResourceError) as caught:
        Namespace().apply(document)
    assert caught.value.field == "spec.job.spec.backoffLimit"


def test_a_jobsink_is_addressable_at_the_job_sink_host_and_batch_mode_is_defaulted() -> None:
    ns = Namespace().apply(jobsink())
    stored = ns[("JobSink", "mail")]
    container = stored["spec"]["job"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "K_EXECUTION_MODE", "value": "batch"} in container["env"]
    status = stored["status"]
    assert status["address"] == {
        "name": "http",
        "url": "http://job-sink.knative-eventing.localhost:8080/default/mail",
    }
    assert status["job"] == {"selector": "sinks.knative.dev/job-sink-name=mail"}
    assert ns.condition("JobSink", "mail")[0] == "True"
    assert parse_jobsink(stored).backoff_limit == 6
