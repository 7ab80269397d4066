"""The ASGI middleware that enforces the access policy and rate limits in front of an app.

Order per request: pick the route's rule → rate limit (by token subject when there is a
valid token, else by client address) → token check when the rule requires one. Failures
answer problem+json: 401 with ``WWW-Authenticate: Bearer``, 403, or 429 with
``Retry-After``. Verified claims are put in ``scope["bulut.claims"]``.

The platform's own traffic (deliveries, sources, functions posting to ``K_SINK``) carries
tokens of :class:`~.issuer.PlatformIssuer`: such a token is accepted only for the audience of
the receiver it reached (:func:`~.identity.receiver_audience`), as Knative's
``authentication-oidc`` addressables do; rule scopes apply to user tokens only. With an
``authorizer`` (the EventPolicies of the eventing data plane), a sender that no policy
applying to the receiver names is refused 403, whichever issuer its token came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from bulut.errors import (
    BulutError,
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
    problem_response,
)

from .eventpolicy import Authorizer
from .identity import receiver_audience
from .issuer import PlatformIssuer
from .policy import AccessPolicy, Rule
from .ratelimit import RateLimiter, parse_rate
from .tokens import Claims, TokenVerifier

Audiences = Callable[[str, str], "str | None"]
"""(Host, path) -> the audience its receiver announces, or None (then the Host's Service or
the path's Broker is the receiver)."""


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class EdgeMiddleware:
    """Auth and rate limiting in front of any ASGI app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: AccessPolicy,
        verifier: TokenVerifier | None = None,
        limiter: RateLimiter | None = None,
        platform: PlatformIssuer | None = None,
        domain: str = "localhost",
        authorizer: Authorizer | None = None,
        audiences: Audiences | None = None,
    ) -> None:
        self.app = app
        self.platform = platform
        self.authorizer = authorizer
        self.domain = domain
        self.audiences = audiences
        self.policy = policy
        self.verifier = verifier
        self.limiter = limiter
        self._route_limiters: dict[str, RateLimiter] = {}
        self.rejected: dict[int, int] = {401: 0, 403: 0, 429: 0}

    def _limiter_for(self, rule: Rule) -> RateLimiter | None:
        if rule.rate is None:
            return self.limiter
        if rule.name not in self._route_limiters:
            self._route_limiters[rule.name] = RateLimiter(*parse_rate(rule.rate))
        return self._route_limiters[rule.name]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.admit(scope)
        except BulutError as error:
            status, headers, body = self.rejection(error, scope.get("path", "/"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    async def admit(self, scope: Scope) -> None:
        """Raise 401/403/429 (a :class:`BulutError`) unless the policy lets ``scope`` in."""
        headers = scope.get("headers", [])
        host = _header(headers, b"host") or ""
        rule = self.policy.rule_for(host, scope.get("path", "/"), scope.get("method", "GET"))
        claims = await self._claims(headers, rule, host, scope.get("path", "/"))
        if self.authorizer is not None:
            audience = self.receiver(host, scope.get("path", "/"))
            self.authorizer.check(
                audience, str(claims["sub"]) if claims and "sub" in claims else None
            )
        limiter = self._limiter_for(rule)
        if limiter is not None:
            client = scope.get("client") or ("unknown", 0)
            key = f"sub:{claims['sub']}" if claims and "sub" in claims else f"ip:{client[0]}"
            retry_after = limiter.check(f"{rule.name}|{key}")
            if retry_after:
                raise RateLimitedError(
                    f"rate limit of route {rule.name!r} exceeded; retry in {retry_after} s",
                    retry_after=retry_after,
                )
        if claims is not None:
            scope["bulut.claims"] = claims

    async def _claims(
        self, headers: Iterable[tuple[bytes, bytes]], rule: Rule, host: str, path: str
    ) -> Claims | None:
        authorization = _header(headers, b"authorization")
        if rule.auth == "none" and authorization is None:
            return None
        if (
            self.platform is not None
            and authorization is not None
            and authorization[:7].lower() == "bearer "
            and self.platform.owns(token := authorization[7:].strip())
        ):
            return self.platform.verify(token, self.receiver(host, path))
        if self.verifier is None:
            if rule.auth == "none":
                return None
            raise UnauthorizedError("this route requires a token but no issuer is configured")
        if authorization is None or not authorization.lower().startswith("bearer "):
            if rule.auth == "none":
                return None
            raise UnauthorizedError("missing bearer token (Authorization: Bearer <JWT>)")
        claims = await self.verifier.verify(authorization[7:].strip(), audience=rule.audience)
        if rule.scopes:
            granted = set(str(claims.get("scope", "")).split()) | set(claims.get("scp", []) or [])
            missing = sorted(rule.scopes - granted)
            if missing:
                raise ForbiddenError(f"token lacks scope {' '.join(missing)} for {rule.name!r}")
        return claims

    def receiver(self, host: str, path: str) -> str | None:
        """The audience of whatever answers ``host`` + ``path``: ``audiences`` first (the
        addressables that announce their own, such as channels), else the Host's Service or
        the path's Broker."""
        found = self.audiences(host, path) if self.audiences is not None else None
        return found or receiver_audience(host, path, self.domain)

    def rejection(
        self, error: BulutError, path: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The problem+json refusal (with WWW-Authenticate or Retry-After), counted."""
        status, headers, body = problem_response(error, instance=path)
        if isinstance(error, UnauthorizedError):
            description = error.message.replace('"', "'")
            headers.append(
                (
                    b"www-authenticate",
                    f'Bearer error="invalid_token", error_description="{description}"'.encode(),
                )
            )
        if isinstance(error, RateLimitedError):
            headers.append((b"retry-after", str(error.retry_after).encode()))
        self.rejected[status] = self.rejected.get(status, 0) + 1
        return status, headers, body
