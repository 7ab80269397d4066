"""checkov over the rendered GitOps tree, in its own environment (its pins clash with ours).

The environment is built once with uv under ``$XDG_CACHE_HOME/bulut/tools/checkov`` (or
``BULUT_CHECKOV`` names a checkov executable) and reused. checkov runs with
``--skip-download`` (it would call a cloud service otherwise) and gitops/.checkov.yaml.
Knative pod templates are also given to it as Deployments, since it does not read them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bulut.manifests.kustomize import kustomization_roots
from bulut.manifests.loading import kustomize_build
from bulut.manifests.policy import as_deployment

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("checkov")]

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "gitops" / ".checkov.yaml"
FIXTURES = REPO / "tests" / "fixtures" / "manifests"


def tools_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "bulut" / "tools"


def uv() -> str | None:
    beside_python = Path(sys.executable).parent / "uv"
    return str(beside_python) if beside_python.is_file() else shutil.which("uv")


@pytest.fixture(scope="session")
def checkov() -> Path:
    explicit = os.environ.get("BULUT_CHECKOV")
    if explicit:
        return Path(explicit)
    venv = tools_dir() / "checkov"
    executable = venv / "bin" / "checkov"
    if executable.is_file():
        return executable
    uv_binary = uv()
    if uv_binary is None:
        pytest.fail("uv is needed to build checkov's own environment: run `make install`")
    try:
        subprocess.run([uv_binary, "venv", "-q", str(venv)], check=True, timeout=120)
        subprocess.run(
            [
                uv_binary,
                "pip",
                "install",
                "-q",
                "--python",
                str(venv / "bin" / "python"),
                "checkov",
            ],
            check=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.fail(
            f"could not install checkov into {venv} (offline?): {error}; "
            f"point BULUT_CHECKOV at a checkov executable instead"
        )
    return executable


def write_rendered(target: Path) -> int:
    """What gets deployed (overlays, argocd, platform), plus Deployment views of Knative Services.

    Bases are scanned through the overlays: on their own their images are not pinned yet.
    """
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for root in kustomization_roots(REPO / "gitops"):
        if root.relative_to(REPO / "gitops").parts[0] == "bases":
            continue
        documents = [item.document for item in kustomize_build(root)]
        if not documents:
            continue
        name = root.relative_to(REPO / "gitops").as_posix().replace("/", "-")
        (target / f"{name}.yaml").write_text(yaml.safe_dump_all(documents))
        views = [view for d in documents if (view := as_deployment(d)) is not None]
        if views:
            (target / f"{name}-pods.yaml").write_text(yaml.safe_dump_all(views))
        count += len(documents) + len(views)
    return count


def run_checkov(checkov: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checkov), "--config-file", str(CONFIG), "-d", str(directory), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
    )


@pytest.mark.timeout(1200)
def test_checkov_passes_on_every_rendered_manifest(checkov: Path, tmp_path: Path) -> None:
    assert write_rendered(tmp_path) > 100
    result = run_checkov(checkov, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.timeout(1200)
def test_checkov_still_fails_an_insecure_workload(checkov: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "insecure-deployment.yaml", tmp_path)
    result = run_checkov(checkov, tmp_path)
    assert result.returncode == 1
    assert "CKV_K8S_16" in result.stdout  # privileged container


def test_the_skip_list_is_short_and_every_skip_is_explained() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    skips = config["skip-check"]
    assert len(skips) <= 8
    lines = CONFIG.read_text().splitlines()
    for skip in skips:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {skip}")
        assert lines[index - 1].strip().startswith("#"), skip
    assert config["skip-download"] is True
