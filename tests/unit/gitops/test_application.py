"""`bulut up --sync REPO#REVISION:PATH` names and configures the application it adds."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidInputError
from bulut.gitops.application import DEFAULT_INTERVAL, Application


def test_a_spec_names_the_application_after_its_path_s_last_folder() -> None:
    app = Application.from_spec("/srv/shop.git#main:gitops/overlays/dev")
    assert (app.name, app.repo, app.revision, app.path) == (
        "dev",
        "/srv/shop.git",
        "main",
        "gitops/overlays/dev",
    )
    assert app.interval == DEFAULT_INTERVAL


def test_a_bare_repository_spec_syncs_head_at_the_root() -> None:
    app = Application.from_spec("https://example.com/shop.git")
    assert (app.name, app.revision, app.path) == ("local", "HEAD", ".")


def test_the_poll_interval_is_the_one_given() -> None:
    assert Application.from_spec("/srv/shop.git#main:deploy", interval=3600).interval == 3600


def test_a_polling_interval_that_is_not_positive_is_refused_by_field() -> None:
    with pytest.raises(InvalidInputError) as refused:
        Application.from_spec("/srv/shop.git#main:deploy", interval=0)
    assert refused.value.field == "interval"
