"""`bulut func deploy`: the documents kn func deploy would apply, and the rollout after.

Rendering is :func:`bulut.manifests.render.render_function` (what ``bulut render`` writes for
the cluster), plus two template annotations that only the local runtime reads: the function
folder (``bulut.dev/function-path``) and the digest of its code
(``bulut.dev/source-digest``). A changed digest changes the template, so Knative semantics make
a new Revision; an unchanged one re-applies without one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bulut.errors import InstanceError, InvalidInputError, NotFoundError
from bulut.manifests.render import function_image, read_func_yaml, render_function

from .source import source_digest

FUNCTION_PATH = "bulut.dev/function-path"
SOURCE_DIGEST = "bulut.dev/source-digest"
LOCAL_REGISTRY = (
    "dev.local"  # Knative skips tag resolution for it (registries-skipping-tag-resolving)
)

Progress = Callable[[str], None]


class Resources(Protocol):
    """What a deploy needs of the control plane (in-process or over HTTP)."""

    async def apply(
        self,
        documents: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Any: ...

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]: ...

    async def patch(
        self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> Any: ...


def function_documents(folder: Path, *, digest: str) -> list[dict[str, Any]]:
    """The Service and Triggers to apply for ``folder``'s function, as the cluster gets them."""
    func_yaml = read_func_yaml(folder / "func.yaml")
    try:
        image = function_image(func_yaml)
    except InvalidInputError:
        image = f"{LOCAL_REGISTRY}/{func_yaml.get('name') or folder.name}"
    documents = render_function(func_yaml, image=image)
    template = documents[0]["spec"]["template"]["metadata"]
    template["annotations"] = {
        **template.get("annotations", {}),
        FUNCTION_PATH: str(folder.resolve()),
        SOURCE_DIGEST: digest,
    }
    return documents


@dataclass(frozen=True)
class Rollout:
    """How a deploy ended: the Revision serving, and its URL."""

    service: str
    namespace: str
    revision: str
    url: str
    seconds: float
    created: bool  # False when the code and spec were unchanged (no new Revision)


def condition(resource: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """One status condition (an empty mapping when absent)."""
    for item in (resource.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            return dict(item)
    return {}


def rollout_state(service: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(done, failure): done when the newest Revision serves; failure names why it cannot.

    Knative: ``observedGeneration`` reached, ``latestReadyRevisionName`` equal to
    ``latestCreatedRevisionName`` and Ready True. A ``RevisionFailed`` (or any Ready False
    whose newest Revision is not the ready one) is a failed rollout: the previous Revision
    keeps serving.
    """
    status = service.get("status") or {}
    generation = (service.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration", 0) < generation:
        return False, None
    created = status.get("latestCreatedRevisionName")
    ready_name = status.get("latestReadyRevisionName")
    ready = condition(service, "Ready")
    if created and created == ready_name and ready.get("status") == "True":
        return True, None
    config = condition(service, "ConfigurationsReady")
    for failed in (config, ready):
        if failed.get("status") == "False":
            reason = failed.get("reason") or "NotReady"
            return False, f"{reason}: {failed.get('message') or 'revision failed'}"
    return False, None


async def deploy(
    resources: Resources,
    folder: Path,
    namespace: str,
    *,
    progress: Progress | None = None,
    timeout: float = 300.0,
) -> Rollout:
    """Render the function in ``folder``, apply it, and wait until its newest Revision serves."""
    report = progress or (lambda _line: None)
    started = time.monotonic()
    documents = function_documents(folder, digest=source_digest(folder))
    name = str(documents[0]["metadata"]["name"])
    before = await current_revision(resources, namespace, name)
    await resources.apply(documents, namespace=namespace)
    report(f"applied Service {namespace}/{name} and {len(documents) - 1} Trigger(s)")
    return await wait_for_rollout(
        resources,
        namespace,
        name,
        before=before,
        started=started,
        progress=report,
        timeout=timeout,
    )


async def wait_for_rollout(
    resources: Resources,
    namespace: str,
    name: str,
    *,
    before: str | None,
    started: float,
    progress: Progress | None = None,
    timeout: float = 300.0,
) -> Rollout:
    """Wait until the Service's newest Revision serves; InstanceError when it failed.

    ``before`` is the newest Revision before the change (None for a new Service): a failed
    Revision other than it fails the rollout, and the one that was serving keeps serving.
    """
    report = progress or (lambda _line: None)
    delay = 0.005
    deadline = started + timeout
    seen: str | None = None
    while True:
        service = await resources.get("Service", namespace, name)
        done, failure = rollout_state(service)
        status = service.get("status") or {}
        newest = status.get("latestCreatedRevisionName")
        if newest and newest != seen:
            seen = newest
            report(f"revision {newest} {'created' if newest != before else 'unchanged'}")
        if done:
            return Rollout(
                service=name,
                namespace=namespace,
                revision=str(status.get("latestReadyRevisionName")),
                url=str(status.get("url", "")),
                seconds=time.monotonic() - started,
                created=newest != before,
            )
        if failure is not None and newest != before:
            serving = status.get("latestReadyRevisionName") or "none"
            raise InstanceError(
                f"{namespace}/{name}: revision {newest} failed ({failure}); {serving} keeps serving"
            )
        if time.monotonic() > deadline:
            raise InstanceError(
                f"{namespace}/{name}: revision {newest} not Ready after {timeout:.0f} s"
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


async def current_revision(resources: Resources, namespace: str, name: str) -> str | None:
    """The Service's newest Revision, None when there is no such Service."""
    try:
        service = await resources.get("Service", namespace, name)
    except NotFoundError:
        return None
    return (service.get("status") or {}).get("latestCreatedRevisionName")
