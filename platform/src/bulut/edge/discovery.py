"""OIDC discovery for the platform's issuer, as kube-apiserver serves its ServiceAccount issuer.

A cluster's API server publishes ``<issuer>/.well-known/openid-configuration`` and the JWKS it
names (``jwks_uri``, ``/openid/v1/jwks``), so anything holding a ServiceAccount token (a
Knative receiver, a function, a sidecar) can verify it offline. The local platform's issuer
(``<control plane>/oidc``, auth on) publishes the same two documents under its URL, and the
configuration also at the control plane's root, where a client that takes the platform for
its API server looks (``kubectl get --raw /.well-known/openid-configuration``). Both hold
public keys only, so they are served without a token, as clusters commonly allow them
(``system:service-account-issuer-discovery`` bound to unauthenticated users).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from .issuer import ALGORITHM, PlatformIssuer

ISSUER_PATH = "/oidc"
CONFIGURATION_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
# every path the routes answer, for guards that let them through without a token
PATHS = frozenset({CONFIGURATION_PATH, ISSUER_PATH + CONFIGURATION_PATH, ISSUER_PATH + JWKS_PATH})
CACHE = {"cache-control": "public, max-age=3600"}


def configuration(issuer: str) -> dict[str, Any]:
    """The OpenID provider metadata of ``issuer`` (the fields kube-apiserver publishes)."""
    return {
        "issuer": issuer,
        "jwks_uri": issuer.rstrip("/") + JWKS_PATH,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
    }


def discovery_routes(issuer: PlatformIssuer) -> list[BaseRoute]:
    """The discovery document (at the issuer and at the root) and the JWKS."""

    async def openid_configuration(_request: Request) -> JSONResponse:
        return JSONResponse(configuration(issuer.issuer), headers=CACHE)

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks(), headers=CACHE, media_type="application/jwk-set+json")

    return [
        Route(CONFIGURATION_PATH, openid_configuration, methods=["GET"]),
        Route(ISSUER_PATH + CONFIGURATION_PATH, openid_configuration, methods=["GET"]),
        Route(ISSUER_PATH + JWKS_PATH, jwks, methods=["GET"]),
    ]
