"""The local Argo CD against a real control plane and real git repositories."""

from __future__ import annotations

import asyncio
import subprocess
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulut.controlplane import ControlPlane
from bulut.errors import NotFoundError
from bulut.gitops.application import Application
from bulut.gitops.controller import GitOpsController
from bulut.gitops.health import HealthCheck
from bulut.gitops.plan import Health, SyncStatus
from bulut.settings import Settings

pytestmark = pytest.mark.integration

HEALTH = Path(__file__).resolve().parents[2] / "gitops" / "argocd" / "health-check.lua"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text))


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def config_map(name: str, value: str, wave: int | None = None) -> str:
    annotations = (
        f'\n  annotations:\n    argocd.argoproj.io/sync-wave: "{wave}"' if wave is not None else ""
    )
    metadata = f"metadata:\n  name: {name}{annotations}\n"
    return f'apiVersion: v1\nkind: ConfigMap\n{metadata}data:\n  value: "{value}"\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    write(
        origin,
        "deploy/kustomization.yaml",
        """\
        namespace: shop
        resources: [settings.yaml, broker.yaml]
    """,
    )
    write(origin, "deploy/settings.yaml", config_map("settings", "1"))
    write(
        origin,
        "deploy/broker.yaml",
        """\
        apiVersion: eventing.knative.dev/v1
        kind: Broker
        metadata:
          name: default
    """,
    )
    commit(origin, "first")
    return origin


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    control = ControlPlane(Settings(state_dir=tmp_path / "state"), check_images=False)
    await control.start()
    try:
        yield control
    finally:
        await control.aclose()


@pytest.fixture
def controller(plane: ControlPlane, tmp_path: Path) -> GitOpsController:
    return GitOpsController(tmp_path / "gitops", plane, health=HealthCheck.from_file(HEALTH))


async def value_of(plane: ControlPlane, name: str) -> str:
    found: dict[str, Any] = await plane.get("ConfigMap", "shop", name)
    return str(found["data"]["value"])


async def test_a_sync_applies_the_path_and_reports_synced_and_healthy(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    record = await controller.sync("shop")
    assert record.succeeded, record.detail
    assert record.message == "first"
    assert await value_of(plane, "settings") == "1"
    status = await controller.status("shop")
    assert status.sync is SyncStatus.SYNCED
    assert status.health is Health.HEALTHY
    assert {str(o.ref) for o in status.objects} == {
        "Broker.eventing.knative.dev shop/default",
        "ConfigMap shop/settings",
    }


async def test_a_push_is_synced_by_polling_and_a_hand_edit_is_reverted(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    controller.add(
        Application(name="shop", repo=str(repo), path="deploy", revision="main", interval=0.1)
    )
    runner = asyncio.create_task(controller.run())
    try:
        first = await controller.wait_for_sync("shop", after=0)
        assert first.succeeded, first.detail
        write(repo, "deploy/settings.yaml", config_map("settings", "2"))
        commit(repo, "second")
        second = await asyncio.wait_for(controller.wait_for_sync("shop", after=1), 30)
        assert (second.message, second.trigger) == ("second", "poll")
        assert await value_of(plane, "settings") == "2"

        await plane.patch("ConfigMap", "shop", "settings", {"data": {"value": "by hand"}})
        healed = await asyncio.wait_for(controller.wait_for_sync("shop", after=2), 30)
        assert healed.trigger == "self-heal"
        assert await value_of(plane, "settings") == "2"
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_bad_commit_fails_and_changes_nothing_then_the_next_good_one_syncs(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    assert (await controller.sync("shop")).succeeded
    write(repo, "deploy/settings.yaml", config_map("settings", "3"))
    write(repo, "deploy/kustomization.yaml", "resources: [settings.yaml, missing.yaml]\n")
    commit(repo, "broken kustomization")
    failed = await controller.sync("shop")
    assert failed.phase == "Failed"
    assert "missing.yaml" in failed.detail
    assert await value_of(plane, "settings") == "1"

    write(repo, "deploy/kustomization.yaml", "namespace: shop\nresources: [settings.yaml]\n")
    write(repo, "deploy/settings.yaml", config_map("settings", "4"))
    write(
        repo,
        "deploy/bad.yaml",
        """\
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata: {name: Not_A_Name}
        spec: {template: {spec: {containers: [{image: x}]}}}
    """,
    )
    write(
        repo, "deploy/kustomization.yaml", "namespace: shop\nresources: [settings.yaml, bad.yaml]\n"
    )
    commit(repo, "invalid service")
    invalid = await controller.sync("shop")
    assert invalid.phase == "Failed"
    assert await value_of(plane, "settings") == "1"

    write(repo, "deploy/kustomization.yaml", "namespace: shop\nresources: [settings.yaml]\n")
    commit(repo, "fixed")
    fixed = await controller.sync("shop")
    assert fixed.succeeded, fixed.detail
    assert await value_of(plane, "settings") == "4"


async def test_prune_removes_only_objects_the_app_manages(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    assert (await controller.sync("shop")).succeeded
    await plane.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "by-hand", "namespace": "shop"},
            }
        ]
    )
    write(repo, "deploy/kustomization.yaml", "namespace: shop\nresources: [settings.yaml]\n")
    commit(repo, "drop the broker")
    record = await controller.sync("shop")
    assert record.pruned == ["Broker.eventing.knative.dev shop/default"]
    with pytest.raises(NotFoundError):
        await plane.get("Broker", "shop", "default")
    assert (await plane.get("ConfigMap", "shop", "by-hand"))["metadata"]["name"] == "by-hand"


async def test_waves_apply_in_order(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    write(
        repo,
        "deploy/kustomization.yaml",
        """\
        namespace: shop
        resources: [early.yaml, late.yaml]
    """,
    )
    write(repo, "deploy/early.yaml", config_map("early", "1", wave=-1))
    write(repo, "deploy/late.yaml", config_map("late", "1", wave=2))
    commit(repo, "waves")
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    record = await controller.sync("shop")
    assert record.applied == ["ConfigMap shop/early", "ConfigMap shop/late"]
    diff = await controller.diff("shop")
    assert diff == []


async def test_diff_shows_what_a_sync_would_change(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    assert (await controller.sync("shop")).succeeded
    await plane.patch("ConfigMap", "shop", "settings", {"data": {"value": "by hand"}})
    [(ref, text)] = await controller.diff("shop")
    assert str(ref) == "ConfigMap shop/settings"
    assert "-  value: by hand" in text
    assert "+  value: '1'" in text


async def test_a_sync_stores_the_clusters_knative_gates_first_as_bulut_up_does(
    controller: GitOpsController, plane: ControlPlane, repo: Path
) -> None:
    """A Service that needs a gate the repository's KnativeServing CR turns on is admitted:
    the sync stores the CR's config-features before its dry run (the same function as
    `bulut up -k`), and leaves it out of the application's objects."""
    write(
        repo,
        "gitops/platform/openshift-serverless/kustomization.yaml",
        "resources: [knativeserving.yaml]\n",
    )
    write(
        repo,
        "gitops/platform/openshift-serverless/knativeserving.yaml",
        """\
        apiVersion: operator.knative.dev/v1beta1
        kind: KnativeServing
        metadata: {name: knative-serving, namespace: knative-serving}
        spec:
          config:
            features:
              kubernetes.podspec-nodeselector: enabled
    """,
    )
    write(
        repo,
        "deploy/pinned.yaml",
        """\
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata: {name: pinned}
        spec:
          template:
            spec:
              nodeSelector: {disktype: ssd}
              containers: [{image: registry.example.com/pinned}]
    """,
    )
    write(
        repo,
        "deploy/kustomization.yaml",
        "namespace: shop\nresources: [settings.yaml, broker.yaml, pinned.yaml]\n",
    )
    commit(repo, "a pinned service under the cluster's gates")
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    record = await controller.sync("shop")
    assert record.succeeded, record.detail
    features = await plane.get("ConfigMap", "knative-serving", "config-features")
    assert features["data"]["kubernetes.podspec-nodeselector"] == "enabled"
    pinned = await plane.get("Service", "shop", "pinned")
    assert pinned["spec"]["template"]["spec"]["nodeSelector"] == {"disktype": "ssd"}
    status = await controller.status("shop")
    assert "ConfigMap knative-serving/config-features" not in {str(o.ref) for o in status.objects}


async def test_reading_the_status_while_the_first_sync_clones_breaks_neither(
    controller: GitOpsController, repo: Path
) -> None:
    # `bulut gitops add` answers with the application's status while its loop's first sync
    # clones the repository: both used to clone into the same mirror, and a sync then failed
    # with "not a git repository".
    controller.add(Application(name="shop", repo=str(repo), path="deploy", revision="main"))
    syncing = asyncio.ensure_future(controller.sync("shop"))
    statuses = await asyncio.gather(*(controller.status("shop") for _ in range(4)))
    record = await syncing
    assert record.succeeded, record.detail
    assert all(status.revision is not None for status in statuses)
    assert (await controller.sync("shop")).succeeded
