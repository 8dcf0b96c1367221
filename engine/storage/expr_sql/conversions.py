"""How values change kind in SQL (to number, text, condition) and how they compare, as ``values.py`` says.

Comparisons follow ``engine.expr.values.compare``: numbers on 15 significant digits, text ignoring
case (``lower()``, ordered by code point), a blank equal to 0, "" and FALSE and before every date,
values of different kinds ordered numbers < text < TRUE/FALSE (dates count as serial numbers).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.expr import values as python
from engine.expr.nodes import Node
from engine.expr.types import BOOLEAN, NUMBER, TEXT, Type
from engine.storage.expr_sql.dialect import EPOCH, OPERATORS, Dialect, compared, floating
from engine.storage.expr_sql.values import (
    Bounds,
    Expr,
    Sql,
    blank_test,
    constant,
    error_test,
    filled,
    not_in_sql,
    number,
    typed,
)

_RANK = {"number": 0, "date": 0, "text": 1, "boolean": 2}
_OPAQUE = frozenset({"user", "record", "department"})


def as_number(dialect: Dialect, node: Sql, where: Node) -> Sql:
    """``node`` for arithmetic: blank is 0, TRUE is 1; an error stays NULL."""
    if node.literal is not None:
        known = python.to_number(node.literal[0])
        if known is not None:
            return constant(known)
    kind = node.type.name
    if kind in ("number", "blank"):
        value, bounds = filled(node, number(0.0)), node.bounds
    elif kind == "boolean":
        value, bounds = floating(sa.cast(filled(node, sa.false()), sa.Integer())), Bounds.of(1.0)
    else:
        raise not_in_sql(where, f"{node.type} used as a number")
    return Sql(
        typed(value, NUMBER), NUMBER, may_error=node.may_error, bounds=bounds, simple=node.simple, stored=node.stored
    )


def as_logical(node: Sql, where: Node) -> Expr:
    """``node`` as a condition (NULL is an error): blank is FALSE, a number is TRUE unless 0."""
    kind = node.type.name
    if node.literal is not None:
        logical = python.to_logical(node.literal[0])
        return sa.null() if logical is python.ERROR else sa.true() if logical else sa.false()
    if kind == "boolean":
        return filled(node, sa.false())
    if kind == "number":
        return filled(node, number(0.0)) != 0
    if kind == "blank":
        return sa.type_coerce(filled(node, sa.false()), sa.Boolean())
    raise not_in_sql(where, f"{node.type} used as a condition")


def as_text(dialect: Dialect, node: Sql, where: Node) -> Sql:
    """``node`` as text for ``&`` and text functions: blank is "", numbers in Excel's General format."""
    if node.literal is not None:
        return constant(python.to_text(node.literal[0]))
    kind = node.type.name
    if kind in ("text", "blank"):
        return Sql(typed(filled(node, sa.literal("", sa.Text())), TEXT), TEXT, may_error=node.may_error)
    if kind == "number":
        written = dialect.number_text(node.value)
    elif kind == "boolean":
        written = sa.case(
            {True: sa.literal("TRUE", sa.Text()), False: sa.literal("FALSE", sa.Text())}, value=node.value
        )
    elif kind == "date":
        written = dialect.date_text(node.value)
    else:
        raise not_in_sql(where, f"{node.type} written as text")
    empty = sa.literal("", sa.Text())
    if node.may_blank:
        written = (
            sa.func.coalesce(written, empty)
            if node.blank_when is None
            else sa.case((node.blank_when, empty), else_=written)
        )
    return Sql(typed(written, TEXT), TEXT, may_error=node.may_error)


def compare(dialect: Dialect, op: str, left: Sql, right: Sql, where: Node) -> Sql:
    """``left op right`` for ``= <> < <= > >=`` (never blank; an error when an operand is one)."""
    if left.literal is not None and right.literal is not None:
        order = python.compare(left.literal[0], right.literal[0])
        return constant(OPERATORS[op](order, 0)) if order is not None else _error_boolean()
    kinds = {left.type.name, right.type.name} - {"blank"}
    if kinds & _OPAQUE:
        return _identity(op, left, right, where)
    if len(kinds) <= 1:
        kind = next(iter(kinds), "number")
        test = _same_kind(dialect, op, kind, _fill(dialect, left, kind), _fill(dialect, right, kind))
    else:
        test = _mixed(dialect, op, left, right)
    return Sql(typed(test, BOOLEAN), BOOLEAN, may_error=left.may_error or right.may_error)


def _error_boolean() -> Sql:
    return Sql(typed(sa.null(), BOOLEAN), BOOLEAN, may_error=True)


def _neutral(dialect: Dialect, kind: str) -> Expr:
    """What a blank stands for next to a value of ``kind``."""
    if kind == "text":
        return sa.literal("", sa.Text())
    if kind == "boolean":
        return sa.literal(False, sa.Boolean())
    if kind == "date":
        return dialect.date_literal(EPOCH)
    return number(0.0)


def _fill(dialect: Dialect, node: Sql, kind: str) -> Sql:
    if node.literal == (None,):
        return _fill_blank(dialect, kind)
    value = filled(node, _neutral(dialect, kind))
    return Sql(value, Type(kind), may_error=node.may_error, literal=node.literal)


def _neutral_literal(kind: str) -> tuple[Any] | None:
    return {"number": (0.0,), "text": ("",), "boolean": (False,)}.get(kind)


def _same_kind(dialect: Dialect, op: str, kind: str, left: Sql, right: Sql) -> Expr:
    if kind == "number":
        literal = right.literal or left.literal
        if literal is not None and isinstance(literal[0], float):
            column, flipped = (left, op) if right.literal else (right, _FLIP[op])
            return _against_literal(flipped, column.value, literal[0])
        return dialect.compare_numbers(op, left.value, right.value)
    if kind == "text":
        return compared(op, dialect.text_key(left.value), dialect.text_key(right.value))
    return compared(op, left.value, right.value)


_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _against_literal(op: str, column: Expr, literal: float) -> Expr:
    """``column op literal`` on 15 digits, as plain comparisons with the literal's rounding interval.

    Every double whose 15-digit form equals the literal's lies in ``[low, high]``, so the database
    compares the raw value (an index can serve it) and no rounding runs per row.
    """
    low, high = sig15_interval(literal)
    if op == "=":
        return column.between(number(low), number(high))
    if op == "<>":
        return sa.not_(column.between(number(low), number(high)))
    bound = {"<": low, ">=": low, "<=": high, ">": high}[op]
    return compared(op, column, number(bound))


def _ordered(value: float) -> int:
    bits: int = struct.unpack("<q", struct.pack("<d", abs(value)))[0]
    return -bits if math.copysign(1.0, value) < 0 else bits


def _unordered(key: int) -> float:
    magnitude: float = struct.unpack("<d", struct.pack("<q", abs(key)))[0]
    return -magnitude if key < 0 else magnitude


def sig15_interval(literal: float) -> tuple[float, float]:
    """The smallest and largest doubles whose 15 significant digits are those of ``literal``."""
    target = Decimal(f"{literal:.15g}")
    centre = _ordered(float(target))

    def same(key: int) -> bool:
        return Decimal(f"{_unordered(key):.15g}") == target

    def edge(step: int) -> int:
        inside, outside = centre, centre + step
        while same(outside):  # widen until outside the interval (a few steps at most)
            inside, outside = outside, outside + (outside - centre)
        while abs(outside - inside) > 1:
            middle = (inside + outside) // 2
            inside, outside = (middle, outside) if same(middle) else (inside, middle)
        return inside

    low, high = _unordered(edge(-(2**12))), _unordered(edge(2**12))
    return (0.0, 0.0) if target == 0 else (low, high)


def _mixed(dialect: Dialect, op: str, left: Sql, right: Sql) -> Expr:
    """Values of two kinds: a blank takes the other's neutral value; else kinds order by rank."""
    a, b = left.type.name, right.type.name
    both = sa.and_(blank_test(left), blank_test(right))
    a_blank = _same_kind(dialect, op, b, _fill_blank(dialect, b), _fill(dialect, right, b))
    b_blank = _same_kind(dialect, op, a, _fill(dialect, left, a), _fill_blank(dialect, a))
    if {a, b} == {"number", "date"}:
        left_number = dialect.serial(left.value) if a == "date" else left.value
        right_number = dialect.serial(right.value) if b == "date" else right.value
        apart = dialect.compare_numbers(op, left_number, right_number)
    else:
        apart = sa.true() if OPERATORS[op](_RANK[a], _RANK[b]) else sa.false()
    errors = [error_test(node) for node in (left, right) if node.may_error]
    return sa.case(
        *([(sa.or_(*errors), sa.null())] if errors else []),  # the constant arms below would hide an error
        (both, sa.true() if OPERATORS[op](0, 0) else sa.false()),
        (blank_test(left), a_blank),
        (blank_test(right), b_blank),
        else_=apart,
    )


def _fill_blank(dialect: Dialect, kind: str) -> Sql:
    return Sql(_neutral(dialect, kind), Type(kind), literal=_neutral_literal(kind))


def _identity(op: str, left: Sql, right: Sql, where: Node) -> Sql:
    """Users and records: ``=`` and ``<>`` by id, a blank equal only to a blank."""
    kinds = {left.type.name, right.type.name} - {"blank"}
    if op not in ("=", "<>") or len(kinds) > 1:
        raise not_in_sql(where, f"comparing {left.type} with {right.type}")
    never_null = [node for node in (left, right) if not node.may_blank and not node.may_error]
    if len(never_null) == 2:
        same: Expr = left.value == right.value
    elif never_null:  # ``column = :user AND column IS NOT NULL``: FALSE for a blank, and an index serves it
        nullable = right if never_null[0] is left else left
        same = sa.and_(left.value == right.value, nullable.value.is_not(None))
    else:
        same = left.value.is_not_distinct_from(right.value)
    test = same if op == "=" else sa.not_(same)
    errors = [error_test(node) for node in (left, right) if node.may_error]
    if errors:
        test = sa.case((sa.or_(*errors), sa.null()), else_=test)
    return Sql(typed(test, BOOLEAN), BOOLEAN, may_error=bool(errors))
