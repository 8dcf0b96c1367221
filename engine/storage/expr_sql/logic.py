"""Choices and conditions: IF IFS SWITCH IN BAND COALESCE ISBLANK, AND OR XOR NOT, MIN MAX SUM.

A choice is a chain of simple ``CASE truth WHEN TRUE THEN ... WHEN FALSE THEN ... END``: the
condition is written once, a NULL condition (an error) falls through to NULL, and only the chosen
branch counts, as Python evaluates only the branch it takes. ``AND``/``OR`` evaluate every
argument as Excel does, so an error in any is an error: when an argument can be one, they are
computed on 0/1 integers (``a * b = 1``), where NULL spreads, instead of SQL's three-valued logic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from engine.expr import values as python
from engine.expr.nodes import Call, Node
from engine.expr.operands import merge
from engine.expr.types import BLANK, BOOLEAN, NUMBER, Type
from engine.storage.expr_sql.arithmetic import numeric
from engine.storage.expr_sql.conversions import as_logical, as_number, compare
from engine.storage.expr_sql.dialect import Dialect, Env
from engine.storage.expr_sql.values import (
    Bounds,
    Expr,
    Sql,
    any_error,
    blank_test,
    constant,
    filled,
    not_in_sql,
    typed,
    value_as,
)


def unify(nodes: Sequence[Sql], where: Node) -> Type:
    """The one type of the results (blank fits every type)."""
    common = BLANK
    for node in nodes:
        merged = merge(common, node.type)
        if merged is None:
            raise not_in_sql(where, f"a result that is {common} in one case and {node.type} in another")
        common = merged
    return common


@dataclass(frozen=True, slots=True)
class Test:
    """A condition: its SQL (NULL is an error), whether it can be one, and its value when known."""

    sql: Expr
    may_error: bool
    known: bool | None = None


def truth(node: Sql, where: Node) -> Test:
    """``node`` as a condition (blank is FALSE, a number is TRUE unless 0)."""
    if node.literal is not None:
        logical = python.to_logical(node.literal[0])
        if logical is python.ERROR:  # "abc" as a condition
            return Test(sa.null(), True)
        return Test(as_logical(node, where), False, logical is True)
    return Test(as_logical(node, where), node.may_error)


def test_of(node: Sql) -> Test:
    """A boolean result (a comparison) as a condition."""
    known = node.literal[0] if node.literal is not None and isinstance(node.literal[0], bool) else None
    return Test(node.value, node.may_error, known)


def choose(cases: Sequence[tuple[Test, Sql]], otherwise: Sql | None, where: Node) -> Sql:
    """The value of the first case whose test is TRUE (an error test is an error), else ``otherwise``.

    ``otherwise`` None means that no case holding is an error (IFS, SWITCH without a default).
    """
    live: list[tuple[Test, Sql]] = []
    for test, result in cases:  # a condition known at compile time decides there
        if test.known is True:
            otherwise = result
            break
        if test.known is None:
            live.append((test, result))
    results = [result for _, result in live] + ([otherwise] if otherwise is not None else [])
    kind = unify(results, where)
    if not live:
        return otherwise if otherwise is not None else Sql(typed(sa.null(), kind), kind, may_error=True)
    may_blank = any(result.may_blank for result in results)
    may_error = otherwise is None or any(r.may_error for r in results) or any(t.may_error for t, _ in live)
    fallback = value_as(otherwise, kind) if otherwise is not None else None  # typed: a NULL branch too
    value = _chain([(t.sql, value_as(r, kind)) for t, r in live], fallback)
    blank_when = None
    if may_blank and may_error:
        fallback = blank_test(otherwise) if otherwise is not None else sa.false()
        blank_when = sa.func.coalesce(_chain([(t.sql, blank_test(r)) for t, r in live], fallback), sa.false())
    bounds = _union([result.bounds for result in results])
    return Sql(typed(value, kind), kind, may_blank, may_error, blank_when, bounds)


def _chain(cases: Sequence[tuple[Expr, Expr]], otherwise: Expr | None) -> Expr:
    """``CASE t1 WHEN TRUE THEN v1 WHEN FALSE THEN (CASE t2 ...) END``: each test written once."""
    rest: Expr | None = otherwise
    for test, chosen in reversed(cases):
        whens = {True: chosen} if rest is None else {True: chosen, False: rest}
        rest = sa.case(whens, value=test)
    return rest if rest is not None else sa.null()


def _union(bounds: Sequence[Bounds]) -> Bounds:
    found = Bounds(math.inf, 0.0)
    for each in bounds:
        found = found.union(each)
    return found


def if_(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """IF: only the chosen branch counts; a missing ``value_if_false`` is FALSE."""
    otherwise = args[2] if len(args) > 2 else constant(False)
    return choose([(truth(args[0], call.args[0]), args[1])], otherwise, call)


def ifs(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """IFS: the first true condition's value; none true is an error."""
    pairs = [(truth(args[i], call.args[i]), args[i + 1]) for i in range(0, len(args), 2)]
    return choose(pairs, None, call)


def switch(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """SWITCH: the result of the first value equal to the expression, else the default, else an error."""
    pairs = len(args) - 1
    dialect = env.dialect
    cases = [(_equal(dialect, args[0], args[i], call), args[i + 1]) for i in range(1, pairs - pairs % 2 + 1, 2)]
    return choose(cases, args[-1] if pairs % 2 else None, call)


def _equal(dialect: Dialect, left: Sql, right: Sql, where: Node) -> Test:
    return test_of(compare(dialect, "=", left, right, where))


def in_list(dialect: Dialect, operand: Sql, items: Sequence[Sql], negated: bool, where: Node) -> Sql:
    """``x IN (a, b)``: items in order, an error before a match is an error."""
    cases = [(_equal(dialect, operand, item, where), constant(not negated)) for item in items]
    return choose(cases, constant(negated), where)


def band(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """BAND: every argument is evaluated (an error in any is an error), then the first threshold reached."""
    dialect, subject, rest = env.dialect, args[0], args[1:]
    pairs = len(rest) - len(rest) % 2
    cases = [(test_of(compare(dialect, ">=", subject, rest[i], call)), rest[i + 1]) for i in range(0, pairs, 2)]
    default = rest[-1] if len(rest) % 2 else None
    errors = any_error(args)
    if errors is None:
        return choose(cases, default, call)
    return choose([(Test(sa.not_(errors), False), choose(cases, default, call))], None, call)


def coalesce(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """COALESCE: the first value neither blank nor an error, else blank (never an error)."""
    kind = unify(args, call)
    present = [arg for arg in args if arg.literal != (None,)]
    if not present:
        return constant(None)
    values = [value_as(arg, kind) for arg in present]
    value = values[0] if len(values) == 1 else sa.func.coalesce(*values)
    bounds = _union([arg.bounds for arg in present])
    return Sql(typed(value, kind), kind, may_blank=True, bounds=bounds)


def isblank(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """ISBLANK: TRUE for blank only (FALSE for an error)."""
    return Sql(typed(blank_test(args[0]), BOOLEAN), BOOLEAN)


def logical(kind: str, args: Sequence[Sql], nodes: Sequence[Node]) -> Sql:
    """AND, OR or XOR of conditions (blank is FALSE; an error in any argument is an error)."""
    truths = [as_logical(arg, node) for arg, node in zip(args, nodes, strict=True)]
    may_error = any(arg.may_error for arg in args)
    if kind == "XOR" or may_error:
        ones = [sa.cast(t, sa.Integer()) for t in truths]
        if kind == "AND":
            test = _product(ones) == 1
        elif kind == "OR":
            test = _total(ones) > 0
        else:
            test = _total(ones) % 2 == 1
    else:
        test = sa.and_(*truths) if kind == "AND" else sa.or_(*truths)
    return Sql(typed(test, BOOLEAN), BOOLEAN, may_error=may_error)


def _product(values: Sequence[Expr]) -> Expr:
    result = values[0]
    for value in values[1:]:
        result = result * value
    return result


def _total(values: Sequence[Expr]) -> Expr:
    result = values[0]
    for value in values[1:]:
        result = result + value
    return result


def not_(node: Sql, where: Node) -> Sql:
    """NOT: TRUE for FALSE and blank."""
    return Sql(typed(sa.not_(as_logical(node, where).self_group()), BOOLEAN), BOOLEAN, may_error=node.may_error)


def sum_(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """SUM of single values: blanks count as 0, TRUE as 1."""
    dialect = env.dialect
    numbers = [as_number(dialect, arg, node) for arg, node in zip(args, call.args, strict=True)]
    total = numbers[0]
    for each in numbers[1:]:
        total = numeric(dialect, "+", total, each)
    return total


def extreme(env: Env, call: Call, args: Sequence[Sql], pick: str) -> Sql:
    """MIN or MAX of single numbers or dates: blanks are skipped; none at all gives blank."""
    dialect, kind = env.dialect, unify(args, call)
    if kind.name not in ("number", "date", "boolean", "blank"):
        raise not_in_sql(call, f"{call.name} of {kind}")
    kind = NUMBER if kind.name in ("boolean", "blank") else kind
    present = [(arg, node) for arg, node in zip(args, call.args, strict=True) if arg.literal != (None,)]
    values = [_contender(dialect, arg, kind, node) for arg, node in present]
    if not values:
        return constant(None)
    result_kind = values[0].type
    if len(values) == 1:
        return values[0]
    sentinel = dialect.sentinel(result_kind.name, pick)
    contenders = [filled(v, sentinel) for v in values]
    value: Expr = sa.func.nullif(dialect.extreme(contenders, pick), sentinel)
    errors = any_error(values)
    if errors is not None and dialect.extremes_skip_null:
        value = sa.case((errors, sa.null()), else_=value)
    may_blank = all(v.may_blank for v in values)
    may_error = errors is not None
    blank_when = sa.and_(*(blank_test(v) for v in values)) if may_blank and may_error else None
    bounds = _union([v.bounds for v in values])
    return Sql(typed(value, result_kind), result_kind, may_blank, may_error, blank_when, bounds)


def _contender(dialect: Dialect, node: Sql, kind: Type, where: Node) -> Sql:
    """An argument of MIN/MAX as a value of ``kind``: TRUE is 1; a blank stays blank (it is skipped)."""
    if node.type.name == "blank":
        return Sql(value_as(node, kind), kind, node.may_blank, node.may_error, node.blank_when)
    if node.type.name != "boolean":
        return node
    number = as_number(dialect, node, where)
    if not node.may_blank:
        return number
    blank = blank_test(node)
    value = sa.case((blank, sa.null()), else_=number.value)
    both = node.may_error
    return Sql(typed(value, NUMBER), NUMBER, True, both, blank if both else None, Bounds.of(1.0))
