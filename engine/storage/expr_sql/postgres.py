"""PostgreSQL's idioms for the expression language.

PostgreSQL's ``float8 -> numeric`` cast keeps 15 significant digits (it prints with ``%.15g``),
which is exactly the precision Excel and Python's ``significant()`` work in: comparisons, ROUND,
MOD, CEILING and FLOOR run on those numerics and are exact. Float arithmetic raises on overflow
and underflow, so risky operations are guarded (:meth:`PostgresDialect.guard`) and float fields
feeding them are kept within 1e-100..1e100 (:meth:`PostgresDialect.clamp`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa

from engine.storage.expr_sql.dialect import (
    FIRST_DAY,
    LAST_DAY,
    SAFE,
    TINY,
    Dialect,
    case,
    compared,
    floating,
    max_float,
    sign_of,
)
from engine.storage.expr_sql.values import MAX_FLOAT, Expr, Sql, number

_LN_MAX = 709.78  # ln of the largest double (709.7827...), a hair under: beyond is an overflow
_LN_TINY = -745.1  # ln of half the smallest subnormal (-745.13...): beyond rounds to 0
_EPOCH_SQL = "1899-12-30"


def _numeric(x: Expr) -> Expr:
    return sa.cast(x, sa.Numeric())


def _back_to_float(value: Expr) -> Expr:
    """A numeric as a double, NULL beyond the largest double (the cast would raise)."""
    return case((sa.func.abs(value) <= Decimal(MAX_FLOAT), floating(value)))


def _clamped_int(x: Expr, low: float, high: float) -> Expr:
    """``x`` as an integer, clamped first: a cast out of range raises, even in a branch not taken."""
    return sa.cast(sa.func.least(sa.func.greatest(x, number(low)), number(high)), sa.Integer())


def _text(value: str) -> Expr:
    return sa.literal(value, sa.Text())


class PostgresDialect(Dialect):
    """PostgreSQL 12 or later."""

    name: ClassVar[str] = "postgresql"
    sa_dialect: ClassVar[sa.engine.Dialect] = sa.engine.make_url("postgresql+psycopg://").get_dialect()()
    raises_on_overflow: ClassVar[bool] = True
    extremes_skip_null: ClassVar[bool] = True

    def sig15(self, x: Expr) -> Expr:
        return floating(_numeric(x))

    def compare_numbers(self, op: str, a: Expr, b: Expr) -> Expr:
        return compared(op, _numeric(a), _numeric(b))

    def number_text(self, x: Expr) -> Expr:
        digits = _numeric(x)
        scientific = sa.func.to_char(digits, _text("9.99999999999999EEEE"))
        trimmed = sa.func.regexp_replace(sa.func.btrim(scientific), _text(r"\.?0+e"), _text("e"))
        size = sa.func.abs(digits)
        return case(
            (digits == 0, _text("0")),
            (sa.or_(size >= Decimal("1e15"), size < Decimal("1e-4")), sa.func.upper(trimmed)),
            otherwise=sa.cast(digits, sa.Text()),
        )

    def to_int(self, x: Expr) -> Expr:
        return _clamped_int(sa.func.trunc(x), -2147483647.0, 2147483647.0)

    def guard(self, op: str, a: Expr, b: Expr, raw: Expr) -> Expr:
        size_a, size_b = sa.func.abs(a), sa.func.abs(b)
        if op in ("+", "-"):
            apart = sign_of(a) * sign_of(b) <= 0 if op == "+" else sign_of(a) * sign_of(b) >= 0
            return case((apart, raw), (size_a <= max_float() - size_b, raw))
        if op == "*":
            tiny = number(TINY) / size_a
            small = case((size_b >= tiny, raw), (size_b < tiny, number(0.0)))  # no ELSE: NULL stays NULL
            large = case((size_b <= max_float() / size_a, raw))
            return case(
                (sa.or_(a == 0, b == 0), raw),
                (sa.and_(size_a <= 1, size_b <= 1), small),
                (sa.and_(size_a >= 1, size_b >= 1), large),
                otherwise=raw,
            )
        return case(  # division
            (b == 0, sa.null()),
            (a == 0, raw),
            (size_b < 1, case((size_a <= max_float() * size_b, raw))),
            (size_a >= number(TINY) * size_b, raw),
            (size_a < number(TINY) * size_b, number(0.0)),  # an underflow is 0, as in Python
        )

    def clamp(self, node: Sql) -> Sql:
        value = node.value
        kept = case((sa.func.abs(value).between(number(SAFE.low), number(SAFE.high)), value), (value == 0, value))
        return Sql(floating(kept), node.type, may_error=True, bounds=SAFE)

    def power(self, a: Expr, b: Expr) -> Expr:
        exponent = sa.func.least(sa.func.greatest(b, number(-1e300)), number(1e300))
        growth = exponent * sa.func.ln(sa.func.abs(a))
        raw = sa.func.power(a, b)
        return case(
            (a == 0, case((b > 0, number(0.0)))),
            (sa.and_(a < 0, b != sa.func.floor(b)), sa.null()),
            (sa.or_(sa.func.abs(a) == 1, sa.func.abs(b) < number(1e-100)), raw),
            (growth > number(_LN_MAX), sa.null()),
            (growth < number(_LN_TINY), number(0.0)),
            otherwise=raw,
        )

    def round_number(self, x: Expr, digits: int | Expr, mode: str) -> Expr | None:
        places = (
            sa.literal(max(-400, min(400, digits)), sa.Integer())
            if isinstance(digits, int)
            else sa.cast(sa.func.least(sa.func.greatest(sa.func.trunc(digits), -400), 400), sa.Integer())
        )
        value = _numeric(x)  # the float's 15 significant digits
        if mode == "half":
            return _back_to_float(sa.func.round(value, places))  # numeric ROUND: halves away from zero
        if mode == "down":
            return _back_to_float(sa.func.trunc(value, places))
        # away from zero: the truncation, plus one unit of the last place when digits were cut
        # (the unit is exact text: numeric power(10, -400) underflows to 0)
        unit = (
            sa.literal(Decimal(1).scaleb(-digits), sa.Numeric())
            if isinstance(digits, int)
            else sa.cast(_text("1e").concat(sa.cast(-places, sa.Text())), sa.Numeric())
        )
        cut = sa.func.trunc(value, places)
        return _back_to_float(case((cut == value, value), otherwise=cut + sign_of(value) * unit))

    def mod(self, a: Expr, b: Expr) -> Expr:
        dividend, divisor = _numeric(a), sa.func.nullif(_numeric(b), 0)
        remainder = sa.func.mod(sa.func.mod(dividend, divisor) + divisor, divisor)
        refused = sa.func.abs(sa.func.trunc(dividend / divisor)) >= Decimal("1e28")  # as Python's decimal
        return case((refused, sa.null()), otherwise=floating(remainder))

    def multiple(self, x: Expr, significance: Expr, mode: str) -> Expr:
        value, step = _numeric(x), sa.func.nullif(_numeric(significance), 0)
        steps = sa.func.ceil(value / step) if mode == "up" else sa.func.floor(value / step)
        return _back_to_float(steps * step)

    def extreme(self, values: Sequence[Expr], pick: str) -> Expr:
        return sa.func.least(*values) if pick == "min" else sa.func.greatest(*values)

    def sentinel(self, kind: str, pick: str) -> Expr:
        word = "infinity" if pick == "min" else "-infinity"
        return sa.cast(_text(word), sa.Date() if kind == "date" else sa.Float())

    def text_key(self, text: Expr) -> Expr:
        return sa.func.lower(text).collate("C")

    def right(self, text: Expr, count: Expr) -> Expr:
        return sa.func.right(text, count)

    def position(self, haystack: Expr, needle: Expr) -> Expr:
        return sa.func.strpos(haystack, needle)

    def collapse_spaces(self, text: Expr) -> Expr:
        return sa.func.regexp_replace(text, _text("  +"), _text(" "), _text("g"))

    def date_text(self, date: Expr) -> Expr:
        return sa.func.to_char(date, _text("YYYY-MM-DD"))

    def add_days(self, date: Expr, days: Expr) -> Expr:
        low = floating(self.date_literal(FIRST_DAY).op("-", return_type=sa.Integer())(date))
        high = floating(self.date_literal(LAST_DAY).op("-", return_type=sa.Integer())(date))
        shifted = date.op("+", return_type=sa.Date())(_clamped_int(days, -4e6, 4e6))
        return case((days.between(low, high), shifted))

    def days_between(self, end: Expr, start: Expr) -> Expr:
        return floating(end.op("-", return_type=sa.Integer())(start))

    def serial(self, date: Expr) -> Expr:
        return self.days_between(date, sa.cast(_text(_EPOCH_SQL), sa.Date()))

    def date_part(self, part: str, date: Expr) -> Expr:
        return floating(sa.extract(part, date))

    def month_start(self, year: Expr, month: Expr) -> Expr:
        return sa.func.make_date(_clamped_int(year, 1, 9999), _clamped_int(month, 1, 12), 1)
