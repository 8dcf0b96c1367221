"""SQLite's idioms for the expression language.

It needs SQLite 3.35 or later built with the math functions (``floor``, ``ceil``, ``power``,
``sqrt``, ``mod``, ``sign``, ``trunc``; Python's bundled SQLite and Debian's have them). No
Python function is registered on the connection. SQLite never raises on arithmetic: an overflow
is infinity (made NULL here), ``sqrt(-1)`` and ``power(-8, 1/3)`` are NULL. It has no decimal
type, so 15-digit rounding goes through ``printf('%.15g')`` and ROUND scales by an exact power
of ten; dates are ISO text and their arithmetic goes through ``julianday``.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from engine.storage.expr_sql.dialect import Dialect, case, floating, power_of_ten, sign_of
from engine.storage.expr_sql.sharing import let
from engine.storage.expr_sql.values import Expr, number

_FIRST_JULIAN_DAY = 1721425.5  # 0001-01-01
_LAST_JULIAN_DAY = 5373483.5  # 9999-12-31
_EPOCH_JULIAN_DAY = 2415018.5  # 1899-12-30
_DATE_PARTS = {"year": "%Y", "month": "%m", "day": "%d"}
_MARK = "\x01"  # a marker for TRIM's inner runs of spaces (escaped where the text has it)


def _fmt(template: str) -> Expr:
    return sa.literal(template, sa.Text())


def _printf(template: str, x: Expr) -> Expr:
    """``printf(template, x)``, NULL for NULL (SQLite's printf writes NULL as 0)."""
    return case((x.is_not(None), sa.func.printf(_fmt(template), x)))


class SqliteDialect(Dialect):
    """SQLite 3.35+ with the math functions."""

    name: ClassVar[str] = "sqlite"
    sa_dialect: ClassVar[sa.engine.Dialect] = sqlite_dialect.dialect()
    raises_on_overflow: ClassVar[bool] = False
    max_digits: ClassVar[int | None] = 22

    def fits(self, expression: Expr) -> bool:
        # SQLite's parser has a fixed stack (100 entries unless built otherwise): a deeply nested
        # expression fails when prepared. Ask this SQLite itself.
        with closing(sqlite3.connect(":memory:")) as connection:
            try:
                connection.execute("EXPLAIN " + self.render(expression))
            except sqlite3.Error as error:
                return "parser stack overflow" not in str(error)
        return True

    def floor(self, x: Expr) -> Expr:
        # SQLAlchemy replaces SQLite's floor() by Python's math.floor, which fails on NULL
        return number(0.0) - sa.func.ceil(number(0.0) - x)

    def sig15(self, x: Expr) -> Expr:
        return floating(_printf("%.15g", x))

    def number_text(self, x: Expr) -> Expr:
        # %.15g is Excel's General format once 'e' is upper case; + 0.0 turns -0.0 into 0.
        return sa.func.upper(_printf("%.15g", x + number(0.0)))

    def to_int(self, x: Expr) -> Expr:
        # CAST truncates toward zero; clamped first, as a count near 2**63 confuses substr()
        return sa.cast(sa.func.min(sa.func.max(x, number(-2147483647.0)), number(2147483647.0)), sa.Integer())

    def guard(self, op: str, a: Expr, b: Expr, raw: Expr) -> Expr:
        return sa.func.nullif(sa.func.nullif(raw, number(math.inf)), number(-math.inf))

    def power(self, a: Expr, b: Expr) -> Expr:
        raw = self.guard("^", a, b, sa.func.power(a, b))
        return case((sa.and_(a == 0, b <= 0), sa.null()), otherwise=raw)

    def sqrt(self, x: Expr) -> Expr:
        return sa.func.sqrt(x)  # NULL for a negative number

    def round_number(self, x: Expr, digits: int | Expr, mode: str) -> Expr | None:
        if not isinstance(digits, int) or abs(digits) > 22:
            return None  # only an exact power of ten keeps the decimal digits exact
        scale = number(power_of_ten(abs(digits)))
        scaled = x * scale if digits >= 0 else x / scale
        snapped = self.sig15(scaled)  # the 15 significant digits Python rounds, shifted
        size = sa.func.abs(snapped)
        whole = {"half": self.floor(size + number(0.5)), "down": self.floor(size), "up": sa.func.ceil(size)}
        rounded = sign_of(snapped) * whole[mode]
        back = rounded / scale if digits >= 0 else rounded * scale
        return case((sa.func.abs(scaled) >= number(1e15), self.sig15(x)), otherwise=back)

    def mod(self, a: Expr, b: Expr) -> Expr:
        # Exact as Python's decimal: both operands scaled by 10**d to whole numbers (d: the most
        # decimals either has in its 15-digit form), whose fmod is exact. Else fmod of the doubles.
        def exactly(places: Expr) -> Expr:
            scale = sa.func.power(number(10.0), places)
            whole_a, whole_b = sa.func.round(a * scale), sa.func.round(b * scale)
            fits = sa.and_(places <= 22, sa.func.abs(whole_a) < number(1e15), sa.func.abs(whole_b) < number(1e15))
            return case(
                (b == 0, sa.null()),
                (sa.func.abs(a) >= sa.func.abs(b) * number(1e28), sa.null()),  # Python's decimal refuses it
                (fits, _signed_mod(whole_a, whole_b) / scale),
                otherwise=_signed_mod(self.sig15(a), self.sig15(b)),
            )

        return let(sa.func.max(_decimals(a), _decimals(b), 0), exactly)

    def multiple(self, x: Expr, significance: Expr, mode: str) -> Expr:
        steps = self.sig15(x / significance)
        whole = sa.func.ceil(steps) if mode == "up" else self.floor(steps)
        # beyond 15 digits of steps, x is already the multiple to the precision Python keeps
        beyond = sa.func.abs(x) >= sa.func.abs(significance) * number(1e15)
        return case((beyond, self.sig15(x)), otherwise=self.sig15(whole * significance))

    def extreme(self, values: Sequence[Expr], pick: str) -> Expr:
        return sa.func.min(*values) if pick == "min" else sa.func.max(*values)

    def sentinel(self, kind: str, pick: str) -> Expr:
        if kind == "date":  # ISO text: "9999-99-99" sorts after every date, "" before
            return sa.literal("9999-99-99" if pick == "min" else "", sa.Text())
        return number(math.inf if pick == "min" else -math.inf)

    def right(self, text: Expr, count: Expr) -> Expr:
        empty = sa.and_(count == 0, text.is_not(None))
        return case((empty, sa.literal("", sa.Text())), otherwise=sa.func.substr(text, -count))

    def position(self, haystack: Expr, needle: Expr) -> Expr:
        return sa.func.instr(haystack, needle)

    def collapse_spaces(self, text: Expr) -> Expr:
        # Each space gets a marker after it, a marker followed by a space goes, then the markers go:
        # "a   b" -> "a ~s ~s ~sb" -> "a ~sb" -> "a b". The marker character is escaped first, so
        # text holding it is kept as it was. Five replace() calls: SQLite's parser nests few levels.
        escape, mark, space = _fmt(_MARK), _fmt(_MARK + "s"), _fmt(" ")
        escaped = sa.func.replace(text, escape, _fmt(_MARK + "e"))
        marked = sa.func.replace(escaped, space, space.concat(mark))
        collapsed = sa.func.replace(sa.func.replace(marked, mark.concat(space), _fmt("")), mark, _fmt(""))
        return sa.func.replace(collapsed, _fmt(_MARK + "e"), escape)

    def date_text(self, date: Expr) -> Expr:
        return sa.type_coerce(date, sa.Text())

    def add_days(self, date: Expr, days: Expr) -> Expr:
        julian = sa.func.julianday(date) + days
        in_range = julian.between(number(_FIRST_JULIAN_DAY), number(_LAST_JULIAN_DAY))
        return case((in_range, sa.func.date(julian)))

    def days_between(self, end: Expr, start: Expr) -> Expr:
        return sa.func.julianday(end) - sa.func.julianday(start)

    def serial(self, date: Expr) -> Expr:
        return sa.func.julianday(date) - number(_EPOCH_JULIAN_DAY)

    def date_part(self, part: str, date: Expr) -> Expr:
        return floating(sa.func.strftime(_fmt(_DATE_PARTS[part]), date))

    def month_start(self, year: Expr, month: Expr) -> Expr:
        return sa.func.printf(_fmt("%04d-%02d-01"), year, month)


def _decimals(x: Expr) -> Expr:
    """How many decimals ``x`` has in its 15-digit form (``printf('%.15g')``): 2.675 -> 3, 1e-07 -> 7."""

    def count(text: Expr) -> Expr:  # text is "<mantissa>e<exponent>"
        cut = sa.func.instr(text, _fmt("e"))
        mantissa = sa.func.substr(text, 1, cut - 1)
        point = sa.func.instr(mantissa, _fmt("."))
        digits = case((point > 0, sa.func.length(mantissa) - point), otherwise=0)
        return digits - sa.cast(sa.func.substr(text, cut + 1), sa.Integer())  # "-07e0" reads as -7

    return let(_printf("%.15g", x).concat(_fmt("e0")), count)


def _signed_mod(a: Expr, b: Expr) -> Expr:
    """``fmod`` (exact on the binary values), moved to the sign of ``b`` as Excel's MOD has it."""
    remainder = sa.func.mod(a, b)
    return case((sa.and_(remainder != 0, (remainder < 0) != (b < 0)), remainder + b), otherwise=remainder)
