"""No secret value leaks: a full run of the sample app, then every byte it produced is scanned.

The run: `bulut up` (LocalPlatform) with the dev overlay, one order that completes, the
revisions as `bulut get revisions -o yaml` reads them, a /metrics scrape, the dashboard state,
a problem response from the broker, the eventing admin API, and a few failures on purpose
(their exception messages). Captured: the platform's stdout/stderr and log records, every
file under the state directory (instance logs, bao.log, the broker log, databases), every
HTTP body and every exception message and repr, and a backup of the state directory taken
while the platform runs (what `bulut dr backup` writes).

Secrets: the payments provider key (from Vault), the dev server's root token and unseal key,
orders' own Vault token, the customer's e-mail address and the card token (which orders may
store and send only as Transit ciphertext; payments decrypts the card token only to charge
it). Each may appear only where it must live; a leak fails with its location.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.dr.locations import DirectoryLocation
from bulut.dr.snapshot import take_backup
from bulut.errors import BulutError
from bulut.local import LocalPlatform
from bulut.secrets.vault import Vault
from tests.support.platform import NAMESPACE, decided_order, sample_app

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("function-builds")]

EMAIL = f"leak-scan-{secrets.token_hex(4)}@example.com"
CARD = f"tok_leak_{secrets.token_hex(6)}"


@dataclass
class Evidence:
    """Everything the run produced, each piece labelled with where it came from."""

    pieces: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, where: str, content: str | bytes) -> None:
        self.pieces.append((where, content.encode() if isinstance(content, str) else content))

    def add_response(self, response: httpx.Response) -> None:
        where = f"HTTP {response.request.method} {response.request.url} ({response.status_code})"
        self.add(where + " headers", str(dict(response.headers)))
        self.add(where + " body", response.content)

    def add_tree(self, root: Path, label: str) -> list[Path]:
        files = sorted(path for path in root.rglob("*") if path.is_file())
        for path in files:
            self.add(f"{label}/{path.relative_to(root)}", path.read_bytes())
        return files

    def leaks(self, where_allowed: dict[str, tuple[str, set[str]]]) -> list[str]:
        """Where each secret (raw, base64 or URL-encoded) appears outside its allowed places.

        ``where_allowed`` maps a name to (value, the places where it must live). The context
        shown around a leak has every secret replaced by its name: the report leaks nothing.
        """
        needles = [
            (name, form, needle)
            for name, (value, _) in where_allowed.items()
            for form, needle in encodings(value).items()
        ]
        found = []
        for where, content in self.pieces:
            redacted = content
            for name, _, needle in needles:
                redacted = redacted.replace(needle, f"<{name}>".encode())
            for name, form, needle in needles:
                at = content.find(needle)
                if at < 0 or where in where_allowed[name][1]:
                    continue
                shown = redacted.find(f"<{name}>".encode())
                context = redacted[max(0, shown - 60) : shown + len(name) + 62]
                found.append(f"{name} ({form}) in {where} at byte {at}: {context!r}")
        return found


def encodings(value: str) -> dict[str, bytes]:
    """The forms a value takes in logs and bodies (each distinct form once)."""
    forms: dict[str, bytes] = {}
    for form, encoded in (
        ("raw", value.encode()),
        ("base64", base64.b64encode(value.encode())),
        ("url-encoded", urllib.parse.quote(value, safe="").encode()),
    ):
        if encoded not in forms.values():
            forms[form] = encoded
    return forms


async def place_an_order(data: httpx.AsyncClient, evidence: Evidence) -> dict[str, Any]:
    host = {"host": f"orders.{NAMESPACE}.localhost"}
    created = await data.post(
        "/orders",
        headers=host,
        json={
            "customer": "ada",
            "email": EMAIL,
            "card_token": CARD,
            "items": [{"sku": "WIDGET-1", "quantity": 1}],
        },
    )
    evidence.add_response(created)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    order = await decided_order(data, order_id)
    evidence.add_response(await data.get(f"/orders/{order_id}", headers=host))
    assert order["status"] == "paid", order
    return order


async def fetch_what_an_operator_sees(
    control: httpx.AsyncClient, data: httpx.AsyncClient, order: dict[str, Any], evidence: Evidence
) -> None:
    for path in (
        f"/apis/serving.knative.dev/v1/namespaces/{NAMESPACE}/revisions",
        f"/apis/serving.knative.dev/v1/namespaces/{NAMESPACE}/services",
        f"/api/v1/namespaces/{NAMESPACE}/configmaps",
        "/metrics",
        "/dashboard/state.json",
        "/eventing/stats",
        "/eventing/dead-letters",
        *(f"/eventing/events/{step['id']}" for step in order["history"]),
    ):
        response = await control.get(path)
        evidence.add_response(response)
        assert response.status_code < 500, (path, response.text)
    revisions = await control.get(f"/apis/serving.knative.dev/v1/namespaces/{NAMESPACE}/revisions")
    assert len(revisions.json()["items"]) == 5
    invalid = await data.post(
        f"/{NAMESPACE}/default",
        headers={"content-type": "application/json", "ce-specversion": "1.0", "ce-id": "x"},
        content=b'{"email": "not an event"}',
    )
    evidence.add_response(invalid)
    assert invalid.status_code == 400, invalid.text
    assert invalid.headers["content-type"].startswith("application/problem+json")


def provoke_vault_errors(platform: LocalPlatform, orders_token: str, evidence: Evidence) -> None:
    """Failures on purpose: their messages name paths and addresses, never values."""
    assert platform._dev_vault is not None
    attempts: list[tuple[str, Vault, str]] = [
        ("orders reads payments' key", platform.vault.with_token(orders_token), "provider"),
        ("a missing path", platform.vault, "missing"),
        ("a closed port", Vault("http://127.0.0.1:9", platform._dev_vault.token), "provider"),
    ]
    for what, client, secret in attempts:
        try:
            client.kv_get(f"{NAMESPACE}/payments/{secret}")
        except BulutError as error:
            evidence.add(f"exception message ({what})", f"{type(error).__name__}: {error}")
        else:
            pytest.fail(f"{what}: no error")
    evidence.add("repr(settings)", repr(platform.settings))
    evidence.add("repr(vault)", repr(platform.vault))
    evidence.add("repr(dev server)", repr(platform._dev_vault))
    evidence.add("repr(renderers)", repr(platform.pods.renderers))


def only(files: set[str], revision: str, name: str) -> set[str]:
    """The rendered secret files of one service's revisions with that file name."""
    return {path for path in files if revision in path and path.endswith(name)}


async def test_no_secret_value_appears_in_anything_the_platform_produced(
    tmp_path: Path,
    repo_root: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    async with sample_app(tmp_path, repo_root) as platform:
        async with (
            httpx.AsyncClient(base_url=platform.settings.data_url, timeout=30) as data,
            httpx.AsyncClient(base_url=platform.settings.control_url, timeout=30) as control,
        ):
            order = await place_an_order(data, evidence)
            assert order["email"] != EMAIL and order["email"].endswith("@example.com")
            await fetch_what_an_operator_sees(control, data, order, evidence)
        orders = next(
            r for (ns, _), r in platform.pods.renderers.items() if r.plan.role == "orders"
        )
        orders_token = orders._token
        provoke_vault_errors(platform, orders_token, evidence)
        assert platform._dev_vault is not None
        dev_vault = platform._dev_vault
        api_key = platform.vault.kv_get(f"{NAMESPACE}/payments/provider")["api_key"]

        state = platform.layout.root
        backup = tmp_path / "backup"
        await asyncio.to_thread(take_backup, state, DirectoryLocation(backup))
    # stopped: every process the platform ran has exited and flushed what it wrote
    out, err = capfd.readouterr()
    evidence.add("platform stdout", out)
    evidence.add("platform stderr", err)
    evidence.add("platform log records", caplog.text)
    files = evidence.add_tree(state, "state")
    backed_up = evidence.add_tree(backup, "backup")
    volumes = state / "volumes"
    secret_files = {
        f"state/{path.relative_to(state)}" for path in files if "vault-secrets" in path.parts
    }
    instance_logs = [path for path in files if path.suffix == ".log"]
    assert dev_vault.log_path in instance_logs and len(instance_logs) > 1, instance_logs
    assert len(evidence.pieces) > 50, "the run produced suspiciously little to scan"

    # without a backup key, Vault's keys go into the backup as they are (0600 files in 0700
    # folders; docs/security.md): sealed with a backup key (BULUT_BACKUP_KEY_FILE) otherwise
    vault_keys = {f"backup/{path.relative_to(backup)}" for path in backed_up}
    vault_keys = {path for path in vault_keys if path.endswith("/vault/init.json")}
    leaks = evidence.leaks(
        {
            "customer e-mail": (EMAIL, set()),
            "card token": (CARD, set()),
            "payments api_key": (api_key, only(secret_files, "/payments-", "/provider")),
            "orders' Vault token": (orders_token, only(secret_files, "/orders-", "/token")),
            "root token": (
                dev_vault.token,
                {"state/vault/init.json", "state/vault/token", *vault_keys},
            ),
            "unseal key": (dev_vault._unseal_key, {"state/vault/init.json", *vault_keys}),
        }
    )
    if leaks:
        pytest.fail(f"{len(leaks)} secret leak(s):\n" + "\n".join(leaks), pytrace=False)

    databases = [path for path in volumes.rglob("orders.db*") if path.is_file()]
    assert databases, f"no orders database under {volumes}"
    stored = b"".join(path.read_bytes() for path in databases)
    assert b"vault:v1:" in stored, "orders did not store a Transit ciphertext"
    assert EMAIL.encode() not in stored
    # not vacuous: the order's events are in the broker's log and in the backup, encrypted
    for root in (state, backup):
        log = b"".join(
            path.read_bytes()
            for path in [*files, *backed_up]
            if path.name.startswith("broker.db") and path.is_relative_to(root)
        )
        assert order["id"].encode() in log and b"vault:v1:" in log, f"no encrypted order in {root}"
