"""Bearer tokens: JWT (RS256/ES256) checked against an issuer's JWKS.

Signature, ``iss``, ``aud``, ``exp`` and ``nbf`` are checked (``exp`` is required); keys are
looked up by ``kid`` and the JWKS is re-fetched (at most every ``refresh_interval``) when
an unknown ``kid`` shows up, so issuer key rotation needs no restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from bulut.errors import ConfigError, UnauthorizedError

ALGORITHMS = ("RS256", "ES256")
Claims = Mapping[str, Any]


@dataclass
class JWKSource:
    """A JWKS document from a URL or a file, cached by ``kid``."""

    location: str
    refresh_interval: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, init=False)
    _fetched: float = field(default=float("-inf"), init=False)

    async def _fetch(self) -> dict[str, Any]:
        if self.location.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.location)
                response.raise_for_status()
                document: dict[str, Any] = response.json()
                return document
        loaded: dict[str, Any] = json.loads(Path(self.location).read_text())
        return loaded

    async def refresh(self) -> None:
        """Load the JWKS now."""
        try:
            document = await self._fetch()
        except (OSError, ValueError, httpx.HTTPError) as error:
            raise ConfigError(f"cannot load JWKS from {self.location}: {error}") from None
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("alg", "RS256") in ALGORITHMS or entry.get("kty") in ("RSA", "EC"):
                key = jwt.PyJWK.from_dict(entry)
                keys[str(entry.get("kid", ""))] = key
        self._keys = keys
        self._fetched = self.clock()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        """The key with this ``kid`` (re-fetching once if it is unknown)."""
        if kid not in self._keys and self.clock() - self._fetched >= self.refresh_interval:
            await self.refresh()
        if kid not in self._keys and len(self._keys) == 1 and not kid:
            return next(iter(self._keys.values()))
        try:
            return self._keys[kid]
        except KeyError:
            raise UnauthorizedError(f"bearer token signed with unknown key {kid!r}") from None


@dataclass
class TokenVerifier:
    """Checks bearer tokens for one issuer."""

    issuer: str
    audience: str
    jwks: JWKSource
    leeway: float = 30.0

    async def verify(self, token: str, *, audience: str | None = None) -> Claims:
        """Claims of a valid token, else UnauthorizedError saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthorizedError("bearer token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise UnauthorizedError(f"bearer token algorithm {algorithm!r} is not RS256 or ES256")
        key = await self.jwks.key_for(str(header.get("kid", "")))
        want = audience or self.audience
        try:
            claims: Claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=want,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("bearer token expired") from None
        except jwt.InvalidAudienceError:
            raise UnauthorizedError(f"bearer token is not for audience {want!r}") from None
        except jwt.InvalidIssuerError:
            raise UnauthorizedError(f"bearer token is not from issuer {self.issuer!r}") from None
        except jwt.InvalidSignatureError:
            raise UnauthorizedError("bearer token signature is invalid") from None
        except jwt.MissingRequiredClaimError as error:
            raise UnauthorizedError(f"bearer token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            raise UnauthorizedError(f"bearer token is invalid: {error}") from None
        return claims
