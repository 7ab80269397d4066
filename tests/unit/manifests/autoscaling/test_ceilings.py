"""Scale ceilings (issue #20, item 1): ``initial-scale``/``min-scale`` were accepted up to
2147483647, and ``initial-scale: "100000"`` forked until the process wedged."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidResourceError
from bulut.manifests.autoscaling import AutoscalerConfig, parse_annotations
from bulut.serving.autoscaler import decider_spec

A = "autoscaling.knative.dev/"


@pytest.mark.parametrize("key", ["initial-scale", "min-scale", "max-scale"])
def test_max_scale_limit_bounds_every_scale_annotation(key: str) -> None:
    limited = AutoscalerConfig(max_scale=5, max_scale_limit=10)
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + key: "11"}, limited)
    assert error.value.field == f"metadata.annotations.{A}{key}"
    assert "10" in error.value.message


@pytest.mark.parametrize("key", ["initial-scale", "min-scale", "max-scale"])
def test_the_platform_ceiling_bounds_them_too(key: str) -> None:
    local = AutoscalerConfig(scale_ceiling=100)
    with pytest.raises(InvalidResourceError) as error:
        parse_annotations({A + key: "100000"}, local)
    assert error.value.field == f"metadata.annotations.{A}{key}"
    assert "BULUT_MAX_SCALE" in error.value.message
    assert parse_annotations({A + key: "100"}, local)  # at the ceiling: fine
    assert parse_annotations({A + "max-scale": "0"}, local).max_scale == 0  # unlimited: clamped


def test_the_data_plane_clamps_a_revision_stored_before_the_ceiling() -> None:
    notes = {A + "initial-scale": "100000", A + "min-scale": "2147483647"}
    spec = decider_spec(AutoscalerConfig(), notes, 0).within(100)
    assert (spec.initial_scale, spec.min_scale, spec.max_scale) == (100, 100, 100)
    assert decider_spec(AutoscalerConfig(), {A + "max-scale": "7"}, 0).within(100).max_scale == 7
