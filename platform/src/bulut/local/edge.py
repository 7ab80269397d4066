"""Build the edge (auth + rate limits) for each front door from Settings."""

from __future__ import annotations

from starlette.types import ASGIApp

from bulut.edge import (
    AccessPolicy,
    Authorizer,
    EdgeMiddleware,
    JWKSource,
    PlatformIssuer,
    RateLimiter,
    Rule,
    TokenVerifier,
)
from bulut.edge.discovery import ISSUER_PATH
from bulut.edge.middleware import Audiences
from bulut.edge.ratelimit import parse_rate
from bulut.errors import ConfigError
from bulut.settings import Settings

CONTROL_PLANE_DEFAULT = AccessPolicy(
    rules=(
        Rule(name="reads", methods=frozenset({"GET", "HEAD", "OPTIONS"}), auth="none"),
        Rule(name="health", path="/healthz", auth="none"),
    ),
    default=Rule(name="writes", auth="required"),
)
DATA_PLANE_DEFAULT = AccessPolicy(default=Rule(name="default", auth="required"))


def platform_issuer(settings: Settings) -> PlatformIssuer | None:
    """The issuer of the platform's own tokens when auth is on (``authentication-oidc``): its
    URL is the control plane's, where its discovery document and JWKS are served."""
    if settings.auth_issuer is None:
        return None
    return PlatformIssuer(settings.model_copy(update={"server": None}).control_url + ISSUER_PATH)


def wrap(app: ASGIApp, settings: Settings, *, control_plane: bool) -> ASGIApp:
    """The app behind auth and rate limits, or unchanged when neither is configured."""
    edge = guard(app, settings, control_plane=control_plane)
    return app if edge is None else edge


def guard(
    app: ASGIApp,
    settings: Settings,
    *,
    control_plane: bool,
    platform: PlatformIssuer | None = None,
    authorizer: Authorizer | None = None,
    audiences: Audiences | None = None,
) -> EdgeMiddleware | None:
    """Auth and rate limits for one front door, or None when neither is configured.

    ``platform`` is the issuer whose tokens the front door accepts for its receivers'
    audiences (the data plane: deliveries, sources, functions posting to ``K_SINK``);
    ``authorizer`` the EventPolicies it enforces (with auth on)."""
    if settings.auth_issuer is None and settings.rate_limit is None:
        return None
    verifier = None
    if settings.auth_issuer is not None:
        if not settings.auth_jwks:
            issuer, jwks = Settings.env_name("auth_issuer"), Settings.env_name("auth_jwks")
            raise ConfigError(f"{issuer} is set but {jwks} is not: set both")
        verifier = TokenVerifier(
            settings.auth_issuer, settings.auth_audience, JWKSource(settings.auth_jwks)
        )
    if settings.auth_policy is not None:
        policy = AccessPolicy.load(settings.auth_policy)
    elif verifier is None:
        policy = AccessPolicy.open()
    else:
        policy = CONTROL_PLANE_DEFAULT if control_plane else DATA_PLANE_DEFAULT
    limiter = RateLimiter(*parse_rate(settings.rate_limit)) if settings.rate_limit else None
    return EdgeMiddleware(
        app,
        policy=policy,
        verifier=verifier,
        limiter=limiter,
        platform=platform,
        domain=settings.domain,
        authorizer=authorizer if verifier is not None else None,
        audiences=audiences,
    )
