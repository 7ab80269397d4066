"""The platform's own issuer with auth on (Knative's ``authentication-oidc``), without the app.

One platform for the module (no functions to build): its issuer publishes OIDC discovery and
a JWKS that a real JWT library verifies its tokens with, and a ContainerSource's program gets
a projected token that the broker accepts from it.
"""

from __future__ import annotations

import asyncio
import json
import stat
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from bulut.edge import identity
from bulut.local import LocalPlatform
from bulut.processes.backoff import BackOff
from tests.support.eventing import Subscriber, subscriber
from tests.support.issuer import ISSUER, Issuer
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NAMESPACE = "default"
BROKER_AUDIENCE = identity.broker_audience(NAMESPACE, "default")

# Posts one event to $K_SINK with the projected token (when there is one) and prints the
# broker's answer; exits 0 so the supervisor's back-off keeps it from spinning.
POSTER = textwrap.dedent(
    """
    import json, os, sys, urllib.error, urllib.request, uuid

    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": str(uuid.uuid4()),
        "ce-source": "/poster",
        "ce-type": "dev.example.posted",
    }
    token_file = os.environ.get("K_OIDC_TOKEN_FILE")
    if token_file:
        with open(token_file) as handle:
            headers["authorization"] = "Bearer " + handle.read().strip()
    request = urllib.request.Request(os.environ["K_SINK"], b"{}", headers, method="POST")
    try:
        status = urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as error:
        status = error.code
    print(json.dumps({"status": status, "token_file": token_file}), flush=True)
    """
)


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    return Issuer.generate()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sink() -> AsyncIterator[Subscriber]:
    async with subscriber() as recording:
        yield recording


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, users: Issuer, sink: Subscriber
) -> AsyncIterator[LocalPlatform]:
    root = tmp_path_factory.mktemp("oidc")
    program = root / "functions" / "poster"
    program.mkdir(parents=True)
    (program / "__main__.py").write_text(POSTER)
    settings = local_settings(
        root,
        functions_dir=root / "functions",
        auth_issuer=ISSUER,
        auth_jwks=str(users.write_jwks(root / "jwks.json")),
    )
    async with running_platform(settings, check_images=False) as local:
        # one post per test is enough: the program's restart waits 30 s
        local.eventing.containers.backoff = BackOff(initial=30.0, immediate_first=False)
        await local.control.apply(
            [
                {
                    "apiVersion": "eventing.knative.dev/v1",
                    "kind": "Broker",
                    "metadata": {"name": "default", "namespace": NAMESPACE},
                },
                {
                    "apiVersion": "eventing.knative.dev/v1",
                    "kind": "Trigger",
                    "metadata": {"name": "to-sink", "namespace": NAMESPACE},
                    "spec": {"broker": "default", "subscriber": {"uri": sink.url}},
                },
            ]
        )
        yield local


async def test_the_issuer_publishes_discovery_and_a_jwks_that_verifies_its_tokens(
    platform: LocalPlatform,
) -> None:
    issuer = platform.eventing.deliverer.issuer
    assert issuer is not None
    control = f"http://127.0.0.1:{platform.control_port}"
    assert issuer.issuer == f"{control}/oidc"
    async with httpx.AsyncClient() as client:
        found = await client.get(f"{issuer.issuer}/.well-known/openid-configuration")
        at_root = await client.get(f"{control}/.well-known/openid-configuration")
        keys = await client.get(found.json()["jwks_uri"])
    assert found.status_code == 200 and at_root.json() == found.json()
    assert found.json() == {
        "issuer": issuer.issuer,
        "jwks_uri": f"{issuer.issuer}/openid/v1/jwks",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }
    assert keys.headers["content-type"].startswith("application/jwk-set+json")
    assert all("d" not in key for key in keys.json()["keys"]), "a private key was published"

    sender = identity.trigger(NAMESPACE, "to-sink")
    token = issuer.token(sender.subject, BROKER_AUDIENCE).token
    # what a function or a sidecar does: PyJWT fetches the JWKS over HTTP and verifies
    # (in a thread: its client blocks, and this loop serves the control plane)
    keyring = jwt.PyJWKClient(found.json()["jwks_uri"])
    signing_key = await asyncio.to_thread(keyring.get_signing_key_from_jwt, token)
    claims = jwt.decode(
        token, signing_key.key, algorithms=["ES256"], audience=BROKER_AUDIENCE, issuer=issuer.issuer
    )
    assert claims["sub"] == sender.subject
    forged = jwt.encode(
        {**claims, "sub": "system:serviceaccount:default:intruder"},
        Issuer.generate().ec_key,
        algorithm="ES256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, signing_key.key, algorithms=["ES256"], audience=BROKER_AUDIENCE)


def container_source(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "ContainerSource",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "template": {"spec": {"containers": [{"image": "ghcr.io/acme/poster:1.0"}]}},
            "sink": {
                "ref": {
                    "apiVersion": "eventing.knative.dev/v1",
                    "kind": "Broker",
                    "name": "default",
                }
            },
        },
    }


async def test_a_containersource_program_posts_to_the_broker_with_its_projected_token(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    before = len(sink.received)
    await platform.control.apply([container_source("poster")])
    logfile = platform.layout.root / "logs" / "containersources" / NAMESPACE / "poster.log"

    def answered() -> dict[str, Any] | None:
        lines = logfile.read_text().splitlines() if logfile.exists() else []
        return json.loads(lines[0]) if lines else None

    answer = await eventually(answered, "the program's post to the broker", timeout=30)
    assert answer["status"] == 202, answer
    delivered = await sink.wait_for(before + 1, timeout=30)
    assert delivered[-1].ce["source"] == "/poster"

    source = await platform.control.get("ContainerSource", NAMESPACE, "poster")
    account = source["status"]["auth"]["serviceAccountName"]
    assert account == "poster-sinkbinding-oidc-sources.knative.dev-sinkbinding"
    assert source["status"]["sinkAudience"] == BROKER_AUDIENCE
    token_file = Path(answer["token_file"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    claims = jwt.decode(token_file.read_text(), options={"verify_signature": False})
    assert claims["sub"] == f"system:serviceaccount:{NAMESPACE}:{account}"
    assert claims["aud"] == BROKER_AUDIENCE


async def test_without_a_token_the_broker_refuses_the_post(platform: LocalPlatform) -> None:
    async with httpx.AsyncClient() as client:
        anonymous = await client.post(
            f"http://127.0.0.1:{platform.data_port}/{NAMESPACE}/default",
            headers={
                "ce-specversion": "1.0",
                "ce-id": "anonymous",
                "ce-source": "/x",
                "ce-type": "t",
                "content-type": "application/json",
            },
            content=b"{}",
        )
    assert anonymous.status_code == 401


async def test_an_eventpolicy_admits_only_the_senders_it_names(platform: LocalPlatform) -> None:
    issuer = platform.eventing.deliverer.issuer
    assert issuer is not None
    allowed = identity.ping_source(NAMESPACE, "tick")
    refused = identity.trigger(NAMESPACE, "to-sink")
    await platform.control.apply(
        [
            {
                "apiVersion": "eventing.knative.dev/v1alpha1",
                "kind": "EventPolicy",
                "metadata": {"name": "only-tick", "namespace": NAMESPACE},
                "spec": {
                    "to": [{"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                                    "name": "default"}}],
                    "from": [{"ref": {"apiVersion": "sources.knative.dev/v1",
                                      "kind": "PingSource", "name": "tick"}}],
                },
            }
        ]
    )  # fmt: skip

    async def post(sender: identity.Identity, event_id: str) -> httpx.Response:
        token = issuer.token(sender.subject, BROKER_AUDIENCE).token
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"http://127.0.0.1:{platform.data_port}/{NAMESPACE}/default",
                headers={
                    "authorization": f"Bearer {token}",
                    "ce-specversion": "1.0",
                    "ce-id": event_id,
                    "ce-source": "/policy",
                    "ce-type": "t",
                    "content-type": "application/json",
                },
                content=b"{}",
            )

    async def enforced() -> httpx.Response | None:
        answer = await post(refused, "refused")
        return answer if answer.status_code == 403 else None

    forbidden = await eventually(enforced, "the EventPolicy to be enforced", timeout=15)
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    assert refused.subject in forbidden.json()["detail"]
    assert (await post(allowed, "allowed")).status_code == 202
    found = await platform.control.get("EventPolicy", NAMESPACE, "only-tick")
    assert found["status"]["from"] == [allowed.subject]
    assert {c["type"]: c["status"] for c in found["status"]["conditions"]}["Ready"] == "True"

    await platform.control.delete("EventPolicy", NAMESPACE, "only-tick")

    async def lifted() -> bool:
        return (await post(refused, "after")).status_code == 202

    await eventually(lifted, "the broker to admit every sender again", timeout=15)
