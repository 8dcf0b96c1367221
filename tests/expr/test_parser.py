"""The parser: text -> AST (as s-expressions), and every syntax error with its code and column."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sexpr import sexpr

from engine.expr import ExprError, Limits, parse
from engine.expr.nodes import walk
from engine.expr.serialize import to_json

PARSES = [
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("-2^2", "(^ (- 2) 2)"),  # Excel: negation binds tighter than ^, so -2^2 = 4
    ("2^3^2", "(^ (^ 2 3) 2)"),  # Excel evaluates ^ left to right: 64
    ("1 - 2 - 3", "(- (- 1 2) 3)"),
    ("10 / 2 * 5", "(* (/ 10 2) 5)"),
    ("50%", "(% 50)"),
    ("-5%", "(- (% 5))"),
    ('"a" & "b" & 1', '(& (& "a" "b") 1)'),
    ('a & b = "x"', '(= (& a b) "x")'),
    ("1 + 2 = 3", "(= (+ 1 2) 3)"),
    ("a <> b", "(<> a b)"),
    ("a <= b", "(<= a b)"),
    ("a >= b", "(>= a b)"),
    ("not a and b or c", "(OR (AND (NOT a) b) c)"),
    ("NOT a = 1", "(NOT (= a 1))"),
    ("a OR b AND c", "(OR a (AND b c))"),
    ("AND(a, b, c)", "(AND() a b c)"),
    ("Or(a, b)", "(OR() a b)"),
    ("not(a)", "(NOT() a)"),
    ("x IN (1, 2, 3)", "(IN x 1 2 3)"),
    ('x not in ("a")', '(NOT IN x "a")'),
    ("x in (1, 2) and y", "(AND (IN x 1 2) y)"),
    ("account.tier", "account.tier"),
    ("service_request.account.primary_rm", "service_request.account.primary_rm"),
    ("THIS", "THIS"),
    ("this.name", "THIS.name"),
    ("TRUE", "TRUE"),
    ("false", "FALSE"),
    ("null", "NULL"),
    ('"say ""hi"""', '"say "hi""'),
    ('"中文"', '"中文"'),
    ("1.5e3", "1.5E+3"),
    (".5", "0.5"),
    ('if(a > 1, "x", "y")', '(IF() (> a 1) "x" "y")'),
    ("TODAY()", "(TODAY())"),
    (
        "SUMIF(account_financial_monthly.revenue, period >= EDATE(TODAY(), -12))",
        "(SUMIF() account_financial_monthly.revenue (>= period (EDATE() (TODAY()) (- 12))))",
    ),
    ("  1\n+\t2 ", "(+ 1 2)"),
]


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_parses(text: str, expected: str) -> None:
    assert sexpr(parse(text)) == expected


ERRORS = [
    # text, code, 1-based column of the problem
    ("", "empty", 1),
    ("   ", "empty", 1),
    ("(1 + 2", "unbalanced", 1),
    ("IF(a, (b)", "unbalanced", 3),
    ("1 + 2)", "syntax", 6),
    ("1 +", "syntax", 4),
    ("IF(a,", "syntax", 6),
    ("a b", "syntax", 3),
    ("a != b", "syntax", 3),
    ("a == b", "syntax", 3),
    ("a && b", "syntax", 3),
    ("'text'", "syntax", 1),
    ('"open', "unterminated_string", 1),
    ("a.", "syntax", 3),
    ("a.1", "syntax", 2),  # ".1" reads as a number right after a name
    ("x in ()", "syntax", 7),
    ("x in 1", "syntax", 6),
    ("1 # 2", "syntax", 3),
    ("AND", "syntax", 1),
    ("f(1,)", "syntax", 5),
]


@pytest.mark.parametrize(("text", "code", "column"), ERRORS)
def test_syntax_errors_have_a_code_and_a_column(text: str, code: str, column: int) -> None:
    with pytest.raises(ExprError) as caught:
        parse(text)
    assert (caught.value.code, caught.value.column) == (code, column)
    assert caught.value.end > caught.value.start


def test_errors_give_a_hint_for_other_languages_spellings() -> None:
    with pytest.raises(ExprError) as caught:
        parse("a != 1")
    assert caught.value.hint == "use <> for 'not equal'"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1" + "+1" * 60_000, "too_long"),  # a 120 KB expression
        ("(" * 500 + "1" + ")" * 500, "too_deep"),
        ("IF(" * 500 + "1" + ")" * 500, "too_deep"),
        ("NOT " * 500 + "x", "too_deep"),
        ("-" * 500 + "1", "too_deep"),
        ("1" + "+1" * 4_000, "too_complex"),
    ],
)
def test_limits_are_clear_errors_not_crashes(text: str, code: str) -> None:
    with pytest.raises(ExprError) as caught:
        parse(text)
    assert caught.value.code == code


def test_limits_can_be_tightened() -> None:
    with pytest.raises(ExprError) as caught:
        parse("((1))", Limits(max_depth=2))
    assert caught.value.code == "too_deep"


def test_hostile_looking_text_is_only_data() -> None:
    assert sexpr(parse('__import__("os")')) == '(__IMPORT__() "os")'
    assert sexpr(parse('"\'; DROP TABLE users; --"')) == '"\'; DROP TABLE users; --"'
    assert sexpr(parse("a.__class__.__mro__")) == "a.__class__.__mro__"


def test_spans_cover_their_source() -> None:
    text = 'IF(score >= 80, "A", "B")'
    for node in walk(parse(text)):
        assert 0 <= node.start < node.end <= len(text)
    comparison = parse(text).args[0]  # type: ignore[union-attr]
    assert text[comparison.start : comparison.end] == "score >= 80"


def test_json_form_round_trips_through_json() -> None:
    tree = to_json(parse('IF(x IN (1, 2.5), "a" & b.c, -NULL)'))
    assert json.loads(json.dumps(tree)) == tree
    assert tree["t"] == "call" and tree["name"] == "IF"
    assert tree["args"][0] == {
        "t": "in",
        "x": {"t": "ref", "path": ["x"], "this": False, "span": [3, 4]},
        "items": [{"t": "num", "v": 1, "span": [9, 10]}, {"t": "num", "v": 2.5, "span": [12, 15]}],
        "not": False,
        "span": [3, 16],
    }


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="()+-*/^&%=<>,.\"abINOTANDRx 0123456789_!'", max_size=80))
def test_any_text_parses_or_gives_an_expr_error(text: str) -> None:
    try:
        node = parse(text)
    except ExprError as error:
        assert error.code and 0 <= error.start <= max(len(text), 1)
    else:
        assert node.end <= len(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_text_parses_or_gives_an_expr_error(text: str) -> None:
    try:
        node = parse(text)
    except ExprError as error:
        assert error.code
    else:
        assert node.end <= len(text)


def test_the_json_form_of_a_long_chain_needs_no_recursion() -> None:
    tree = to_json(parse("1" + "+1" * 2_400))
    depth = 0
    while tree["t"] == "bin":
        tree, depth = tree["l"], depth + 1
    assert depth == 2_400


def test_a_number_beyond_the_double_range_is_an_error() -> None:
    with pytest.raises(ExprError) as caught:
        parse("1E+400 + 1")
    assert (caught.value.code, caught.value.column) == ("number_too_large", 1)
