"""Expressions in form definitions are checked when the bundle loads, each problem placed exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import load_bundle
from engine.issues import Issue

NUMBER = {"key": "amount", "type": "number", "label": "Amount"}


def _issues(make_bundle: Callable[..., Path], fields: list[dict[str, Any]], **extra: Any) -> list[Issue]:
    root = make_bundle({"thing": {"fields": [NUMBER, *fields], **extra}})
    bundle, issues = load_bundle(root, display_root=root)
    assert (bundle is None) == bool(issues)
    return issues


def _one(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, [i.render() for i in issues]
    return issues[0]


def test_a_good_formula_loads(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "twice", "type": "number", "label": "2x", "formula": "amount * 2"}]
    assert _issues(make_bundle, fields) == []


def test_a_syntax_error_is_placed_inside_the_expression(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "twice", "type": "number", "label": "2x", "formula": "amount * (2"}]
    issue = _one(_issues(make_bundle, fields))
    assert issue.code.startswith("expr_") and issue.pointer == "/fields/1/formula"
    assert issue.span is not None and issue.span[0] == 9  # the unclosed "("
    assert issue.line is not None and issue.col is not None


def test_the_file_column_points_at_the_problem_in_the_string(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "twice", "type": "number", "label": "2x", "formula": "amount * nope"}]
    root = make_bundle({"thing": {"fields": [NUMBER, *fields]}})
    _, issues = load_bundle(root, display_root=root)
    issue = _one(issues)
    line = (root / str(issue.file)).read_text(encoding="utf-8").splitlines()[int(issue.line or 0) - 1]
    assert line[int(issue.col or 0) - 1 :].startswith("nope")
    assert issue.hint is not None


@pytest.mark.parametrize(
    ("field", "pointer"),
    [
        ({"key": "t", "type": "number", "label": "T", "formula": '"text" & amount'}, "/fields/1/formula"),
        ({"key": "t", "type": "text", "label": "T", "visible_if": "amount + 1"}, "/fields/1/visible_if"),
        (
            {"key": "t", "type": "text", "label": "T", "required_if": "amount = DATE(2024, 1, 1)"},
            "/fields/1/required_if",
        ),
        ({"key": "t", "type": "number", "label": "T", "formula": "NOSUCH(amount)"}, "/fields/1/formula"),
        ({"key": "t", "type": "number", "label": "T", "formula": "ROUND()"}, "/fields/1/formula"),
    ],
)
def test_type_and_name_errors_are_issues(make_bundle: Callable[..., Path], field: dict[str, Any], pointer: str) -> None:
    issue = _one(_issues(make_bundle, [field]))
    assert issue.code.startswith("expr_") and issue.pointer == pointer and issue.span is not None


def test_rules_are_checked(make_bundle: Callable[..., Path]) -> None:
    rules = [
        {"assert": "amount >= 0", "field": "amount", "message": {"zh": "不能为负", "en": "Not negative"}},
        {"assert": 'amount & "x"', "message": "bad"},
    ]
    issue = _one(_issues(make_bundle, [], rules=rules))
    assert issue.pointer == "/rules/1/assert"


def test_a_cycle_between_formula_fields_names_its_path(make_bundle: Callable[..., Path]) -> None:
    fields = [
        {"key": "a", "type": "number", "label": "A", "formula": "b + 1"},
        {"key": "b", "type": "number", "label": "B", "formula": "c + 1"},
        {"key": "c", "type": "number", "label": "C", "formula": "a + amount"},
    ]
    issue = _one(_issues(make_bundle, fields))
    assert issue.code == "formula_cycle"
    assert "thing.a -> thing.b -> thing.c -> thing.a" in issue.message
    assert issue.pointer == "/fields/1/formula"


def test_issues_serialise_with_their_span(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "twice", "type": "number", "label": "2x", "formula": "amount * nope"}]
    issue = _one(_issues(make_bundle, fields))
    assert json.loads(json.dumps(issue.to_dict()))["span"] == [9, 13]


def test_an_expression_default_is_checked_and_placed_past_its_equals_sign(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "d", "type": "number", "label": "D", "default": "=amount * nope"}]
    issue = _one(_issues(make_bundle, fields))
    assert issue.code.startswith("expr_") and issue.pointer == "/fields/1/default"
    assert issue.span == (10, 14)  # "nope" in "=amount * nope"


def test_an_expression_default_of_the_wrong_type_is_an_issue(make_bundle: Callable[..., Path]) -> None:
    fields = [{"key": "t", "type": "number", "label": "T", "default": "=TODAY()"}]
    issue = _one(_issues(make_bundle, fields))
    assert issue.code.startswith("expr_") and issue.pointer == "/fields/1/default"
