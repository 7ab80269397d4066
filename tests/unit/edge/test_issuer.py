"""The platform's own issuer: tokens per sender and audience, verified only for that audience."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bulut.edge import PlatformIssuer
from bulut.errors import UnauthorizedError

ISSUER = "http://127.0.0.1:8081/oidc"
SUBJECT = "system:serviceaccount:shop-dev:t-oidc-eventing.knative.dev-trigger"
BROKER = "eventing.knative.dev/broker/shop-dev/default"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_token_carries_subject_audience_issuer_and_expiry() -> None:
    issuer = PlatformIssuer(ISSUER)
    issued = issuer.token(SUBJECT, BROKER)
    claims = issuer.verify(issued.token, BROKER)
    assert (claims["sub"], claims["aud"], claims["iss"]) == (SUBJECT, BROKER, ISSUER)
    assert claims["exp"] == issued.expires


def test_anyone_with_the_jwks_can_verify_a_token() -> None:
    issuer = PlatformIssuer(ISSUER)
    token = issuer.token(SUBJECT, BROKER).token
    [key] = issuer.jwks()["keys"]
    public = jwt.PyJWK.from_dict(key).key
    claims = jwt.decode(token, public, algorithms=["ES256"], audience=BROKER, issuer=ISSUER)
    assert claims["sub"] == SUBJECT


def test_a_token_for_another_audience_is_refused() -> None:
    issuer = PlatformIssuer(ISSUER)
    token = issuer.token(SUBJECT, BROKER).token
    with pytest.raises(UnauthorizedError, match=r"not 'serving\.knative\.dev/service/shop-dev/x'"):
        issuer.verify(token, "serving.knative.dev/service/shop-dev/x")
    with pytest.raises(UnauthorizedError, match="without an audience"):
        issuer.verify(token, None)


def test_the_token_is_reused_until_a_fifth_of_its_life_is_left_then_renewed() -> None:
    clock = Clock()
    issuer = PlatformIssuer(ISSUER, lifetime=100.0, clock=clock)
    first = issuer.token(SUBJECT, BROKER)
    clock.now += 79
    assert issuer.token(SUBJECT, BROKER) == first
    clock.now += 2
    renewed = issuer.token(SUBJECT, BROKER)
    assert renewed != first
    assert issuer.verify(renewed.token, BROKER)["sub"] == SUBJECT


def test_an_expired_token_is_refused() -> None:
    clock = Clock()
    issuer = PlatformIssuer(ISSUER, lifetime=100.0, clock=clock)
    token = issuer.token(SUBJECT, BROKER).token
    clock.now += 101
    with pytest.raises(UnauthorizedError, match="expired"):
        issuer.verify(token, BROKER)


def test_a_forged_token_naming_the_issuer_is_refused() -> None:
    issuer = PlatformIssuer(ISSUER)
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": SUBJECT, "aud": BROKER, "iat": now, "exp": now + 60}
    forged = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    assert issuer.owns(forged)
    with pytest.raises(UnauthorizedError, match="platform token is invalid"):
        issuer.verify(forged, BROKER)


def test_tokens_of_other_issuers_and_garbage_are_not_the_platforms() -> None:
    issuer = PlatformIssuer(ISSUER)
    other = PlatformIssuer("https://issuer.test").token(SUBJECT, BROKER).token
    assert not issuer.owns(other)
    assert not issuer.owns("not-a-jwt")
