"""Label and field selectors."""

from __future__ import annotations

import pytest

from bulut.apis.selectors import field_selector, label_selector
from bulut.apis.status import ApiError


def obj(name: str, **labels: str) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels}}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=back", ["b", "c"]),
        ("tier==back", ["b", "c"]),
        ("tier!=back", ["a", "d"]),
        ("tier in (front, back)", ["a", "b", "c"]),
        ("tier notin (back)", ["a", "d"]),
        ("tier", ["a", "b", "c"]),
        ("!tier", ["d"]),
        ("tier=back,size>2", ["c"]),
        ("size<3", ["b"]),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selectors(selector: str, expected: list[str]) -> None:
    objects = [
        obj("a", tier="front"),
        obj("b", tier="back", size="2"),
        obj("c", tier="back", size="5"),
        obj("d"),
    ]
    match = label_selector(selector)
    assert [o["metadata"]["name"] for o in objects if match(o)] == expected  # type: ignore[index]


def test_field_selectors_on_name_and_namespace() -> None:
    assert field_selector("metadata.name=a")(obj("a"))
    assert not field_selector("metadata.name!=a")(obj("a"))
    assert field_selector("metadata.namespace=ns,metadata.name=b")(obj("b"))


@pytest.mark.parametrize("bad", ["spec.foo=1", "nonsense"])
def test_unsupported_fields_are_a_bad_request(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        field_selector(bad)
    assert caught.value.http_status == 400


def test_an_unparsable_label_selector_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as caught:
        label_selector("a in b)")
    assert caught.value.http_status == 400
