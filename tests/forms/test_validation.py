"""Submission validation: every problem at once, per field path, in Chinese and English.

``validate_submission`` is pure (no database), so the contract is stated as tables of
``submission -> issues`` and ``submission -> cleaned values``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from engine.i18n import Locale
from engine.issues import ValidationError
from forms.definition import FormDefinition
from forms.validation import Use, field_path, validate_submission

OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]

FORM = FormDefinition.model_validate(
    {
        "kind": "form",
        "key": "deal",
        "schema_version": 1,
        "label": "Deal",
        "fields": [
            {"key": "name", "type": "text", "label": "N", "required": True, "min_length": 2, "max_length": 5},
            {"key": "code", "type": "text", "label": "C", "pattern": "^[A-Z]+$"},
            {"key": "memo", "type": "textarea", "label": "M"},
            {"key": "body", "type": "rich_text", "label": "B"},
            {"key": "mail", "type": "email", "label": "E"},
            {"key": "tel", "type": "phone", "label": "P"},
            {"key": "site", "type": "url", "label": "U"},
            {"key": "qty", "type": "number", "label": "Q", "min": 1, "max": 10},
            {"key": "price", "type": "currency", "label": "P", "min": 0, "max": 99.5},
            {"key": "ratio", "type": "percent", "label": "R"},
            {"key": "stars", "type": "rating", "label": "S", "max": 3},
            {"key": "ok", "type": "boolean", "label": "O"},
            {"key": "day", "type": "date", "label": "D", "min": "2020-01-01", "max": "2030-12-31"},
            {"key": "month", "type": "date", "label": "M", "granularity": "month"},
            {"key": "at", "type": "datetime", "label": "A"},
            {"key": "tm", "type": "time", "label": "T"},
            {"key": "tier", "type": "select", "label": "T", "options": OPTIONS},
            {"key": "tags", "type": "multi_select", "label": "T", "options": OPTIONS, "max_items": 1},
            {"key": "owner", "type": "user", "label": "O"},
            {"key": "team", "type": "multi_user", "label": "T"},
            {"key": "dept", "type": "department", "label": "D"},
            {"key": "acc", "type": "relation", "label": "A", "target": "deal"},
            {"key": "accs", "type": "multi_relation", "label": "A", "target": "deal", "max_items": 2},
            {
                "key": "items",
                "type": "subtable",
                "label": "L",
                "max_rows": 3,
                "fields": [
                    {"key": "q", "type": "number", "label": "q", "required": True, "min": 1},
                    {"key": "note", "type": "text", "label": "n", "max_length": 3},
                ],
            },
            {"key": "no", "type": "autonumber", "label": "N"},
            {"key": "files", "type": "attachment", "label": "F", "max_files": 1},
            {"key": "data", "type": "json", "label": "J"},
            {"key": "locked", "type": "text", "label": "L", "read_only": True},
            {"key": "status", "type": "select", "label": "S", "options": OPTIONS, "default": "b"},
        ],
    }
)


def issues_of(raw: Any, *, use: Use = "create", locale: Any = "en") -> dict[str | None, str]:
    """Validate ``raw`` and return ``{field path: issue code}`` of the ValidationError."""
    with pytest.raises(ValidationError) as caught:
        validate_submission(FORM, raw, use=use, locale=locale)
    assert caught.value.status == 422
    fields = [issue.field for issue in caught.value.issues]
    assert len(fields) == len(set(fields)), "one issue per field path"
    return {issue.field: issue.code for issue in caught.value.issues}


INVALID: list[tuple[str, dict[str, Any], Use, dict[str, str]]] = [
    ("missing required", {}, "create", {"name": "missing"}),
    ("required set to null", {"name": None}, "create", {"name": "required"}),
    ("required nulled on update", {"name": None}, "update", {"name": "required"}),
    (
        "text limits and patterns",
        {
            "name": "x",
            "code": "abc",
            "memo": "x" * 10_001,
            "body": "y" * 100_001,
            "mail": "nope",
            "tel": "abc",
            "site": "ftp://x",
        },
        "create",
        {
            "name": "string_too_short",
            "code": "string_pattern_mismatch",
            "memo": "string_too_long",
            "body": "string_too_long",
            "mail": "string_pattern_mismatch",
            "tel": "string_pattern_mismatch",
            "site": "string_pattern_mismatch",
        },
    ),
    ("text too long", {"name": "abcdef"}, "create", {"name": "string_too_long"}),
    (
        "wrong types",
        {"name": 12, "memo": 5, "qty": "many", "ratio": "x", "ok": "maybe", "tags": "a", "data": {1, 2}},
        "create",
        {
            "name": "string_type",
            "memo": "string_type",
            "qty": "int_parsing",
            "ratio": "decimal_parsing",
            "ok": "bool_parsing",
            "tags": "list_type",
            "data": "invalid-json-value",
        },
    ),
    (
        "out of range",
        {"name": "ab", "qty": 0, "price": 100, "stars": 4, "day": "2019-12-31"},
        "create",
        {
            "qty": "greater_than_equal",
            "price": "less_than_equal",
            "stars": "less_than_equal",
            "day": "greater_than_equal",
        },
    ),
    (
        "numbers that are not whole or finite",
        {"name": "ab", "qty": 1.5, "price": 1e400},
        "create",
        {"qty": "int_from_float", "price": "finite_number"},
    ),
    (
        "booleans are not numbers or ids",
        {"name": "ab", "qty": True, "stars": True, "price": False, "owner": True, "accs": [True]},
        "create",
        {"qty": "int_type", "stars": "int_type", "price": "decimal_type", "owner": "int_type", "accs[0]": "int_type"},
    ),
    (
        "dates and times",
        {"name": "ab", "day": "2024-02-30", "month": "2024-13-01", "at": "yesterday", "tm": "25:00"},
        "create",
        {
            "day": "date_from_datetime_parsing",
            "month": "date_from_datetime_parsing",
            "at": "datetime_from_date_parsing",
            "tm": "time_parsing",
        },
    ),
    ("date with a time", {"name": "ab", "day": "2024-01-01T10:00:00"}, "create", {"day": "date_from_datetime_inexact"}),
    (
        "choices",
        {"name": "ab", "tier": "c", "tags": ["a", "b"], "status": "zz"},
        "create",
        {"tier": "literal_error", "tags": "too_long", "status": "literal_error"},
    ),
    ("multi-select value not an option", {"name": "ab", "tags": ["z"]}, "create", {"tags[0]": "literal_error"}),
    (
        "repeated items",
        {"name": "ab", "team": [1, 1], "accs": [2, 2]},
        "create",
        {"team": "items_repeat", "accs": "items_repeat"},
    ),
    (
        "references",
        {"name": "ab", "owner": 0, "dept": "d", "acc": -1, "accs": [1, 2, 3]},
        "create",
        {"owner": "greater_than_equal", "dept": "int_parsing", "acc": "greater_than_equal", "accs": "too_long"},
    ),
    (
        "sub-table rows",
        {"name": "ab", "items": [{"q": 1}, {"q": 0, "note": "long"}, {"note": "x", "extra": 1}]},
        "create",
        {
            "items[1].q": "greater_than_equal",
            "items[1].note": "string_too_long",
            "items[2].q": "missing",
            "items[2].extra": "extra_forbidden",
        },
    ),
    ("sub-table too many rows", {"name": "ab", "items": [{"q": 1}] * 4}, "create", {"items": "too_long"}),
    ("sub-table row not an object", {"name": "ab", "items": ["x"]}, "create", {"items[0]": "dict_type"}),
    ("too many files", {"name": "ab", "files": [{"id": "a"}, {"id": "b"}]}, "create", {"files": "too_long"}),
    (
        "read-only and system-filled on create",
        {"name": "ab", "no": "X-1", "locked": "z"},
        "create",
        {"no": "read_only", "locked": "read_only"},
    ),
    ("read-only on update", {"locked": "z", "no": "1"}, "update", {"locked": "read_only", "no": "read_only"}),
    (
        "unknown fields",
        {"name": "ab", "nmae": 1, "zzz": 2},
        "create",
        {"nmae": "extra_forbidden", "zzz": "extra_forbidden"},
    ),
]


@pytest.mark.parametrize(("raw", "use", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_submissions_report_every_problem_with_its_path(
    raw: dict[str, Any], use: Use, expected: dict[str, str]
) -> None:
    assert issues_of(raw, use=use) == expected


def test_all_problems_of_one_submission_are_reported_together() -> None:
    raw = {"name": "x", "qty": 0, "tier": "c", "items": [{"q": 0}], "nmae": 1, "no": "1"}
    assert issues_of(raw) == {
        "name": "string_too_short",
        "qty": "greater_than_equal",
        "tier": "literal_error",
        "items[0].q": "greater_than_equal",
        "nmae": "extra_forbidden",
        "no": "read_only",
    }


MESSAGES: list[tuple[dict[str, Any], str, str, str]] = [
    ({}, "name", "必填", "is required"),
    ({"name": "abcdef"}, "name", "最多 5 个字符", "must be at most 5 characters"),
    ({"name": "ab", "qty": 11}, "qty", "不能大于 10", "must be at most 10"),
    ({"name": "ab", "qty": "x"}, "qty", "应为整数", "must be an integer"),
    ({"name": "ab", "price": -1}, "price", "不能小于 0", "must be at least 0"),
    ({"name": "ab", "price": 100}, "price", "不能大于 99.5", "must be at most 99.5"),
    ({"name": "ab", "tier": "c"}, "tier", "应为以下选项之一：a or b", "must be one of: a or b"),
    ({"name": "ab", "day": "x"}, "day", "应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    ({"name": "ab", "items": [{}]}, "items[0].q", "必填", "is required"),
    ({"name": "ab", "team": [3, 3]}, "team", "不能包含重复项", "must not contain duplicates"),
    ({"name": "ab", "locked": "x"}, "locked", "只读字段，不能填写", "is read-only"),
    ({"name": "ab", "nmae": "x"}, "nmae", "未知字段", "unknown field"),
    ({"name": "ab", "ok": "x"}, "ok", "应为是/否", "must be true or false"),
]


@pytest.mark.parametrize(("raw", "path", "zh", "en"), MESSAGES)
def test_messages_in_both_languages(raw: dict[str, Any], path: str, zh: str, en: str) -> None:
    pairs: list[tuple[Locale, str]] = [("zh", zh), ("en", en)]
    for locale, text in pairs:
        with pytest.raises(ValidationError) as caught:
            validate_submission(FORM, raw, use="create", locale=locale)
        by_field = {issue.field: issue.message for issue in caught.value.issues}
        assert by_field[path] == text, locale
    assert caught.value.message == "the submission is not valid"


def test_summary_message_is_localised() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(FORM, {}, use="create", locale="zh")
    assert caught.value.message == "提交的数据有误"
    assert caught.value.to_dict()["issues"] == [{"code": "missing", "message": "必填", "field": "name"}]


@pytest.mark.parametrize(
    ("name", "hint"),
    [("nmae", "did you mean 'name'?"), ("qtty", "did you mean 'qty'?"), ("zzzz", None)],
)
def test_unknown_field_hints_at_the_closest_key(name: str, hint: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(FORM, {"name": "ab", name: 1}, use="create", locale="en")
    (issue,) = caught.value.issues
    assert (issue.field, issue.code, issue.hint) == (name, "extra_forbidden", hint)


def test_unknown_field_hint_does_not_suggest_read_only_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(FORM, {"name": "ab", "lockd": 1}, use="create", locale="en")
    assert caught.value.issues[0].hint is None


VALID: list[tuple[str, dict[str, Any], Use, dict[str, Any]]] = [
    ("defaults are added on create", {"name": "ab"}, "create", {"name": "ab", "status": "b"}),
    ("no defaults on update", {"qty": 3}, "update", {"qty": 3}),
    ("an empty update is fine", {}, "update", {}),
    ("given value beats the default", {"name": "ab", "status": "a"}, "create", {"name": "ab", "status": "a"}),
    (
        "values are converted",
        {
            "name": "ab",
            "qty": "7",
            "price": "1.005",
            "ratio": 0.12345,
            "ok": "true",
            "month": "2024-05-17",
            "at": "2024-01-02T03:04:05",
            "tm": "08:30",
            "day": "2024-02-29",
        },
        "create",
        {
            "name": "ab",
            "qty": 7,
            "price": Decimal("1.01"),
            "ratio": Decimal("0.1235"),
            "ok": True,
            "month": dt.date(2024, 5, 1),
            "at": dt.datetime(2024, 1, 2, 3, 4, 5),
            "tm": dt.time(8, 30),
            "day": dt.date(2024, 2, 29),
            "status": "b",
        },
    ),
    (
        "optional fields may be null",
        {"name": "ab", "qty": None, "tier": None, "items": None, "data": None},
        "create",
        {"name": "ab", "qty": None, "tier": None, "items": None, "data": None, "status": "b"},
    ),
    (
        "sub-table rows keep only given keys",
        {"name": "ab", "items": [{"q": "2"}, {"q": 3, "note": "ok"}]},
        "create",
        {"name": "ab", "items": [{"q": 2}, {"q": 3, "note": "ok"}], "status": "b"},
    ),
    (
        "attachments keep only the id",
        {"name": "ab", "files": [{"id": "f1", "name": "x.pdf"}]},
        "create",
        {"name": "ab", "files": [{"id": "f1"}], "status": "b"},
    ),
    (
        "any JSON",
        {"name": "ab", "data": {"k": [1, "x", None]}},
        "create",
        {"name": "ab", "data": {"k": [1, "x", None]}, "status": "b"},
    ),
    (
        "the system may set read-only and auto-number fields",
        {"name": "ab", "no": "X-1", "locked": "z"},
        "system",
        {"name": "ab", "no": "X-1", "locked": "z", "status": "b"},
    ),
]


@pytest.mark.parametrize(("raw", "use", "expected"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_submissions_return_cleaned_values(raw: dict[str, Any], use: Use, expected: dict[str, Any]) -> None:
    assert validate_submission(FORM, raw, use=use, locale="en") == expected


@pytest.mark.parametrize("raw", ["text", [], 3, None])
def test_a_submission_must_be_an_object(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(FORM, raw, use="create", locale="en")
    assert [i.code for i in caught.value.issues] == ["not_an_object"]
    assert caught.value.message == "the request body must be a JSON object"


@pytest.mark.parametrize(
    ("bounds", "value", "code"),
    [
        ({"min": 0.5}, 0, "greater_than_equal"),
        ({"min": 0.5}, 1, None),
        ({"max": 9.5}, 9, None),
        ({"max": 9.5}, 10, "less_than_equal"),
        ({"min": -2.5, "max": 2.5}, -3, "greater_than_equal"),
    ],
)
def test_whole_number_fields_accept_fractional_bounds(bounds: dict[str, float], value: int, code: str | None) -> None:
    form = FormDefinition.model_validate(
        {"kind": "form", "key": "f", "label": "F", "fields": [{"key": "n", "type": "number", "label": "N", **bounds}]}
    )
    if code is None:
        assert validate_submission(form, {"n": value}, use="create", locale="en") == {"n": value}
        return
    with pytest.raises(ValidationError) as caught:
        validate_submission(form, {"n": value}, use="create", locale="en")
    assert [(i.field, i.code) for i in caught.value.issues] == [("n", code)]


@pytest.mark.parametrize(
    ("loc", "path"),
    [(("name",), "name"), (("items", 1, "q"), "items[1].q"), (("tags", 0), "tags[0]"), ((), "")],
)
def test_field_path(loc: tuple[int | str, ...], path: str) -> None:
    assert field_path(loc) == path
