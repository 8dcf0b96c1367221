"""The operators ``+ - * / ^ %`` and the signs, on numbers and dates.

Numbers are doubles and every operation is the IEEE one Python does, so results agree to the
last bit. Division is always float division and a zero divisor is an error (``NULLIF``). An
overflow is an error: each number carries the bounds of its magnitude, and only an operation
whose bounds could overflow (or underflow, which PostgreSQL also refuses) gets a guard.

Dates: ``date + n`` and ``date - n`` move by ``FLOOR(n)`` days (Python's rule); ``date - date``
is a number of days. A blank date stays unknown, as in Python (``operators.binary_operator``):
``blank_date ± n`` is blank, ``date - date`` with a blank is an error.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engine.expr.nodes import Node
from engine.expr.operands import arithmetic as result_type
from engine.expr.operators import BINARY, UNARY
from engine.expr.types import DATE, NUMBER
from engine.expr.values import ERROR
from engine.storage.expr_sql.conversions import as_number
from engine.storage.expr_sql.dialect import SAFE, Dialect
from engine.storage.expr_sql.values import (
    MAX_FLOAT,
    Bounds,
    Expr,
    Sql,
    blank_test,
    constant,
    error_test,
    not_in_sql,
    number,
    typed,
)

_OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_SAFE_LOW = 1e-300  # a non-zero result this small or larger cannot round to 0


def binary(dialect: Dialect, op: str, left: Sql, right: Sql, where: Node) -> Sql:
    """``left op right`` for ``+ - * / ^``."""
    kind = result_type(op, left.type, right.type)
    if not isinstance(kind, type(NUMBER)):
        raise not_in_sql(where, f"'{op}' on {left.type} and {right.type}")
    dated = (left.type.name == "date", right.type.name == "date")
    if dated == (True, True):
        return _days_between(dialect, left, right)
    if any(dated):
        date, days = (left, right) if dated[0] else (right, left)
        return _move_date(dialect, date, as_number(dialect, days, where), subtract=op == "-")
    a, b = as_number(dialect, left, where), as_number(dialect, right, where)
    if a.literal is not None and b.literal is not None:
        return _folded(BINARY[op](a.literal[0], b.literal[0]))
    if op == "^":
        return _power(dialect, a, b)
    return numeric(dialect, op, a, b)


def unary(dialect: Dialect, op: str, operand: Sql, where: Node) -> Sql:
    """``-x``, ``+x`` and ``x%`` (``NOT`` is in ``logic``)."""
    value = as_number(dialect, operand, where)
    if value.literal is not None:
        return _folded(UNARY[op](value.literal[0]))
    if op == "+":
        return value
    if op == "%":
        return numeric(dialect, "/", value, constant(100.0))
    negated = number(0.0) - value.value  # 0 - x, as Python does (never -0.0)
    return Sql(typed(negated, NUMBER), NUMBER, may_error=value.may_error, bounds=value.bounds)


def _folded(result: object) -> Sql:
    """A literal-only operation, computed once by Python's own rules."""
    if result is ERROR or not isinstance(result, float) or not math.isfinite(result):
        return Sql(typed(sa.null(), NUMBER), NUMBER, may_error=True)
    return constant(result)


def numeric(dialect: Dialect, op: str, a: Sql, b: Sql) -> Sql:
    """``a op b`` for ``+ - * /`` on two numbers, guarded where its bounds could overflow."""
    if dialect.raises_on_overflow and not _safe(op, a.bounds, b.bounds, strict=True):
        a, b = _clamped(dialect, a), _clamped(dialect, b)
    safe = _safe(op, a.bounds, b.bounds, strict=dialect.raises_on_overflow)
    divisor = b.value if op != "/" or (b.literal and b.literal[0]) else sa.func.nullif(b.value, 0)
    raw: Expr = _OPERATIONS[op](a.value, divisor)
    value = raw if safe else dialect.guard(op, a.value, b.value, raw)
    error = a.may_error or b.may_error or not safe or divisor is not b.value
    bounds = _bounds(op, a.bounds, b.bounds) if safe else Bounds()
    return Sql(typed(value, NUMBER), NUMBER, may_error=error, bounds=bounds)


def _clamped(dialect: Dialect, node: Sql) -> Sql:
    if node.stored and not node.bounds.within(SAFE.low, SAFE.high):
        return dialect.clamp(node)
    return node


def _bounds(op: str, a: Bounds, b: Bounds) -> Bounds:
    """The bounds of ``a op b`` (computed in floats: an overflow here is infinity, so unsafe)."""
    if op in ("+", "-"):
        return Bounds(min(a.low, b.low) * 2.0**-53, a.high + b.high)
    if op == "*":
        return Bounds(a.low * b.low, a.high * b.high)
    return Bounds(a.low / b.high if b.high else math.inf, a.high / b.low if b.low else math.inf)


def _safe(op: str, a: Bounds, b: Bounds, *, strict: bool) -> bool:
    """Whether ``a op b`` cannot overflow (nor underflow to 0, when ``strict``)."""
    result = _bounds(op, a, b)
    if not result.high <= MAX_FLOAT / 2:
        return False
    return not strict or op in ("+", "-") or result.low >= _SAFE_LOW


def _power(dialect: Dialect, a: Sql, b: Sql) -> Sql:
    bounds = Bounds()
    if b.literal is not None and float(b.literal[0]).is_integer() and 0 <= b.literal[0] <= 4:
        exponent = int(b.literal[0])
        try:
            bounds = Bounds(a.bounds.low**exponent if a.bounds.low < 1e30 else math.inf, a.bounds.high**exponent)
        except OverflowError:
            bounds = Bounds()
    value = dialect.power(a.value, b.value)
    return Sql(typed(value, NUMBER), NUMBER, may_error=True, bounds=bounds)


def _move_date(dialect: Dialect, date: Sql, days: Sql, *, subtract: bool) -> Sql:
    """``date ± days``: a blank date gives blank, a date outside years 1 to 9999 an error."""
    whole = dialect.floor(number(0.0) - days.value if subtract else days.value)
    value = dialect.add_days(date.value, whole)
    blank_when = None
    if date.may_blank:
        blank_when = sa.and_(blank_test(date), sa.not_(error_test(days))) if days.may_error else blank_test(date)
    return Sql(typed(value, DATE), DATE, may_blank=date.may_blank, may_error=True, blank_when=blank_when)


def _days_between(dialect: Dialect, end: Sql, start: Sql) -> Sql:
    """``end - start`` in days; a blank date makes it an error (as DAYS), in Python too."""
    value = dialect.days_between(end.value, start.value)
    if end.literal == (None,) or start.literal == (None,):
        value = sa.null()
    return Sql(typed(value, NUMBER), NUMBER, may_error=True, bounds=Bounds(1.0, 3.7e6))
