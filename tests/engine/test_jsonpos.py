"""JSON parsing with positions: pointers -> line:col, duplicate keys, one issue per syntax error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.issues import join_pointer
from engine.jsonpos import MAX_DEPTH, ParsedJson, parse_json

NESTED = """{
  "a": {"b": [1, {"c": null}]},
  "d": [],
  "e": [[true], "x"]
}"""


@pytest.mark.parametrize(
    ("text", "pointer", "position"),
    [
        (NESTED, "", (1, 1)),
        (NESTED, "/a", (2, 8)),
        (NESTED, "/a/b", (2, 14)),
        (NESTED, "/a/b/0", (2, 15)),
        (NESTED, "/a/b/1", (2, 18)),
        (NESTED, "/a/b/1/c", (2, 24)),
        (NESTED, "/d", (3, 8)),
        (NESTED, "/e/0/0", (4, 10)),
        (NESTED, "/e/1", (4, 17)),
        ('{"名称": "客户", "x": "😀", "y": 1}', "/名称", (1, 8)),
        ('{"名称": "客户", "x": "😀", "y": 1}', "/x", (1, 19)),
        ('{"名称": "客户", "x": "😀", "y": 1}', "/y", (1, 29)),
        ('{"a/b": 1, "m~n": 2}', "/a~1b", (1, 9)),
        ('{"a/b": 1, "m~n": 2}', "/m~0n", (1, 19)),
        ('{\r\n  "a": 1\r\n}', "/a", (2, 8)),
        ('\ufeff{"a": 1}', "/a", (1, 7)),
        ("\n\n   42", "", (3, 4)),
    ],
    ids=[
        "root",
        "object",
        "array",
        "array_item",
        "object_in_array",
        "null_in_object",
        "empty_array",
        "array_in_array",
        "second_item",
        "cjk_key",
        "after_cjk",
        "after_emoji",
        "slash_key",
        "tilde_key",
        "crlf",
        "bom_not_counted",
        "scalar_document",
    ],
)
def test_position_of_pointer(text: str, pointer: str, position: tuple[int, int]) -> None:
    parsed = parse_json(text)
    assert parsed.issues == []
    assert parsed.positions[pointer] == position


@pytest.mark.parametrize(
    ("pointer", "position"),
    [("/a/b/9", (2, 14)), ("/a/zzz/1", (2, 8)), ("/nothing", (1, 1)), ("", (1, 1))],
)
def test_position_falls_back_to_nearest_ancestor(pointer: str, position: tuple[int, int]) -> None:
    assert parse_json(NESTED).position(pointer) == position


def test_position_of_failed_document_is_unknown() -> None:
    assert parse_json("{").position("/a") is None


@pytest.mark.parametrize(
    ("text", "value", "duplicates"),
    [
        ('{"a": 1,\n "a": 2}', {"a": 2}, [("/a", 2, 2)]),
        ('{"x": {"k": 1, "k": [2]}}', {"x": {"k": [2]}}, [("/x/k", 1, 16)]),
        ('[{"k": 1, "k": 2, "k": 3}]', [{"k": 3}], [("/0/k", 1, 11), ("/0/k", 1, 19)]),
        ('{"名": 1, "名": 2}', {"名": 2}, [("/名", 1, 10)]),
        ('{"a": 1, "b": {"a": 2}}', {"a": 1, "b": {"a": 2}}, []),
    ],
    ids=["top_level", "nested", "three_times", "unicode", "same_key_other_objects"],
)
def test_duplicate_keys_are_issues_with_position(text: str, value: Any, duplicates: list[tuple[str, int, int]]) -> None:
    parsed = parse_json(text, file="doc.json")
    assert parsed.value == value
    assert [(i.pointer, i.line, i.col) for i in parsed.issues] == duplicates
    assert all(i.code == "duplicate_key" and i.file == "doc.json" and i.hint for i in parsed.issues)


DEEP = "[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50)


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ('{"a": 1,}', 1, 9, "property name"),
        ("[1, 2,]", 1, 7, "expected a value"),
        ('{\n  "a": 1,\n}', 3, 1, "property name"),
        ("{a: 1}", 1, 2, "property name"),
        ("{'a': 1}", 1, 2, "property name"),
        ('{"a": "x}', 1, 7, "Unterminated string"),
        ('{"a": "x\n"}', 1, 9, "control character"),
        ('["\\q"]', 1, 3, "escape"),
        ('{"a": ["x\\ud800"]}', 1, 8, "lone surrogate"),
        ('{"a" 1}', 1, 6, "':'"),
        ('{"a": 1 "b": 2}', 1, 9, "',' or '}'"),
        ("[1 2]", 1, 4, "',' or ']'"),
        ('{"a": 1', 1, 8, "',' or '}'"),
        ("[1,", 1, 4, "end of input"),
        ("{}\n  x", 2, 3, "after the JSON document"),
        ('{"a": 1}{"b": 2}', 1, 9, "after the JSON document"),
        ("", 1, 1, "end of input"),
        ("  \n  ", 2, 3, "end of input"),
        ("[tru]", 1, 2, "expected a value"),
        ("[NaN]", 1, 2, "expected a value"),
        ("[01]", 1, 3, "',' or ']'"),
        ("[1.]", 1, 3, "',' or ']'"),
        ("-", 1, 1, "expected a value"),
        ("// comment\n{}", 1, 1, "expected a value"),
        ("1" * 5000, 1, 1, "digits"),
        (DEEP, 1, MAX_DEPTH + 2, "nested too deeply"),
        ('{\n  "fields": [\n    {"key": "a",},\n  ]\n}', 3, 17, "property name"),
    ],
    ids=[
        "trailing_comma_object",
        "trailing_comma_array",
        "trailing_comma_next_line",
        "unquoted_key",
        "single_quotes",
        "unterminated_string",
        "newline_in_string",
        "bad_escape",
        "lone_surrogate",
        "missing_colon",
        "missing_comma_object",
        "missing_comma_array",
        "unclosed_object",
        "unclosed_array",
        "garbage_after_document",
        "two_documents",
        "empty",
        "only_whitespace",
        "bad_literal",
        "nan",
        "leading_zero",
        "bare_decimal_point",
        "lone_minus",
        "comment",
        "huge_integer",
        "deep_nesting",
        "nested_trailing_comma",
    ],
)
def test_syntax_error_is_one_located_issue(text: str, line: int, col: int, message: str) -> None:
    parsed = parse_json(text, file="bad.json")
    assert parsed.value is None and parsed.positions == {}
    (issue,) = parsed.issues
    assert (issue.code, issue.file, issue.pointer, issue.line, issue.col) == ("json_syntax", "bad.json", "", line, col)
    assert message in issue.message
    assert issue.hint


def test_nesting_up_to_the_limit_parses() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    parsed = parse_json(text)
    assert parsed.issues == []
    assert parsed.positions["/0" * (MAX_DEPTH - 1)] == (1, MAX_DEPTH)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e400", float("inf")),
        ("-0", 0),
        ("1E+2", 100.0),
        ('"\\ud83d\\ude00"', "😀"),
        ('"\\u00e9"', "é"),
        ("\ufeff[]", []),
    ],
    ids=["float_overflow", "negative_zero", "exponent", "surrogate_pair", "escape", "bom"],
)
def test_scalars_parse_like_the_json_module(text: str, value: Any) -> None:
    parsed = parse_json(text)
    assert parsed.issues == []
    assert parsed.value == value == json.loads(text.removeprefix("\ufeff"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
INDENTS = st.none() | st.integers(0, 6) | st.sampled_from(["\t", " "])


def _pointers(value: Any, pointer: str = "") -> list[tuple[str, Any]]:
    found = [(pointer, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _pointers(item, pointer + join_pointer(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _pointers(item, f"{pointer}/{index}")
    return found


def _offset(text: str, line: int, col: int) -> int:
    return sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, INDENTS, st.booleans())
def test_round_trip_of_any_json_value(value: Any, indent: int | str | None, ensure_ascii: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    parsed = parse_json(text)
    assert parsed.issues == []
    assert parsed.value == value


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_every_pointer_is_positioned_at_its_value(value: Any, ensure_ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    parsed = parse_json(text)
    for pointer, item in _pointers(value):
        line, col = parsed.positions[pointer]
        assert text[_offset(text, line, col) :].startswith(json.dumps(item, ensure_ascii=ensure_ascii))


def _check_outcome(parsed: ParsedJson, text: str) -> None:
    syntax = [issue for issue in parsed.issues if issue.code == "json_syntax"]
    if syntax:
        (issue,) = parsed.issues
        assert issue.line is not None and issue.col is not None
        assert 1 <= issue.line <= text.count("\n") + 1 and issue.col >= 1
    else:
        assert all(issue.code == "duplicate_key" for issue in parsed.issues)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    _check_outcome(parse_json(text), text)


JSONISH = st.text(alphabet='{}[]",:0123456789.eE+-truefalsn \n\t\\', max_size=40)


@settings(max_examples=1000, deadline=None)
@given(JSONISH)
def test_agrees_with_the_json_module(text: str) -> None:
    parsed = parse_json(text)
    _check_outcome(parsed, text)
    try:
        expected = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        assert [issue.code for issue in parsed.issues] == ["json_syntax"]
    else:
        assert not [issue for issue in parsed.issues if issue.code == "json_syntax"]
        assert parsed.value == expected
