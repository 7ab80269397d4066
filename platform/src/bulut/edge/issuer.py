"""The platform's own token issuer: what Kubernetes' ServiceAccount token API is to Knative.

With ``authentication-oidc`` on, Knative's senders ask the API server for a token of their
OIDC ServiceAccount for the target's audience (TokenRequest) and receivers verify it against
the cluster's issuer. Locally the platform is that issuer: an ES256 key made at start (never
written to disk; tokens die with the process), tokens of one hour renewed when less than a
fifth of their life is left, and a JWKS for anyone who wants to verify them. Receivers check
``iss``, ``aud`` (their own audience), ``exp`` and the signature; a token this process issued
is recognised without the signature check (it is the same bytes it handed out).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from bulut.errors import UnauthorizedError

from .tokens import Claims

TOKEN_SECONDS = 3600.0
RENEW_FRACTION = 0.2
ALGORITHM = "ES256"


@dataclass(frozen=True, slots=True)
class Issued:
    """A token and when it expires (epoch seconds)."""

    token: str
    expires: float


@dataclass
class PlatformIssuer:
    """Mints and verifies the platform's own tokens (one key per run)."""

    issuer: str
    lifetime: float = TOKEN_SECONDS
    clock: Callable[[], float] = time.time
    _key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()), init=False, repr=False
    )
    _kid: str = field(default_factory=lambda: secrets.token_hex(8), init=False)
    _current: dict[tuple[str, str], Issued] = field(default_factory=dict, init=False)
    _known: dict[str, Claims] = field(default_factory=dict, init=False, repr=False)

    def token(self, subject: str, audience: str) -> Issued:
        """A token for ``subject`` to present to ``audience`` (reused until it nears expiry)."""
        now = self.clock()
        current = self._current.get((subject, audience))
        if current is not None and current.expires - now > self.lifetime * RENEW_FRACTION:
            return current
        expires = int(now + self.lifetime)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now),
            "nbf": int(now),
            "exp": expires,
        }
        issued = Issued(
            jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid}),
            expires,
        )
        if current is not None:
            self._known.pop(current.token, None)
        self._current[(subject, audience)] = issued
        self._known[issued.token] = claims
        return issued

    def owns(self, token: str) -> bool:
        """True when ``token`` claims to come from this issuer (unverified: pick the verifier)."""
        if token in self._known:
            return True
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return bool(claims.get("iss") == self.issuer)

    def verify(self, token: str, audience: str | None) -> Claims:
        """The claims of one of this issuer's tokens meant for ``audience``, else 401."""
        if audience is None:
            raise UnauthorizedError("a platform token was sent to a receiver without an audience")
        claims = self._known.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    key=self._key.public_key(),
                    algorithms=[ALGORITHM],
                    issuer=self.issuer,
                    options={"require": ["exp", "iss", "aud", "sub"], "verify_aud": False},
                )
            except jwt.PyJWTError as error:
                raise UnauthorizedError(f"platform token is invalid: {error}") from None
        if claims["exp"] <= self.clock():
            raise UnauthorizedError("platform token expired")
        if claims["aud"] != audience:
            raise UnauthorizedError(
                f"platform token is for audience {claims['aud']!r}, not {audience!r}"
            )
        return claims

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWKS document (``/.well-known`` style discovery)."""
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self._kid, "alg": ALGORITHM, "use": "sig"}]}
