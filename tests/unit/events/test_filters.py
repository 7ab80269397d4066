"""Knative Trigger filters: filter.attributes and the filters dialects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidResourceError
from bulut.events.cesql import CesqlSyntaxError, Value
from bulut.events.filters import EventFilter, compile_trigger_filter

EVENT: dict[str, Value] = {
    "specversion": "1.0",
    "id": "42",
    "source": "https://example.com/orders",
    "type": "com.example.order.created",
    "subject": "order-7",
    "datacontenttype": "Application/JSON; charset=utf-8",
    "dataschema": "https://example.com/schema",
    "priority": 5,
    "urgent": True,
    "empty": "",
}


def passes(filters: Sequence[Mapping[str, Any]], event: Mapping[str, Value] = EVENT) -> bool:
    return compile_trigger_filter(None, filters).matches(event)


def rejects(
    filters: Sequence[Mapping[str, Any]] | None, attributes: Mapping[str, Any] | None = None
) -> InvalidResourceError:
    with pytest.raises(InvalidResourceError) as raised:
        compile_trigger_filter(attributes, filters)
    return raised.value


# -- no filter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "filters"),
    [(None, None), ({}, None), (None, []), ({}, []), (None, [{}]), (None, [{"not": {}}])],
)
def test_a_trigger_without_filters_passes_every_event(
    attributes: Mapping[str, str] | None, filters: Sequence[Mapping[str, Any]] | None
) -> None:
    event_filter = compile_trigger_filter(attributes, filters)
    assert isinstance(event_filter, EventFilter)
    assert event_filter.passes_everything
    assert event_filter.matches({})


# -- filter.attributes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "passed"),
    [
        ({"type": "com.example.order.created"}, True),
        ({"type": "com.example.order.CREATED"}, False),
        ({"type": "com.example.order.created", "source": "https://example.com/orders"}, True),
        ({"type": "com.example.order.created", "source": "elsewhere"}, False),
        ({"missing": "x"}, False),
        ({"subject": ""}, True),
        ({"empty": ""}, False),
        ({"missing": ""}, False),
        ({"priority": "5"}, True),
        ({"priority": "05"}, False),
        ({"urgent": "true"}, True),
        ({"urgent": "True"}, False),
        ({"schemaurl": "https://example.com/schema"}, True),
        ({"datamediatype": "application/json"}, True),
        ({"datacontenttype": "application/json"}, False),
    ],
)
def test_filter_attributes_match_exactly_and_empty_means_any_non_empty_value(
    attributes: Mapping[str, str], passed: bool
) -> None:
    assert compile_trigger_filter(attributes, None).matches(EVENT) is passed


def test_non_empty_filters_replace_filter_attributes_entirely() -> None:
    event_filter = compile_trigger_filter(
        {"type": "something.else"}, [{"exact": {"type": "com.example.order.created"}}]
    )
    assert event_filter.matches(EVENT)


@pytest.mark.parametrize(
    ("attributes", "message", "field"),
    [
        (
            {"Type": "x"},
            "spec.filter.attributes.Type: invalid attribute name 'Type': must start with a "
            "lower-case letter and hold only lower-case letters and digits",
            "spec.filter.attributes.Type",
        ),
        ({"1abc": "x"}, None, "spec.filter.attributes.1abc"),
        ({"my-ext": "x"}, None, "spec.filter.attributes.my-ext"),
        ({"": "x"}, None, "spec.filter.attributes."),
        ({"type": 5}, "spec.filter.attributes.type: value must be a string", None),
    ],
)
def test_filter_attributes_names_are_validated(
    attributes: Mapping[str, Any], message: str | None, field: str | None
) -> None:
    error = rejects(None, attributes)
    if message is not None:
        assert str(error) == message
    if field is not None:
        assert error.field == field


def test_filter_attributes_are_validated_even_when_filters_replace_them() -> None:
    rejects([{"exact": {"type": "x"}}], {"Bad": "x"})


# -- dialects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "passed"),
    [
        ([{"exact": {"type": "com.example.order.created"}}], True),
        ([{"exact": {"type": "com.example.order"}}], False),
        ([{"exact": {"missing": "x"}}], False),
        ([{"exact": {"priority": "5"}}], True),
        ([{"exact": {"urgent": "true"}}], True),
        ([{"prefix": {"type": "com.example."}}], True),
        ([{"prefix": {"type": "org."}}], False),
        ([{"prefix": {"missing": "x"}}], False),
        ([{"prefix": {"priority": "5"}}], True),
        ([{"suffix": {"type": ".created"}}], True),
        ([{"suffix": {"type": ".deleted"}}], False),
        ([{"suffix": {"missing": "x"}}], False),
        ([{"suffix": {"datamediatype": "/json"}}], True),
        ([{"prefix": {"type": "com."}}, {"suffix": {"type": ".created"}}], True),
        ([{"prefix": {"type": "com."}}, {"suffix": {"type": ".deleted"}}], False),
        ([{"all": [{"prefix": {"type": "com."}}, {"exact": {"subject": "order-7"}}]}], True),
        ([{"all": [{"prefix": {"type": "com."}}, {"exact": {"subject": "x"}}]}], False),
        ([{"any": [{"exact": {"subject": "x"}}, {"exact": {"subject": "order-7"}}]}], True),
        ([{"any": [{"exact": {"subject": "x"}}, {"exact": {"subject": "y"}}]}], False),
        (
            [
                {
                    "all": [
                        {"prefix": {"type": "com."}},
                        {"suffix": {"id": "2"}},
                        {"exact": {"id": "4"}},
                    ]
                }
            ],
            False,
        ),
        (
            [
                {
                    "all": [
                        {"prefix": {"type": "com."}},
                        {"suffix": {"id": "2"}},
                        {"exact": {"id": "42"}},
                    ]
                }
            ],
            True,
        ),
        (
            [{"any": [{"exact": {"id": "1"}}, {"exact": {"id": "2"}}, {"exact": {"id": "42"}}]}],
            True,
        ),
        (
            [{"any": [{"exact": {"id": "1"}}, {"exact": {"id": "2"}}, {"exact": {"id": "3"}}]}],
            False,
        ),
        ([{"not": {"exact": {"subject": "x"}}}], True),
        ([{"not": {"exact": {"subject": "order-7"}}}], False),
        ([{"not": {"not": {"exact": {"subject": "order-7"}}}}], True),
        ([{"cesql": "priority > 3 AND urgent"}], True),
        ([{"cesql": "priority > 9"}], False),
        ([{"cesql": "missing = 'x' OR TRUE"}], False),
        ([{"cesql": "'true'"}], False),
        ([{"not": {"cesql": "missing = 'x'"}}], True),
    ],
)
def test_filters_dialects_follow_knative(
    filters: Sequence[Mapping[str, Any]], passed: bool
) -> None:
    assert passes(filters) is passed


@pytest.mark.parametrize(
    ("filters", "passed"),
    [
        ([{"exact": {"subject": "x"}}, {}], False),
        ([{"all": [{}, {"not": {}}]}], True),
        ([{"any": [{}, {"exact": {"subject": "x"}}]}], False),
        ([{"any": [{"not": {}}]}], True),
        ([{"not": {"all": []}}], True),
        ([{"not": {"any": [{}]}}], True),
        ([{"all": [], "exact": {}}], True),
        ([{"cesql": ""}], True),
    ],
)
def test_empty_filters_are_no_filter_and_do_not_change_the_outcome(
    filters: Sequence[Mapping[str, Any]], passed: bool
) -> None:
    assert passes(filters) is passed


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            [{"exact": {"type": "a"}}, {"exact": {"type": "a"}, "suffix": {"type": "a"}}],
            "spec.filters[1]: multiple dialects found, filters can have only one dialect set",
        ),
        (
            [{"cesql": "TRUE", "not": {}}],
            "spec.filters[0]: multiple dialects found, filters can have only one dialect set",
        ),
        (
            [{"exactt": {"type": "a"}}],
            "spec.filters[0]: unknown filter dialect 'exactt' (expected one of exact, prefix, "
            "suffix, all, any, not, cesql)",
        ),
        (
            [{"exact": {"type": "a", "source": "b"}}],
            "spec.filters[0].exact: multiple items found, can have only one key-value",
        ),
        ([{"prefix": {"": "a"}}], "spec.filters[0].prefix: attribute name must not be empty"),
        (
            [{"suffix": {"type": ""}}],
            "spec.filters[0].suffix.type: value must be a non-empty string",
        ),
        ([{"exact": {"type": 7}}], "spec.filters[0].exact.type: value must be a non-empty string"),
        (
            [{"exact": {"Type": "a"}}],
            "spec.filters[0].exact.Type: invalid attribute name 'Type': must start with a "
            "lower-case letter and hold only lower-case letters and digits",
        ),
        ([{"exact": "type"}], "spec.filters[0].exact: must be a map of attribute name to value"),
        ([{"all": {"exact": {}}}], "spec.filters[0].all: must be a list of filters"),
        ([{"any": "x"}], "spec.filters[0].any: must be a list of filters"),
        (["exact"], "spec.filters[0]: must be an object with one dialect"),
        (
            [{"all": [{}, {"not": {"exact": {"a": "b"}, "prefix": {"a": "b"}}}]}],
            "spec.filters[0].all[1].not: multiple dialects found, filters can have only one "
            "dialect set",
        ),
        ([{"cesql": 5}], "spec.filters[0].cesql: must be a CESQL expression string"),
    ],
)
def test_invalid_filters_are_rejected_naming_the_path(filters: Sequence[Any], message: str) -> None:
    error = rejects(filters)
    assert str(error) == message
    assert error.field is not None and message.startswith(error.field)


def test_filters_must_be_a_list() -> None:
    assert str(rejects({"exact": {"a": "b"}})) == "spec.filters: must be a list of filters"  # type: ignore[arg-type]


def test_a_cesql_syntax_error_is_rejected_with_its_path_and_position() -> None:
    with pytest.raises(CesqlSyntaxError) as raised:
        compile_trigger_filter(None, [{"cesql": "type = 'a' AND (source = 'b'))"}])
    error = raised.value
    assert str(error) == "spec.filters[0].cesql: cesql: unexpected token ')' at 1:30"
    assert error.field == "spec.filters[0].cesql"
    assert (error.position, error.line, error.column) == (29, 1, 30)


def test_nested_cesql_errors_name_the_nested_path() -> None:
    error = rejects([{"any": [{"exact": {"a": "b"}}, {"not": {"cesql": "a LIKE b"}}]}])
    assert str(error).startswith("spec.filters[0].any[1].not.cesql: cesql: LIKE pattern")


def test_the_path_prefix_can_be_chosen() -> None:
    with pytest.raises(InvalidResourceError, match=r"^items\[3\]\.spec\.filters\[0\]: "):
        compile_trigger_filter(None, [{"nope": 1}], path="items[3].spec")


def test_a_compiled_filter_is_reused_across_events() -> None:
    event_filter = compile_trigger_filter(None, [{"cesql": "subject LIKE 'order-%'"}])
    subjects = ["order-1", "refund-1", "order-2"]
    assert [event_filter.matches({**EVENT, "subject": s}) for s in subjects] == [True, False, True]


# -- the type a filter demands (a broker offers it only events of that type) -----------


@pytest.mark.parametrize(
    ("attributes", "filters", "required"),
    [
        ({"type": "com.example.order.created"}, None, "com.example.order.created"),
        ({"type": "a", "source": "s"}, [], "a"),
        (None, [{"exact": {"type": "a"}}, {"prefix": {"subject": "o"}}], "a"),
        ({"type": "ignored"}, [{"exact": {"type": "a"}}], "a"),  # filters replace filter
        ({"type": ""}, None, None),  # "" asks only that the attribute is there
        ({"source": "s"}, None, None),
        (None, [{"prefix": {"type": "com."}}], None),
        (None, [{"any": [{"exact": {"type": "a"}}, {"exact": {"type": "b"}}]}], None),
        (None, [{"not": {"exact": {"type": "a"}}}], None),
        (None, [{"cesql": "type = 'a'"}], None),
        ({"type": "ignored"}, [{"exact": {"subject": "s"}}], None),
        (None, None, None),
    ],
)
def test_a_filter_names_the_type_it_demands_only_when_it_matches_no_other(
    attributes: Mapping[str, str] | None,
    filters: Sequence[Mapping[str, Any]] | None,
    required: str | None,
) -> None:
    assert compile_trigger_filter(attributes, filters).required_type == required


@given(
    wanted=st.sampled_from(["a", "b", "com.example.order.created"]),
    actual=st.sampled_from(["a", "b", "com.example.order.created", "A"]),
    legacy=st.booleans(),
)
def test_an_event_of_another_type_never_passes_a_filter_that_demands_one(
    wanted: str, actual: str, legacy: bool
) -> None:
    event_filter = (
        compile_trigger_filter({"type": wanted}, None)
        if legacy
        else compile_trigger_filter(None, [{"exact": {"type": wanted}}, {"exact": {"id": "42"}}])
    )
    assert event_filter.required_type == wanted
    assert event_filter.matches({**EVENT, "type": actual}) == (actual == wanted)
