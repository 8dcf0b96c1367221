"""Field definitions inside a form: options, defaults, and the checks that survive a bad option."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.definitions import load_document
from engine.definitions.document import read_document
from forms.definition import FormDefinition
from forms.fields import FIELD_TYPES

OPTIONS = [{"value": "low", "label": "Low"}, {"value": "high", "label": {"zh": "高", "en": "High"}}]
MINIMAL: dict[str, dict[str, Any]] = {
    "text": {},
    "textarea": {},
    "rich_text": {},
    "email": {},
    "phone": {},
    "url": {},
    "number": {},
    "currency": {},
    "percent": {},
    "rating": {},
    "boolean": {},
    "date": {},
    "datetime": {},
    "time": {},
    "select": {"options": OPTIONS},
    "multi_select": {"options": OPTIONS},
    "user": {},
    "multi_user": {},
    "department": {},
    "relation": {"target": "ticket"},
    "multi_relation": {"target": "ticket"},
    "subtable": {"fields": [{"key": "line", "type": "text", "label": "Line"}]},
    "autonumber": {},
    "attachment": {},
    "json": {},
}


def form_with(field_type: str, **options: Any) -> dict[str, Any]:
    """A one-field form document with the field's minimal options plus ``options``."""
    field = {"key": "value", "type": field_type, "label": "Value", **MINIMAL[field_type], **options}
    return {"kind": "form", "key": "ticket", "label": "Ticket", "fields": [field]}


def issues_of(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    """``(code, pointer)`` of every issue of ``document``."""
    return [(issue.code, issue.pointer) for issue in load_document(json.dumps(document))[2]]


def test_minimal_table_covers_every_registered_type() -> None:
    assert set(MINIMAL) == set(FIELD_TYPES)


@pytest.mark.parametrize("field_type", sorted(FIELD_TYPES))
def test_every_field_type_loads_with_its_minimal_options(field_type: str) -> None:
    definition, _, issues = load_document(json.dumps(form_with(field_type)))
    assert issues == []
    assert isinstance(definition, FormDefinition)
    assert definition.fields[0].type_name == field_type


@pytest.mark.parametrize("field_type", sorted(FIELD_TYPES))
def test_every_field_type_rejects_an_unknown_option_with_a_hint(field_type: str) -> None:
    issues = load_document(json.dumps(form_with(field_type, lable="x")))[2]
    assert [(i.code, i.pointer) for i in issues] == [("unknown_option", "/fields/0/lable")]
    assert issues[0].hint == "did you mean 'label'?"


@pytest.mark.parametrize(
    ("field_type", "options", "default", "valid"),
    [
        ("text", {}, "hello", True),
        ("text", {"max_length": 3}, "hello", False),
        ("text", {"pattern": "^[A-Z]+$"}, "abc", False),
        ("email", {}, "a@example.com", True),
        ("email", {}, "not-an-email", False),
        ("url", {}, "ftp://example.com", False),
        ("phone", {}, "+86 10 1234 5678", True),
        ("number", {}, 5, True),
        ("number", {}, "x", False),
        ("number", {"min": 10}, 5, False),
        ("currency", {}, 12.5, True),
        ("percent", {"max": 1}, 1.5, False),
        ("rating", {"max": 5}, 6, False),
        ("rating", {}, 0, False),
        ("boolean", {}, True, True),
        ("boolean", {}, [True], False),
        ("date", {}, "2024-01-15", True),
        ("date", {}, "2024-02-30", False),
        ("date", {"min": "2024-01-01"}, "2023-12-31", False),
        ("datetime", {}, "yesterday", False),
        ("time", {}, "09:30", True),
        ("time", {}, "25:00", False),
        ("select", {}, "high", True),
        ("select", {}, "urgent", False),
        ("multi_select", {}, ["low", "high"], True),
        ("multi_select", {}, ["low", "urgent"], False),
        ("multi_select", {}, ["low", "low"], False),
        ("relation", {}, 0, False),
        ("user", {}, 7, True),
        ("json", {}, {"any": ["thing"]}, True),
        ("attachment", {}, [], True),
        ("date", {}, "=TODAY()", True),  # an expression default: type-checked with the bundle
    ],
)
def test_default_must_be_a_valid_value(field_type: str, options: dict[str, Any], default: Any, valid: bool) -> None:
    issues = issues_of(form_with(field_type, default=default, **options))
    if valid:
        assert issues == []
    else:
        assert len(issues) == 1
        assert issues[0][0] in {"invalid_default", "unsupported_default"}
        assert issues[0][1] == "/fields/0/default"


@pytest.mark.parametrize(
    ("field_type", "options", "expected"),
    [
        ("select", {"options": []}, ("too_short", "/fields/0/options")),
        (
            "select",
            {"options": [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}]},
            ("value_error", "/fields/0/options"),
        ),
        (
            "select",
            {"options": [{"value": "a", "label": "A", "color": "red"}]},
            ("string_pattern_mismatch", "/fields/0/options/0/color"),
        ),
        ("select", {"options": [{"value": "a"}]}, ("missing", "/fields/0/options/0/label")),
        ("autonumber", {"pattern": "KA-{yyyy}"}, ("value_error", "/fields/0/pattern")),
        ("attachment", {"accept": ["pdf"]}, ("string_pattern_mismatch", "/fields/0/accept/0")),
        ("currency", {"currency": "cny"}, ("string_pattern_mismatch", "/fields/0/currency")),
        ("rating", {"max": 11}, ("less_than_equal", "/fields/0/max")),
        ("number", {"decimals": 11}, ("less_than_equal", "/fields/0/decimals")),
        ("number", {"decimals": "2"}, ("int_type", "/fields/0/decimals")),
        ("text", {"required": "yes"}, ("bool_type", "/fields/0/required")),
        ("date", {"granularity": "week"}, ("literal_error", "/fields/0/granularity")),
        ("relation", {"on_delete": "delete"}, ("literal_error", "/fields/0/on_delete")),
        ("relation", {"target": "Ticket"}, ("string_pattern_mismatch", "/fields/0/target")),
        ("subtable", {"fields": []}, ("too_short", "/fields/0/fields")),
        ("subtable", {"max_rows": 0}, ("greater_than_equal", "/fields/0/max_rows")),
    ],
)
def test_bad_field_options_are_located(field_type: str, options: dict[str, Any], expected: tuple[str, str]) -> None:
    assert issues_of(form_with(field_type, **options)) == [expected]


def test_text_pattern_that_does_not_compile_is_located() -> None:
    assert issues_of(form_with("text", pattern="([a-z")) == [("value_error", "/fields/0/pattern")]


def test_text_pattern_that_does_not_compile_is_an_issue_not_a_crash() -> None:
    document = form_with("text", pattern="([a-z")
    document["fields"].append({"key": "id", "type": "text", "label": "Id"})
    codes = [code for code, _ in issues_of(document)]
    assert codes[0] in {"value_error", "validator_error"}
    assert "reserved_key" in codes


# --- the same checks on a model and on the raw JSON of a document that failed validation ---

LOCAL_PROBLEMS = {
    "kind": "form",
    "key": "ticket",
    "label": "Ticket",
    "title_field": "subjet",
    "fields": [
        {"key": "subject", "type": "text", "label": "Subject", "default": "x" * 300},
        {"key": "subject", "type": "select", "label": "Status", "default": "new", "options": OPTIONS},
        {"key": "tags", "type": "multi_select", "label": "Tags", "options": OPTIONS},
        {"key": "version", "type": "number", "label": "Version"},
        {
            "key": "lines",
            "type": "subtable",
            "label": "Lines",
            "fields": [
                {"key": "parent_id", "type": "number", "label": "Parent"},
                {"key": "file", "type": "attachment", "label": "File"},
                {
                    "key": "inner",
                    "type": "subtable",
                    "label": "Inner",
                    "fields": [{"key": "x", "type": "text", "label": "X"}],
                },
            ],
        },
    ],
    "indexes": [["tags"], ["nothing"]],
    "layout": [{"section": "Main", "fields": ["subject", "tgas"]}],
    "list": {"columns": ["lines", "owner"], "sort": [{"field": "lines", "desc": True}]},
}


def _local_issues(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    model = FormDefinition.model_validate(document)
    return [(issue.code, issue.pointer) for issue in model.local_issues()]


def _partial_issues(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(issue.code, issue.pointer) for issue in FormDefinition.partial_issues(document)]


def test_partial_checks_equal_the_model_checks_on_a_valid_document() -> None:
    local = _local_issues(LOCAL_PROBLEMS)
    assert len(local) == 14
    assert _partial_issues(LOCAL_PROBLEMS) == local


def test_one_bad_option_does_not_hide_the_other_problems() -> None:
    broken = json.loads(json.dumps(LOCAL_PROBLEMS))
    broken["fields"][2]["colour"] = "red"
    broken["layout"][0]["colums"] = 2
    result = read_document(json.dumps(broken))
    found = {(issue.code, issue.pointer) for issue in result.issues}
    assert result.model is None
    assert {("unknown_option", "/fields/2/colour"), ("unknown_option", "/layout/0/colums")} <= found
    assert set(_local_issues(LOCAL_PROBLEMS)) <= found
    assert len(found) == len(result.issues) == 16


def test_a_field_that_fails_validation_still_counts_for_keys_and_references() -> None:
    document = form_with("select", options=[])  # invalid: no options
    document["fields"].append({"key": "value", "type": "text", "label": "Again"})
    document["list"] = {"columns": ["value", "missing"]}
    assert issues_of(document) == [
        ("duplicate_field", "/fields/0/key"),
        ("too_short", "/fields/0/options"),
        ("duplicate_field", "/fields/1/key"),
        ("unknown_field", "/list/columns/1"),
    ]


def test_subtable_children_are_checked_when_a_sibling_fails() -> None:
    document = form_with(
        "subtable",
        fields=[
            {"key": "a", "type": "text", "label": "A", "bad": 1},
            {"key": "b", "type": "multi_user", "label": "B"},
            {"key": "b", "type": "text", "label": "B2", "unique": True},
        ],
    )
    assert issues_of(document) == [
        ("unknown_option", "/fields/0/fields/0/bad"),
        ("duplicate_field", "/fields/0/fields/1/key"),
        ("unsupported_in_subtable", "/fields/0/fields/1/type"),
        ("duplicate_field", "/fields/0/fields/2/key"),
        ("unsupported_in_subtable", "/fields/0/fields/2/unique"),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"fields": "x"},
        {"fields": [1, None, "text", [], {"key": 5, "type": ["x"]}, {"type": "subtable", "fields": "no"}]},
        {
            "fields": [{"key": "a", "type": "text", "label": "A"}],
            "layout": "x",
            "list": [],
            "indexes": {"a": 1},
            "unique_together": [None, ["a", 3]],
            "title_field": 7,
        },
        {
            "fields": [],
            "layout": [None, {"fields": None}, {"fields": [1, "Bad Key", "zz"]}],
            "list": {"columns": "a", "sort": [None, {"field": 3}, {"field": "zz"}]},
        },
    ],
    ids=["empty", "fields_not_list", "fields_garbage", "references_garbage", "references_mixed"],
)
def test_partial_checks_survive_any_shape(raw: dict[str, Any]) -> None:
    names = [pointer for _, pointer in _partial_issues(raw)]
    assert all(pointer and pointer.startswith("/") for pointer in names)
    if "zz" in json.dumps(raw):
        assert any(code == "unknown_field" for code, _ in _partial_issues(raw))


FIELD_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "default": st.none() | st.integers(-5, 300) | st.sampled_from(["low", "x" * 300, "2024-01-01", "=A"]),
        "required": st.booleans(),
        "unique": st.booleans(),
    },
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(FIELD_TYPES)), st.sampled_from(["a", "b", "id", "position"]), FIELD_OPTIONS),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
)
def test_partial_checks_agree_with_the_model_checks(
    fields: list[tuple[str, str, dict[str, Any]]], columns: list[str]
) -> None:
    document = {
        "kind": "form",
        "key": "ticket",
        "label": "Ticket",
        "fields": [{"key": key, "type": t, "label": "F", **MINIMAL[t], **options} for t, key, options in fields],
        "list": {"columns": columns},
    }
    assert _partial_issues(document) == _local_issues(document)
