"""`bulut dr drill --cluster` refuses at once, naming what is missing, instead of letting
kubectl fall back to localhost:8080 (Bulut's own data port) and writing a FAILED report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BULUT = str(Path(sys.executable).parent / "bulut")
REPO = Path(__file__).resolve().parents[3]
SCENARIO = REPO / "disaster-recovery" / "drills" / "cluster.yaml"


def drill(tmp_path: Path, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        [BULUT, "dr", "drill", str(SCENARIO), "--cluster", "--report-dir", str(tmp_path / "r")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("written", [False, True], ids=["no-kubeconfig", "local-context"])
def test_the_cluster_drill_refuses_without_a_cluster_and_writes_no_report(
    tmp_path: Path, written: bool
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    if written:  # what `bulut up` leaves: the local platform as the current context
        env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        subprocess.run([BULUT, "kubeconfig"], env=env, capture_output=True, check=True)

    result = drill(tmp_path, kubeconfig)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(kubeconfig) in lines[0]
    assert ("no Velero" if written else "needs a kubeconfig") in lines[0]
    assert not (tmp_path / "r").exists()
