"""JSON patch (RFC 6902) and the strategic merge subset."""

from __future__ import annotations

import pytest

from bulut.apis.patches import PatchError, json_patch, strategic_merge


def test_json_patch_operations() -> None:
    document = {"a": {"b": 1}, "list": [1, 2]}
    patched = json_patch(
        document,
        [
            {"op": "add", "path": "/a/c", "value": 2},
            {"op": "replace", "path": "/a/b", "value": 3},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "remove", "path": "/list/0"},
            {"op": "copy", "from": "/a/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e~1f"},
            {"op": "test", "path": "/a/b", "value": 3},
        ],
    )
    assert patched == {"a": {"b": 3, "c": 2}, "list": [2, 3], "e/f": 2}
    assert document == {"a": {"b": 1}, "list": [1, 2]}


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/missing", "value": 1}],
        [{"op": "jump", "path": "/a"}],
        {"op": "add"},
    ],
)
def test_a_failing_json_patch_raises(operations: object) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1}, operations)


def test_strategic_merge_ignores_directives_and_honours_patch_replace() -> None:
    live = {"data": {"a": "1", "b": "2"}, "keep": True}
    assert strategic_merge(live, {"$setElementOrder/data": [], "data": {"b": None, "c": "3"}}) == {
        "data": {"a": "1", "c": "3"},
        "keep": True,
    }
    assert strategic_merge(live, {"data": {"$patch": "replace", "z": "9"}})["data"] == {"z": "9"}
