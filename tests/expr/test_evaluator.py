"""The Python backend: operators, precedence, blanks, dates, errors, limits, hostile input, properties."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import ExprError, Limits, check, compile_expression, evaluate, parse
from engine.expr import evaluator as evaluator_module
from engine.expr.scope import Context, DictContext, DictScope
from engine.expr.types import DATE, DATETIME, NUMBER

D = dt.date
RECORD = DictContext(
    {
        "n": 10,
        "price": Decimal("12.50"),
        "name": "Acme",
        "day": D(2024, 1, 31),
        "moment": dt.datetime(2024, 1, 31, 12, 0),
        "items": [{"qty": 2}, {"qty": 3}],
        "team": [{"user": 7}, {"user": 9}],
    },
    user=7,
    clock=dt.datetime(2026, 1, 15, 9, 30),
)

OPERATORS = [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("-2^2", 4.0),  # Excel: the sign binds tighter than ^
    ("-(2^2)", -4.0),
    ("0 - 2^2", -4.0),
    ("2^3^2", 64.0),  # Excel: ^ is left to right
    ("7 - 2 - 1", 4.0),
    ("10 / 4 * 2", 5.0),
    ("50%", 0.5),
    ("10 + 5%", 10.05),
    ("2 * -3", -6.0),
    ("0.1 + 0.2", 0.30000000000000004),
    ("TRUE + TRUE", 2.0),
    ('"3" + 1', 4.0),  # numeric text is read at run time, as in Excel
    ('"a" + 1', None),  # #VALUE!
    ("1/0", None),  # #DIV/0!
    ("1 + 1/0", None),  # an error spreads
    ("1E+308 * 10", None),  # overflow
    ("NULL + 1", 1.0),  # blank is 0 in arithmetic
    ("NULL * 5", 0.0),
    ("-NULL", 0.0),
    ("price * 2", 25.0),  # a Decimal field value is a float
    ('"a" & "b"', "ab"),
    ('"a" & NULL', "a"),
    ("NULL & NULL", ""),
    ("1 & 2", "12"),
    ('1.5 & ""', "1.5"),
    ('1/3 & ""', "0.333333333333333"),  # 15 significant digits, as Excel writes numbers
    ('"x" & TRUE', "xTRUE"),
    ('day & ""', "2024-01-31"),
    ('"a" & 1/0', None),
    ('2 + 3 & "x"', "5x"),
    ("1 = 1", True),
    ('"a" = "A"', True),  # text compares ignoring case, as in Excel
    ('"a" < "B"', True),
    ('"a" = "a "', False),
    ("NULL = 0", True),
    ('NULL = ""', True),
    ("NULL = FALSE", True),
    ("NULL < day", True),  # blank sorts before every date
    ("NULL = day", False),
    ("0.1 + 0.2 = 0.3", True),  # 15 significant digits
    ("TRUE = 1", False),  # Excel: a logical never equals a number
    ("TRUE > 1", True),
    ('1 < "a"', True),  # numbers sort before text
    ('"1" = 1', False),
    ("1/0 = 1", None),
    ("day = DATE(2024, 1, 31)", True),
    ("moment > day", True),
    ("day < TODAY()", True),
    ("TRUE AND NULL", False),
    ("FALSE OR 1", True),
    ("NOT NULL", True),
    ("NOT 0", True),
    ("1 = 1 AND 2 > 1", True),
    ("FALSE AND 1/0", None),  # as AND(FALSE, 1/0) in Excel: every operand is evaluated
    ('NOT "abc"', None),
    ("2 IN (1, 2, 3)", True),
    ("4 NOT IN (1, 2)", True),
    ('"B" IN ("a", "b")', True),
    ("CURRENT_USER() IN (team.user)", True),  # a list item stands for all its values
    ("5 IN (items.qty)", False),
    ("1/0 IN (1)", None),
    ("day + 1", D(2024, 2, 1)),
    ("1 + day", D(2024, 2, 1)),
    ("day - 1", D(2024, 1, 30)),
    ("day + 1.9", D(2024, 2, 1)),  # whole days
    ("day - DATE(2024, 1, 1)", 30.0),
    ("moment - day", 0.5),
    ("moment + 1", dt.datetime(2024, 2, 1, 12, 0)),
    ("day * 2", None),
    ("day + day", None),
    ("DATE(9999, 12, 31) + 1", None),
]


@pytest.mark.parametrize(("formula", "expected"), OPERATORS, ids=[f for f, _ in OPERATORS])
def test_operators(formula: str, expected: Any) -> None:
    result = evaluate(formula, RECORD)
    assert type(result) is type(expected)
    assert result == expected


class Spy:
    """A context that records the paths read."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.inner = DictContext(data)
        self.read: list[tuple[str, ...]] = []

    def value(self, path: Sequence[str]) -> Any:
        self.read.append(tuple(path))
        return self.inner.value(path)

    def rows(self, path: Sequence[str]) -> list[Context]:
        return self.inner.rows(path)

    @property
    def current_user(self) -> Any:
        return None

    @property
    def today(self) -> dt.date:
        return self.inner.today

    @property
    def now(self) -> dt.datetime:
        return self.inner.now


SHORT_CIRCUITS = [
    ("IF(flag, a, b)", {"flag": True, "a": 1, "b": 2}, 1.0, [("flag",), ("a",)]),
    ("IF(flag, a, b)", {"flag": False, "a": 1, "b": 2}, 2.0, [("flag",), ("b",)]),
    ("IFS(flag, a, TRUE, b)", {"flag": True, "a": 1, "b": 2}, 1.0, [("flag",), ("a",)]),
    ("SWITCH(x, 1, a, 2, b)", {"x": 1, "a": 5, "b": 6}, 5.0, [("x",), ("a",)]),
    ("COALESCE(a, b)", {"a": 3, "b": 4}, 3.0, [("a",)]),
]


@pytest.mark.parametrize(("formula", "data", "expected", "read"), SHORT_CIRCUITS)
def test_untaken_branches_are_not_evaluated(
    formula: str, data: dict[str, Any], expected: Any, read: list[tuple[str, ...]]
) -> None:
    spy = Spy(data)
    assert compile_expression(parse(formula))(spy) == expected
    assert spy.read == read


def test_the_untaken_branch_may_divide_by_zero() -> None:
    assert evaluate("IF(n > 5, n, n / 0)", RECORD) == 10.0
    assert evaluate("IF(n < 5, 1 / 0, 2)", RECORD) == 2.0


def test_too_many_steps_is_a_clear_error() -> None:
    rows = DictContext({"items": [{"qty": i} for i in range(1_000)]})
    run = compile_expression(parse("SUM(items.qty)"), Limits(max_steps=500))
    with pytest.raises(ExprError) as caught:
        run(rows)
    assert caught.value.code == "too_many_steps"
    assert "500" in caught.value.message
    assert run(DictContext({"items": [{"qty": 1}]})) == 1.0  # the budget is per run


def test_conditions_per_row_count_steps() -> None:
    rows = DictContext({"items": [{"qty": i} for i in range(1_000)]})
    run = compile_expression(parse("COUNTIF(items, qty > 10 AND qty < 20)"), Limits(max_steps=2_000))
    with pytest.raises(ExprError) as caught:
        run(rows)
    assert caught.value.code == "too_many_steps"


def test_compiled_once_and_run_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    run = compile_expression(parse('IF(n > 5, ROUND(n * 1.5, 0), 0) & " units"'))

    def no_compiling(node: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(evaluator_module, "_compile", no_compiling)
    assert [run(DictContext({"n": n})) for n in (1, 7)] == ["0 units", "11 units"]


def test_long_chains_run_without_deep_recursion() -> None:
    assert evaluate("1" + "+1" * 2_400) == 2_401.0
    assert evaluate("-" * 60 + "1") == 1.0
    assert evaluate("100" + "%" * 3_000) == 0.0


def test_values_from_a_context_become_floats() -> None:
    context = DictContext({"d": Decimal("0.1"), "i": 3, "rows": [{"x": Decimal("1.5")}, {"x": 2}]})
    assert evaluate("d", context) == 0.1 and type(evaluate("d", context)) is float
    assert evaluate("i", context) == 3.0 and type(evaluate("i", context)) is float
    assert evaluate("rows.x", context) == [1.5, 2.0]


def test_a_bare_this_is_the_record_id() -> None:
    assert evaluate("THIS", DictContext({"id": 42})) == 42


def test_evaluate_checks_against_a_scope_first() -> None:
    scope = DictScope({"n": NUMBER})
    assert evaluate("n * 2", DictContext({"n": 4}), scope=scope) == 8.0
    with pytest.raises(ExprError) as caught:
        evaluate("nn * 2", DictContext({"n": 4}), scope=scope)
    assert (caught.value.code, caught.value.hint) == ("unknown_name", "did you mean 'n'?")


DATED = DictScope({"start": DATE, "end": DATE, "stamp": DATETIME, "n": NUMBER, "items": DictScope({"on": DATE})})
BLANK_DATES = [  # (formula, record, result): a blank date is an unknown date, not day 0 (types.py)
    ("start + 30", {}, None),
    ("start + 30", {"start": D(2024, 1, 31)}, D(2024, 3, 1)),
    ("30 + start", {}, None),
    ("start - 1 + 1", {}, None),  # still a blank date along the chain
    ("start + n", {}, None),
    ("start + n", {"start": D(2024, 1, 31)}, D(2024, 1, 31)),  # a blank number of days is 0
    ("n + 1", {}, 1.0),  # a blank number counts as 0, as in Excel
    ("stamp + 0.5", {}, None),
    ("end - start", {"end": D(2024, 1, 31)}, None),  # an error: days from an unknown date
    ("end - start", {"start": D(2024, 1, 31)}, None),
    ("(end - start) + 1", {"end": D(2024, 1, 31)}, None),  # ... not 0 + 1
    ("ISBLANK(end - start)", {"end": D(2024, 1, 31)}, False),  # an error, not a blank (as DAYS)
    ("ISBLANK(start + 30)", {}, True),
    ("COALESCE(end - start, 0)", {"end": D(2024, 1, 31)}, 0.0),
    ("stamp - start", {"start": D(2024, 1, 1)}, None),
    ("DAYS(TODAY(), start)", {}, None),
    ("MAX(items.on) + 7", {"items": []}, None),  # no dates: no last date, so no date a week after
    ("MAX(items.on) + 7", {"items": [{"on": D(2024, 1, 1)}]}, D(2024, 1, 8)),
    ("start + 1/0", {}, None),
    ("ISBLANK(start + 1/0)", {}, False),  # an error stays an error
]


@pytest.mark.parametrize(("formula", "data", "expected"), BLANK_DATES)
def test_a_blank_date_stays_unknown(formula: str, data: dict[str, Any], expected: Any) -> None:
    assert evaluate(formula, DictContext(data), scope=DATED) == expected  # checked, then run


def test_a_blank_date_plus_a_bad_number_is_an_error() -> None:
    run = compile_expression(parse('ISBLANK(start + "x")'), scope=DATED)  # the checker refuses it
    assert run(DictContext({})) is False


def test_without_a_scope_only_the_expression_types_its_blanks() -> None:
    assert evaluate("start + 30") == 30.0  # start's type is unknown: Excel's blank, 0
    assert evaluate("IF(FALSE, TODAY()) + 30") == 30.0  # IF(..., date) gives FALSE here: a number
    assert evaluate("IF(FALSE, TODAY(), NULL) + 30") is None  # a date or blank: a blank date


def test_evaluate_without_a_context_uses_an_empty_record() -> None:
    assert evaluate("ISBLANK(anything)") is True


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("FOO(1)", "unknown_function"),
        ("ROUND(1)", "wrong_arity"),
        ('__import__("os")', "unknown_function"),
        ('__import__("os").system("ls")', "syntax"),
        ("eval(1)", "unknown_function"),
        ("1" * 20_000, "too_long"),
    ],
)
def test_hostile_or_broken_calls_are_expression_errors(formula: str, code: str) -> None:
    with pytest.raises(ExprError) as caught:
        evaluate(formula)
    assert caught.value.code == code


class Secret:
    """A Python object in a record: its attributes must stay out of reach."""

    def __init__(self) -> None:
        self.touched = False

    @property
    def password(self) -> str:
        self.touched = True
        return "hunter2"


def test_paths_never_read_python_attributes() -> None:
    secret = Secret()
    context = DictContext({"obj": secret, "rows": [secret]})
    for formula in ("obj.password", "obj.__class__", "obj.__class__.__mro__", "rows.password", "obj.__dict__"):
        assert evaluate(formula, context) in (None, [None])
    assert secret.touched is False


def test_sql_looking_text_is_only_text() -> None:
    injection = "'; DROP TABLE users; --"
    assert evaluate(f'"{injection}"') == injection
    assert evaluate("name = \"x' OR '1'='1\"", DictContext({"name": "Acme"})) is False


def test_runaway_text_growth_is_stopped() -> None:
    formula = '"aaaaaaaaaa"'
    for _ in range(8):
        formula = f'SUBSTITUTE({formula}, "a", "aaaaaaaaaa")'
    with pytest.raises(ExprError) as caught:
        evaluate(formula)
    assert caught.value.code == "too_long"


# -- properties ---------------------------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gives_a_value_or_an_expr_error(text: str) -> None:
    try:
        evaluate(text, RECORD)
    except ExprError as error:
        assert error.code


def _number_literal(value: float) -> str:
    return repr(value)


LEAVES = st.one_of(
    st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False).map(_number_literal),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["a", "b", "c", "NULL", "(TRUE + 0)"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map(
        lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"
    )
    unary = st.tuples(st.sampled_from(["-", "+"]), children).map(lambda parts: f"{parts[0]}({parts[1]})")
    percent = children.map(lambda x: f"({x})%")
    one = st.tuples(
        st.sampled_from(["ABS", "SQRT", "INT", "CEILING", "FLOOR", "SUM", "AVERAGE", "MIN", "MAX"]), children
    )
    two = st.tuples(
        st.sampled_from(["ROUND", "ROUNDUP", "ROUNDDOWN", "MOD", "POWER", "CEILING", "FLOOR"]), children, children
    )
    branch = st.tuples(children, st.sampled_from(["<", "<=", "=", "<>", ">", ">="]), children, children, children)
    return st.one_of(
        binary,
        unary,
        percent,
        one.map(lambda parts: f"{parts[0]}({parts[1]})"),
        two.map(lambda parts: f"{parts[0]}({parts[1]}, {parts[2]})"),
        branch.map(lambda p: f"IF({p[0]} {p[1]} {p[2]}, {p[3]}, {p[4]})"),
    )


ARITHMETIC = st.recursive(LEAVES, _combine, max_leaves=25)
NUMBERS = st.one_of(
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
)
SCOPE = DictScope({"a": NUMBER, "b": NUMBER, "c": NUMBER})


@settings(max_examples=400, deadline=None)
@given(ARITHMETIC, NUMBERS, NUMBERS, NUMBERS)
def test_well_typed_arithmetic_never_raises(formula: str, a: Any, b: Any, c: Any) -> None:
    node = parse(f"0 + {formula}")
    found, errors = check(node, SCOPE, expect=NUMBER)
    assert errors == [] and found == NUMBER
    result = compile_expression(node)(DictContext({"a": a, "b": b, "c": c}))
    assert result is None or (type(result) is float and math.isfinite(result))


ANY_ARGUMENT = st.sampled_from(
    [
        "n",
        "price",
        "name",
        "day",
        "moment",
        "items",
        "items.qty",
        "team.user",
        "missing",
        "NULL",
        "TRUE",
        "0",
        "-1",
        "2.5",
        "1E+300",
        '""',
        '"abc"',
        '"2024-02-29"',
        '"Y"',
        "1/0",
        "DATE(2024, 2, 29)",
        "NOW()",
        "qty > 1",
    ]
)


@st.composite
def _any_call(draw: st.DrawFn) -> str:
    from engine.expr.functions import FUNCTIONS

    function = FUNCTIONS[draw(st.sampled_from(sorted(FUNCTIONS)))]
    most = function.max_args if function.max_args is not None else function.min_args + 4
    count = draw(st.integers(min_value=function.min_args, max_value=most).filter(function.accepts_count))
    return f"{function.name}({', '.join(draw(ANY_ARGUMENT) for _ in range(count))})"


@settings(max_examples=1_500, deadline=None)
@given(_any_call())
def test_any_function_with_any_values_gives_a_value(formula: str) -> None:
    result = evaluate(formula, RECORD)
    assert result is None or isinstance(result, float | str | bool | dt.date | list)
