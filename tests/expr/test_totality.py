"""Every function and operator is total: hand-built trees (which skip the parser and the checker)
with infinities, NaN, a bare ``THIS`` or a non-list where a list belongs give a value or blank,
and no exception escapes but the language's own ``ExprError`` (a breached limit).

The parser refuses ``1E999`` and the checker refuses ``SUMIF(THIS, ...)``, but a tree can be
built by hand (the builder, a stored JSON AST, a test), and a context may hold any value.
A number beyond the doubles in a tree is an error, as an overflow is (``types.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expr import ExprError, Limits, compile_expression, parse
from engine.expr.functions import FUNCTIONS, Function
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary
from engine.expr.operators import BINARY, UNARY
from engine.expr.scope import DictContext
from engine.expr.values import ERROR, compare, equals, general, to_text

NON_FINITE = (Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN"))
ROWS = [{"qty": 2, "amount": 10.5, "day": dt.date(2024, 2, 29)}, {"qty": None, "amount": math.inf}]
DATA = {
    "id": 7,
    "n": 3.0,
    "inf": math.inf,
    "nan": math.nan,
    "huge": 10**400,
    "dnan": Decimal("NaN"),
    "snan": Decimal("sNaN"),
    "text": "abc",
    "day": dt.date(2024, 2, 29),
    "items": ROWS,
    "tags": ["a", math.nan, None],
    "account": {"tier": "gold", "items": ROWS},
}
RECORD = DictContext(DATA)


def lit(value: Any) -> Literal:
    return Literal(value, 0, 1)


def ref(*path: str, this: bool = False) -> Ref:
    return Ref(tuple(path), 0, 1, this)


def call(name: str, *args: Node) -> Call:
    return Call(name, tuple(args), 0, 1)


# Arguments of every kind a hand-built tree can hold, the language's and the odd ones.
ORDINARY: list[Node] = [
    lit(Decimal("2")),
    lit(Decimal("-1.5")),
    lit(None),
    lit("abc"),
    lit("Y"),
    lit(True),
    call("TODAY"),
    ref("n"),
    ref("text"),
    ref("day"),
    ref("items"),
    ref("items", "qty"),
    ref("qty"),
]
ODD: list[Node] = [
    *(lit(value) for value in NON_FINITE),
    ref(this=True),
    ref("inf"),
    ref("nan"),
    ref("huge"),
    ref("dnan"),
    ref("snan"),
    ref("tags"),
    ref("account"),
    ref("account", "items", "amount"),
    ref("missing", "deeper"),
    call("POWER", lit(Decimal("10")), lit(Decimal("400"))),
]


def counts(function: Function) -> list[int]:
    """The argument counts a call of ``function`` may have (up to two repeats past the least)."""
    most = function.max_args if function.max_args is not None else function.min_args + 3
    return [count for count in range(function.min_args, most + 1) if function.accepts_count(count)]


def clean(result: Any) -> bool:
    """Whether ``result`` is a value the evaluator may hand out (never an infinity or NaN)."""
    if isinstance(result, float):
        return math.isfinite(result)
    if isinstance(result, list):
        return all(item is None or clean(item) or not isinstance(item, float) for item in result)
    return result is None or isinstance(result, str | bool | int | dt.date | dict | DictContext)


def run(node: Node, context: DictContext = RECORD) -> Any:
    """The evaluator's result; an ``ExprError`` (a limit) is allowed, any other exception fails."""
    try:
        return compile_expression(node, Limits(max_steps=20_000))(context)
    except ExprError as error:
        return error


# -- infinities and NaN in every position of every function ------------------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_total_on_infinities_and_nan(name: str) -> None:
    function = FUNCTIONS[name]
    for count in counts(function):
        for position, odd in itertools.product(range(count), ODD):
            for filler in (ORDINARY[0], ORDINARY[3], ORDINARY[9]):
                args = [filler] * count
                args[position] = odd
                result = run(call(name, *args))
                assert isinstance(result, ExprError) or clean(result), (name, position, odd, result)
                if isinstance(odd, Literal) and not function.lazy:
                    assert result is None, (name, position, odd, result)  # an error argument: an error


@pytest.mark.parametrize("value", NON_FINITE)
def test_every_operator_gives_an_error_for_a_non_finite_literal(value: Decimal) -> None:
    for op, other in itertools.product(BINARY, ORDINARY):
        for left, right in ((lit(value), other), (other, lit(value))):
            assert run(Binary(op, left, right, 0, 1)) is None, (op, left, right)
    for op in UNARY:
        assert run(Unary(op, lit(value), 0, 1)) is None, op
    assert run(InList(lit(value), (lit(Decimal("1")),), 0, 1)) is None
    assert run(InList(lit(Decimal("1")), (lit(value),), 0, 1)) is None
    assert run(parse('POWER(10, 400) & ""')) is None  # an overflow, written as text: an error too


def test_the_value_helpers_are_total_on_infinities_and_nan() -> None:
    for number in (math.inf, -math.inf, math.nan):
        assert general(number) == "#NUM!" and to_text(number) == "#NUM!"
        assert compare(number, 1.0) is None and not equals(number, 1.0)
    assert compare(math.inf, math.inf) == 0


def test_the_implementations_are_total_on_infinities_and_nan() -> None:
    """Called directly, an implementation gives a value or raises what the evaluator turns into an error."""
    ordinary = [2.0, None, "abc", "Y", True, dt.date(2024, 2, 29), [1.0, None, "x"]]
    for function in FUNCTIONS.values():
        if function.lazy or function.needs_context:
            continue
        for count in counts(function):
            for position, odd in itertools.product(range(count), (math.inf, -math.inf, math.nan)):
                for filler in ordinary:
                    args = [filler] * count
                    args[position] = odd
                    # the registry's contract: what it may raise, the evaluator turns into ERROR
                    with contextlib.suppress(ArithmeticError, ValueError, TypeError, ExprError):
                        function.implementation(*args)


# -- aggregates given one record or one value, not rows -----------------------------------------

AGGREGATES = ["SUMIF", "AVERAGEIF", "MAXIF", "MINIF", "COUNTIF"]
NOT_ROWS = [ref(this=True), ref("n"), ref("n", this=True), ref("text"), lit(Decimal("1")), ref("missing")]


@pytest.mark.parametrize("name", AGGREGATES)
@pytest.mark.parametrize("source", NOT_ROWS, ids=repr)
def test_an_aggregate_of_one_value_has_no_rows(name: str, source: Node) -> None:
    result = run(call(name, source, ref("qty")))
    assert result == {"SUMIF": 0.0, "COUNTIF": 0.0}.get(name), (name, source, result)
    if name == "COUNTIF":
        assert run(call(name, source)) == 0.0


def test_a_bare_this_leads_to_no_rows_in_any_context() -> None:
    assert DictContext({"id": 1}).rows(()) == []
    assert run(parse("SUMIF(THIS, TRUE) + COUNTIF(THIS, TRUE) + COUNTIF(THIS)")) == 0.0
    assert run(parse("ISBLANK(MAXIF(THIS, TRUE))")) is True


# -- random hand-built trees -----------------------------------------------------------------------

LEAVES = st.sampled_from([*ORDINARY, *ODD])


@st.composite
def _calls(draw: st.DrawFn, children: st.SearchStrategy[Node]) -> Node:
    function = FUNCTIONS[draw(st.sampled_from(sorted(FUNCTIONS)))]
    count = draw(st.sampled_from(counts(function)))
    return call(function.name, *(draw(children) for _ in range(count)))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        _calls(children),
        st.builds(lambda op, a, b: Binary(op, a, b, 0, 1), st.sampled_from(sorted(BINARY)), children, children),
        st.builds(lambda op, a: Unary(op, a, 0, 1), st.sampled_from(sorted(UNARY)), children),
        st.builds(lambda a, items: InList(a, tuple(items), 0, 1), children, st.lists(children, min_size=1, max_size=3)),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=1_500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_any_hand_built_tree_gives_a_value_or_an_expr_error(tree: Node) -> None:
    result = run(tree)
    assert isinstance(result, ExprError) or clean(result), result
    assert result is not ERROR
