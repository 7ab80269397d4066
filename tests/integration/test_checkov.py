"""checkov over the rendered GitOps tree, in its own environment (its pins clash with ours).

The environment is built once with uv under ``$XDG_CACHE_HOME/bulut/tools/checkov`` (or
``BULUT_CHECKOV`` names a checkov executable) and reused. checkov runs with
``--skip-download`` (it would call a cloud service otherwise) and gitops/.checkov.yaml.
Knative pod templates are also given to it as Deployments, since it does not read them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
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


INSECURE = "insecure-deployment.yaml"


@dataclass(frozen=True)
class Scan:
    """What one checkov run over the rendered tree and the insecure fixture found."""

    documents: int
    failed: dict[str, set[str]]  # file (as checkov names it) -> ids of the checks it failed
    parsing_errors: int
    returncode: int
    output: str

    def failures_besides(self, name: str) -> dict[str, set[str]]:
        return {file: ids for file, ids in self.failed.items() if file != f"/{name}"}


@pytest.fixture(scope="module")
def scan(checkov: Path, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """One checkov run (its start-up alone is ~10 s) over both sets of files, read per file."""
    directory = tmp_path_factory.mktemp("checkov")
    documents = write_rendered(directory)
    shutil.copy(FIXTURES / INSECURE, directory / INSECURE)
    result = subprocess.run(
        [str(checkov), "--config-file", str(CONFIG), "-d", str(directory), "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
    )
    try:
        parsed = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = result.stdout[-2000:] + result.stderr[-2000:]
        pytest.fail(f"checkov printed no JSON report: {report}")
    reports = parsed if isinstance(parsed, list) else [parsed]
    failed: dict[str, set[str]] = {}
    for report in reports:
        for check in report["results"]["failed_checks"]:
            failed.setdefault(check["file_path"], set()).add(check["check_id"])
    errors = sum(report["summary"]["parsing_errors"] for report in reports)
    return Scan(documents, failed, errors, result.returncode, result.stdout[-4000:])


@pytest.mark.timeout(1200)
def test_checkov_passes_on_every_rendered_manifest(scan: Scan) -> None:
    assert scan.documents > 100
    assert scan.parsing_errors == 0
    assert scan.failures_besides(INSECURE) == {}, scan.output


@pytest.mark.timeout(1200)
def test_checkov_still_fails_an_insecure_workload(scan: Scan) -> None:
    assert scan.returncode == 1
    assert "CKV_K8S_16" in scan.failed[f"/{INSECURE}"]  # privileged container


def test_the_skip_list_is_short_and_every_skip_is_explained() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    skips = config["skip-check"]
    assert len(skips) <= 8
    lines = CONFIG.read_text().splitlines()
    for skip in skips:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {skip}")
        assert lines[index - 1].strip().startswith("#"), skip
    assert config["skip-download"] is True
