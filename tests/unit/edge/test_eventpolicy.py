"""EventPolicy grants at the edge: a receiver a policy applies to admits only its senders."""

from __future__ import annotations

import pytest

from bulut.edge.eventpolicy import Authorizer, subject_matches
from bulut.errors import ForbiddenError

BROKER = "eventing.knative.dev/broker/default/default"
OTHER = "eventing.knative.dev/broker/default/other"


def test_a_pattern_ending_in_a_star_matches_any_suffix_and_nothing_else_is_a_glob() -> None:
    assert subject_matches("system:serviceaccount:ns:other-app", "system:serviceaccount:ns:other-*")
    assert not subject_matches("system:serviceaccount:ns2:app", "system:serviceaccount:ns:*")
    assert subject_matches("alice", "alice") and not subject_matches("alice2", "alice")


def test_a_receiver_no_policy_applies_to_admits_any_verified_sender() -> None:
    Authorizer({BROKER: ["alice"]}).check(OTHER, "mallory")
    Authorizer().check(BROKER, None)


def test_a_governed_receiver_refuses_other_subjects_with_403() -> None:
    authorizer = Authorizer({BROKER: ["alice", "system:serviceaccount:default:poster-*"]})
    authorizer.check(BROKER, "alice")
    authorizer.check(BROKER, "system:serviceaccount:default:poster-sinkbinding")
    with pytest.raises(ForbiddenError, match="'mallory' is not allowed") as refused:
        authorizer.check(BROKER, "mallory")
    assert refused.value.http_status == 403
    with pytest.raises(ForbiddenError, match="without a token"):
        authorizer.check(BROKER, None)


def test_a_policy_that_resolved_no_subject_lets_nobody_in() -> None:
    authorizer = Authorizer({BROKER: []})
    with pytest.raises(ForbiddenError):
        authorizer.check(BROKER, "alice")
    authorizer.replace({})
    authorizer.check(BROKER, "alice")
