"""The ``bulut.dev/prime`` annotation: where the zygote host calls the function's prime()."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.serving.zygote import Workload, prime_modes


@pytest.mark.parametrize(
    ("annotation", "modes"),
    [
        ("true", (True, True)),
        ("zygote", (True, False)),
        (" Zygote ", (True, False)),
        ("false", (False, False)),
        ("FALSE", (False, False)),
    ],
)
def test_the_annotation_says_where_prime_runs(annotation: str, modes: tuple[bool, bool]) -> None:
    assert prime_modes(annotation) == modes


def test_the_zygote_host_is_told_what_the_workload_asks() -> None:
    workload = Workload(python=Path("/env/bin/python"), project=Path("/fn"))

    assert "--no-prime" not in workload.host_args("zygote")
    assert "--no-reprime" not in workload.host_args("zygote")
    zygote_only = Workload(python=Path("/env/bin/python"), project=Path("/fn"), reprime=False)
    assert zygote_only.host_args("zygote")[-1] == "--no-reprime"
    never = Workload(python=Path("/env/bin/python"), project=Path("/fn"), prime=False)
    assert "--no-prime" in never.host_args("zygote")
