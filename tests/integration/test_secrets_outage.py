"""A revision whose secrets cannot be rendered is not Ready, says why, and recovers by itself.

One tiny Service (the echo fixture function) with Vault Agent injection annotations on a
real LocalPlatform and a real OpenBao: the secret is missing, then written; another
function's path is denied; a changed value reaches the rendered file; and an unreachable
Vault is a readiness reason until a server answers on that address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.errors import NotFoundError
from bulut.local import LocalPlatform
from bulut.secrets.devserver import DevServer
from bulut.serving import dataplane, podspec
from bulut.settings import Settings
from tests.support.clock import RecordingSleep
from tests.support.network import free_port
from tests.support.platform import condition, is_ready, local_settings
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("function-builds")]

NAMESPACE = "outage"
V = "vault.hashicorp.com/"
ECHO_POLICY = f'path "secret/data/{NAMESPACE}/echo/*" {{ capabilities = ["read"] }}\n'
NOSY_POLICY = f'path "secret/data/{NAMESPACE}/nosy/*" {{ capabilities = ["read"] }}\n'


def service(name: str, *, role: str, reads: str, echo_dir: Path) -> dict[str, Any]:
    """A ksvc running the echo fixture, with its key rendered to /vault/secrets/key."""
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "bulut.dev/function-path": str(echo_dir),
                        V + "agent-inject": "true",
                        V + "role": role,
                        V + "agent-inject-secret-key": f"secret/data/{NAMESPACE}/{reads}/key",
                        V + "agent-inject-template-key": (
                            f'{{{{- with secret "secret/data/{NAMESPACE}/{reads}/key" -}}}}'
                            "{{ .Data.data.value }}{{- end -}}"
                        ),
                    }
                },
                "spec": {
                    "containers": [
                        {
                            "image": "registry.example.com/tests/echo",
                            "env": [{"name": "KEY_FILE", "value": "/vault/secrets/key"}],
                        }
                    ]
                },
            }
        },
    }


def settings_for(tmp_path: Path, repo_root: Path, **overrides: Any) -> Settings:
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "echo.hcl").write_text(ECHO_POLICY)
    (policies / "nosy.hcl").write_text(NOSY_POLICY)
    values: dict[str, Any] = {
        "builds_dir": repo_root / ".bulut" / "test-builds",
        "functions_dir": repo_root / "tests" / "fixtures" / "functions",
        "vault_policies_dir": policies,
        **overrides,
    }
    return local_settings(tmp_path, **values)


async def revision_of(platform: LocalPlatform, service_name: str) -> dict[str, Any]:
    try:
        return await platform.control.get("Revision", NAMESPACE, f"{service_name}-00001")
    except NotFoundError:
        return {}


def revision_when(
    platform: LocalPlatform, name: str, accept: Callable[[dict[str, Any]], bool]
) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    """A check for :func:`eventually`: the revision of ``name`` once ``accept`` holds."""

    async def check() -> dict[str, Any] | None:
        revision = await revision_of(platform, name)
        return revision if accept(revision) else None

    return check


def waits_for_a_secret(revision: dict[str, Any]) -> bool:
    healthy = condition(revision, "ContainerHealthy")
    return healthy.get("status") == "False" and bool(healthy.get("message"))


@pytest.fixture
def quick_rerender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podspec, "RERENDER_SECONDS", 0.5)


@pytest.fixture
async def platform(
    tmp_path: Path, repo_root: Path, quick_rerender: None
) -> AsyncIterator[LocalPlatform]:
    local = LocalPlatform(settings_for(tmp_path, repo_root))
    await local.start()
    try:
        yield local
    finally:
        await local.aclose()


async def role_tokens_created(platform: LocalPlatform) -> int:
    """How many tokens the dev Vault holds (each render attempt creates one for its role)."""
    assert platform._dev_vault is not None
    async with httpx.AsyncClient(base_url=platform.vault.addr) as client:
        response = await client.request(
            "LIST",
            "/v1/auth/token/accessors",
            headers={"X-Vault-Token": platform._dev_vault.token},
        )
    response.raise_for_status()
    return len(response.json()["data"]["keys"])


async def test_a_missing_secret_holds_the_revision_until_it_is_written(
    platform: LocalPlatform, fixture_functions: Path
) -> None:
    await platform.control.apply(
        [service("echo", role="echo", reads="echo", echo_dir=fixture_functions / "echo")]
    )
    waiting = await eventually(
        revision_when(platform, "echo", waits_for_a_secret), "a not-healthy revision", timeout=30
    )
    healthy = condition(waiting, "ContainerHealthy")
    assert not is_ready(waiting)
    assert f"secret/data/{NAMESPACE}/echo/key" in healthy["message"], healthy

    platform.vault.kv_put(f"{NAMESPACE}/echo/key", {"value": "first-value"})
    # within the retry interval, plus the zygote's start (the function environment is cached)
    await eventually(
        revision_when(platform, "echo", is_ready),
        "Ready after the secret was written",
        timeout=dataplane.SECRET_RETRY_SECONDS + 60,
    )


async def test_a_missing_secret_is_awaited_like_vault_agent_does_at_the_retry_interval(
    platform: LocalPlatform, fixture_functions: Path
) -> None:
    waits = platform.serving.sleep = RecordingSleep()  # the retries' waits, taken at once
    before = await role_tokens_created(platform)
    await platform.control.apply(
        [service("echo", role="echo", reads="echo", echo_dir=fixture_functions / "echo")]
    )
    await eventually(
        revision_when(platform, "echo", waits_for_a_secret), "a not-healthy revision", timeout=30
    )
    await eventually(lambda: len(waits.waits) >= 3, "three retries")
    logins = await role_tokens_created(platform) - before
    retries = len(waits.waits)

    # Each retry waits the retry interval first, as Vault Agent's template retry does, and
    # logs in at most once: never a hot loop.
    assert set(waits.waits) == {dataplane.SECRET_RETRY_SECONDS}
    assert logins <= retries + 1, f"{logins} Vault logins for {retries} retries"
    healthy = condition(await revision_of(platform, "echo"), "ContainerHealthy")
    assert healthy["reason"] == "SecretUnavailable", healthy


async def test_a_function_cannot_read_another_functions_path(
    platform: LocalPlatform, fixture_functions: Path
) -> None:
    platform.vault.kv_put(f"{NAMESPACE}/echo/key", {"value": "echo-only"})
    await platform.control.apply(
        [service("nosy", role="nosy", reads="echo", echo_dir=fixture_functions / "echo")]
    )
    denied = await eventually(
        revision_when(platform, "nosy", waits_for_a_secret), "a denied revision", timeout=30
    )
    healthy = condition(denied, "ContainerHealthy")
    assert healthy["reason"] == "SecretUnavailable", healthy
    assert "permission denied" in healthy["message"], healthy
    assert f"secret/data/{NAMESPACE}/echo/key" in healthy["message"], healthy
    assert "echo-only" not in str(denied)
    assert not is_ready(denied)


async def test_a_changed_secret_is_re_rendered_into_the_running_revisions_file(
    platform: LocalPlatform, fixture_functions: Path
) -> None:
    platform.vault.kv_put(f"{NAMESPACE}/echo/key", {"value": "version-one"})
    await platform.control.apply(
        [service("echo", role="echo", reads="echo", echo_dir=fixture_functions / "echo")]
    )
    await eventually(revision_when(platform, "echo", is_ready), "Ready", timeout=30)
    runtime = platform.serving.revisions[(NAMESPACE, "echo-00001")]
    key_file = Path(runtime.spec.env["KEY_FILE"])
    assert key_file.is_relative_to(platform.layout.volumes)
    assert key_file.read_text() == "version-one"

    platform.vault.kv_put(f"{NAMESPACE}/echo/key", {"value": "version-two"})

    await eventually(lambda: key_file.read_text() == "version-two", "the new value in the file")


async def test_an_unreachable_vault_is_the_reason_until_it_answers(
    tmp_path: Path, repo_root: Path, fixture_functions: Path, quick_rerender: None
) -> None:
    port, token = free_port(), "outage-root-token"
    settings = settings_for(
        tmp_path,
        repo_root,
        vault_addr=f"http://127.0.0.1:{port}",
        vault_token=token,
        vault_policies_dir=tmp_path / "no-policies",  # bootstrap would fail first (see report)
    )
    local = LocalPlatform(settings)
    await local.start()
    vault = DevServer(tmp_path / "late-vault", port=port, persistent=False, token=token)
    try:
        await local.control.apply(
            [service("echo", role="echo", reads="echo", echo_dir=fixture_functions / "echo")]
        )
        waiting = await eventually(
            revision_when(local, "echo", waits_for_a_secret), "an unreachable Vault", timeout=30
        )
        healthy = condition(waiting, "ContainerHealthy")
        assert healthy["reason"] == "SecretUnavailable", healthy
        assert f"unreachable at http://127.0.0.1:{port}" in healthy["message"], healthy
        assert token not in str(waiting)
        assert not is_ready(waiting)

        await vault.start()
        local.vault.put_policy("echo", ECHO_POLICY)
        local.vault.kv_put(f"{NAMESPACE}/echo/key", {"value": "back"})
        await eventually(
            revision_when(local, "echo", is_ready),
            "Ready once Vault answers",
            timeout=dataplane.SECRET_RETRY_SECONDS + 60,
        )
    finally:
        await local.aclose()
        await vault.stop()


async def test_a_platform_whose_vault_is_unreachable_starts_and_loads_policies_later(
    tmp_path: Path, repo_root: Path
) -> None:
    """`bulut up` starts without Vault; policies and seed secrets load once it answers."""
    port, token = free_port(), "late-root-token"
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "echo.hcl").write_text(ECHO_POLICY)
    local = LocalPlatform(
        settings_for(
            tmp_path,
            repo_root,
            vault_addr=f"http://127.0.0.1:{port}",
            vault_token=token,
            vault_policies_dir=policies,
        )
    )
    await local.start()
    vault = DevServer(tmp_path / "late-vault", port=port, persistent=False, token=token)
    try:
        assert local.vault_report.policies == []
        await vault.start()
        loaded = await eventually(lambda: local.vault_report.policies, "policies", timeout=20)
        assert "echo" in loaded
    finally:
        await local.aclose()
        await vault.stop()
