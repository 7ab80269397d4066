"""Bearer tokens: good ones pass, and each way of being bad is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.edge.tokens import JWKSource, TokenVerifier
from bulut.errors import UnauthorizedError
from tests.support.issuer import AUDIENCE, ISSUER, Issuer


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture
def verifier(issuer: Issuer, tmp_path: Path) -> TokenVerifier:
    source = JWKSource(str(issuer.write_jwks(tmp_path / "jwks.json")))
    return TokenVerifier(ISSUER, AUDIENCE, source, leeway=0)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_good_token_yields_its_claims(
    issuer: Issuer, verifier: TokenVerifier, alg: str
) -> None:
    claims = await verifier.verify(issuer.token(alg=alg, scope="bulut.write"))
    assert claims["sub"] == "alice" and claims["scope"] == "bulut.write"


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"ttl": -60}, "expired"),
        ({"aud": "someone-else"}, "not for audience 'bulut'"),
        ({"iss": "https://evil.test"}, "not from issuer"),
    ],
)
async def test_bad_claims_are_rejected_with_the_reason(
    issuer: Issuer, verifier: TokenVerifier, token_kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UnauthorizedError, match=message):
        await verifier.verify(issuer.token(**token_kwargs))  # type: ignore[arg-type]


async def test_a_token_signed_by_another_key_is_rejected(verifier: TokenVerifier) -> None:
    forged = Issuer.generate().token()
    with pytest.raises(UnauthorizedError, match="signature is invalid"):
        await verifier.verify(forged)


async def test_garbage_and_unsigned_tokens_are_rejected(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    import jwt

    with pytest.raises(UnauthorizedError, match="not a JWT"):
        await verifier.verify("not-a-token")
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": 9e9}, "", algorithm="none")
    with pytest.raises(UnauthorizedError, match="algorithm 'none'"):
        await verifier.verify(unsigned)


async def test_a_different_audience_can_be_required_per_route(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = issuer.token(aud="broker")
    assert (await verifier.verify(token, audience="broker"))["aud"] == "broker"
    with pytest.raises(UnauthorizedError):
        await verifier.verify(token)
