"""One compiled sub-expression, and how SQL's single NULL stands for the language's two empty values.

The language has *blank* (an empty field: 0 in arithmetic, "" in text, equal to 0, "" and FALSE)
and *error* (``1/0``: it spreads through the whole formula, see ``engine/expr/types.py``). SQL
has one NULL. A compiled node keeps NULL for both and records, statically, which of the two a
NULL can mean: ``may_blank`` and ``may_error``. When both are possible (``IF(x > 0, n1, 1/n2)``)
the node carries ``blank_when``, a never-NULL predicate that is TRUE exactly when it is blank.
So ``COALESCE(col, 0)`` fills a field for arithmetic, while an error stays NULL to the end.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.expr.errors import ExprError
from engine.expr.nodes import Node
from engine.expr.types import BLANK, BOOLEAN, DATE, NUMBER, TEXT, Type

MAX_FLOAT = sys.float_info.max
SMALLEST = 5e-324  # the smallest positive double (a subnormal)
Expr = ColumnElement[Any]


@dataclass(frozen=True, slots=True)
class Bounds:
    """What magnitudes a number can have: ``low`` is the smallest non-zero one (inf: always 0)."""

    low: float = SMALLEST
    high: float = MAX_FLOAT

    @staticmethod
    def of(number: float) -> Bounds:
        """The bounds of one known number."""
        return Bounds(abs(number) if number else math.inf, abs(number))

    def union(self, other: Bounds) -> Bounds:
        """Bounds holding both."""
        return Bounds(min(self.low, other.low), max(self.high, other.high))

    def within(self, low: float, high: float) -> bool:
        """Whether every non-zero magnitude lies inside ``[low, high]``."""
        return self.low >= low and self.high <= high


UNBOUNDED = Bounds()


@dataclass(frozen=True, slots=True)
class Sql:
    """A compiled sub-expression.

    Attributes:
        value: the SQL expression; NULL is blank or error (see the flags).
        type: the static type (number, text, boolean, date, user, record or blank).
        may_blank: NULL can mean blank.
        may_error: NULL can mean an error.
        blank_when: when both flags are set, a never-NULL predicate TRUE exactly when blank.
        bounds: for numbers, the magnitudes the value can take (overflow guards use them).
        literal: ``(value,)`` when the value is known at compile time (a literal).
        simple: a column or a parameter, cheap to repeat inside a guard.
        stored: a number read from a field (PostgreSQL may keep it within safe bounds, see ``clamp``).
    """

    value: Expr
    type: Type
    may_blank: bool = False
    may_error: bool = False
    blank_when: Expr | None = None
    bounds: Bounds = UNBOUNDED
    literal: tuple[Any] | None = field(default=None)
    simple: bool = False
    stored: bool = False


SA_TYPES: dict[str, Any] = {
    "number": sa.Float(),
    "text": sa.Text(),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
}


def typed(expr: Any, kind: Type) -> Expr:
    """``expr`` read as the SQLAlchemy type of ``kind`` (so results come back as float, bool, date)."""
    sa_type = SA_TYPES.get(kind.name)
    if sa_type is None:
        return sa.type_coerce(expr, sa.types.NullType())
    if isinstance(expr, sa.sql.elements.Null):
        return sa.cast(expr, sa_type)  # a bare NULL has no type in PostgreSQL (it would come back as text)
    if isinstance(getattr(expr, "type", None), type(sa_type)):
        same: Expr = expr
        return same  # already typed: a wrapper would hide its precedence (NOT (a AND b) lost its parentheses)
    return sa.type_coerce(expr, sa_type)


def value_as(node: Sql, kind: Type) -> Expr:
    """``node``'s value typed as ``kind``; a blank-typed node (always NULL) gets a real CAST, as
    PostgreSQL types a CASE of NULLs as text and then refuses to mix it with a number."""
    sa_type = SA_TYPES.get(kind.name)
    if node.type.name == "blank" and sa_type is not None:
        return sa.cast(node.value, sa_type)
    return typed(node.value, kind)


def constant(value: Any) -> Sql:
    """A literal: a bound parameter, never text pasted into the SQL."""
    if value is None:
        return Sql(sa.null(), BLANK, may_blank=True, bounds=Bounds.of(0.0), literal=(None,), simple=True)
    if isinstance(value, bool):
        return Sql(sa.literal(value, sa.Boolean()), BOOLEAN, bounds=Bounds.of(1.0), literal=(value,), simple=True)
    if isinstance(value, float):
        return Sql(sa.literal(value, sa.Float()), NUMBER, bounds=Bounds.of(value), literal=(value,), simple=True)
    if isinstance(value, str):
        return Sql(sa.literal(value, sa.Text()), TEXT, literal=(value,), simple=True)
    return Sql(sa.literal(value, sa.Date()), DATE, literal=(value,), simple=True)


def number(value: float) -> Expr:
    """A float parameter."""
    return sa.literal(value, sa.Float())


def blank_test(node: Sql) -> Expr:
    """TRUE exactly when ``node`` is blank (never NULL)."""
    if not node.may_blank:
        return sa.false()
    if node.blank_when is not None:
        return node.blank_when
    return node.value.is_(None)


def error_test(node: Sql) -> Expr:
    """TRUE exactly when ``node`` is an error (never NULL)."""
    if not node.may_error:
        return sa.false()
    if not node.may_blank:
        return node.value.is_(None)
    return sa.and_(node.value.is_(None), sa.not_(blank_test(node)))


def filled(node: Sql, neutral: Expr) -> Expr:
    """``node`` with a blank read as ``neutral``; an error stays NULL."""
    if not node.may_blank:
        return node.value
    if node.literal == (None,):
        return neutral
    value = sa.cast(node.value, neutral.type) if node.type.name == "blank" else node.value
    if node.blank_when is None:
        return sa.func.coalesce(value, neutral)
    return sa.case((node.blank_when, neutral), else_=value)


def any_error(nodes: Iterable[Sql]) -> Expr | None:
    """A predicate TRUE when one of ``nodes`` is an error, or None when none can be."""
    tests = [error_test(node) for node in nodes if node.may_error]
    return sa.or_(*tests) if tests else None


def not_in_sql(node: Node, what: str, hint: str | None = None) -> ExprError:
    """The error for a part of an expression SQL cannot compute exactly as Python does."""
    return ExprError(
        "not_in_sql",
        f"{what} cannot be computed in SQL",
        node.start,
        node.end,
        hint=hint or "the expression is evaluated in Python instead",
    )
