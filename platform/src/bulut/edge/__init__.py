"""Edge security for every front door: JWT bearer auth, per-route policy, rate limits.

The same :class:`EdgeMiddleware` wraps the data plane (service routes, broker ingress) and
the control plane API; what each route needs is data (:class:`AccessPolicy`), not code.
"""

from .eventpolicy import Authorizer
from .identity import Identity
from .issuer import Issued, PlatformIssuer
from .middleware import EdgeMiddleware
from .policy import AccessPolicy, Rule
from .ratelimit import RateLimiter, TokenBucket
from .tokens import Claims, JWKSource, TokenVerifier

__all__ = [
    "AccessPolicy",
    "Authorizer",
    "Claims",
    "EdgeMiddleware",
    "Identity",
    "Issued",
    "JWKSource",
    "PlatformIssuer",
    "RateLimiter",
    "Rule",
    "TokenBucket",
    "TokenVerifier",
]
