"""What differs between SQLite and PostgreSQL: one class per database, each method one SQL idiom.

Every method takes and returns SQLAlchemy expressions whose NULL is an error (blanks are filled
before they get here), and none may raise inside the database: PostgreSQL raises on a float
overflow, ``sqrt(-1)`` or ``power(0, -1)`` where SQLite gives NULL or infinity, so the
PostgreSQL methods guard first. Guards are self-contained ``CASE`` arms, because PostgreSQL folds
constant arguments while planning (``CASE WHEN x > 0 THEN 1/0 END`` fails even with no rows).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping

from engine.expr.nodes import Call
from engine.storage.expr_sql.values import MAX_FLOAT, Bounds, Expr, Sql, number

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
FIRST_DAY = dt.date(1, 1, 1)
LAST_DAY = dt.date(9999, 12, 31)
EPOCH = dt.date(1899, 12, 30)  # Excel's day 0: a blank date compares as this day
TINY = 5e-324  # below this a product or quotient rounds to 0 (PostgreSQL raises "underflow")
SAFE = Bounds(1e-100, 1e100)  # where PostgreSQL keeps float fields used in risky arithmetic
MARGIN = 12  # parentheses the caller's query may add around an expression (SQLite's parser counts them)


def compared(op: str, left: Any, right: Any) -> Expr:
    """``left op right`` for a comparison operator (``= <> < <= > >=``)."""
    result: Expr = OPERATORS[op](left, right)
    return result


def floating(expr: Any) -> Expr:
    """``expr`` as a double-precision number."""
    return sa.cast(expr, sa.Float())


def case(*whens: tuple[Any, Any], otherwise: Any = None) -> Expr:
    """A searched CASE (NULL when no arm holds and no ``otherwise``)."""
    return sa.case(*whens, else_=otherwise) if otherwise is not None else sa.case(*whens)


class Dialect:
    """The SQL idioms of one database (see the module docstring for the rules they follow)."""

    name: ClassVar[str]
    sa_dialect: ClassVar[sa.engine.Dialect]
    raises_on_overflow: ClassVar[bool]
    max_digits: ClassVar[int | None] = None  # ROUND's largest literal num_digits (None: any, even computed)
    extremes_skip_null: ClassVar[bool] = False  # LEAST/GREATEST ignore NULL (so an error must be checked)

    def render(self, expression: Expr) -> str:
        """The SQL text of ``expression``, as this database gets it (nested in a caller's query)."""
        for _ in range(MARGIN):
            expression = Grouping(expression)
        return str(sa.select(expression.label("x")).compile(dialect=self.sa_dialect))

    def fits(self, expression: Expr) -> bool:
        """Whether the database can parse ``expression`` inside a caller's query."""
        return True

    # -- numbers -----------------------------------------------------------------------------------
    def floor(self, x: Expr) -> Expr:
        """The whole number at or below ``x`` (NULL for NULL)."""
        return sa.func.floor(x)

    def sig15(self, x: Expr) -> Expr:
        """``x`` rounded to 15 significant digits, as Python's ``f"{x:.15g}"`` does."""
        raise NotImplementedError

    def compare_numbers(self, op: str, a: Expr, b: Expr) -> Expr:
        """``a op b`` on 15 significant digits."""
        return compared(op, self.sig15(a), self.sig15(b))

    def number_text(self, x: Expr) -> Expr:
        """``x`` as Excel's General format writes it (``1``, ``0.333333333333333``, ``1E+20``)."""
        raise NotImplementedError

    def to_int(self, x: Expr) -> Expr:
        """``x`` truncated toward zero, as an SQL integer (clamped: a huge count stays huge)."""
        raise NotImplementedError

    def guard(self, op: str, a: Expr, b: Expr, raw: Expr) -> Expr:
        """``raw`` (``a op b``), NULL where it overflows and 0 where it underflows, as Python has it."""
        raise NotImplementedError

    def clamp(self, node: Sql) -> Sql:
        """A float field kept inside :data:`SAFE` for arithmetic that could otherwise overflow."""
        return node

    def power(self, a: Expr, b: Expr) -> Expr:
        """``a ^ b`` with Python's errors: 0^0, 0^-n, a negative base to a fraction, overflow."""
        raise NotImplementedError

    def sqrt(self, x: Expr) -> Expr:
        """The square root, NULL for a negative number."""
        return case((x >= 0, sa.func.sqrt(x)))

    def round_number(self, x: Expr, digits: int | Expr, mode: str) -> Expr | None:
        """ROUND (``half``), ROUNDUP (``up``) or ROUNDDOWN (``down``) on 15 significant digits.

        None when this database cannot do it exactly for these digits (the caller refuses it).
        """
        raise NotImplementedError

    def mod(self, a: Expr, b: Expr) -> Expr:
        """Excel's MOD: the remainder with the divisor's sign, on the decimal values."""
        raise NotImplementedError

    def multiple(self, x: Expr, significance: Expr, mode: str) -> Expr:
        """``x`` rounded ``up`` or ``down`` to a multiple of a non-zero ``significance``."""
        raise NotImplementedError

    def extreme(self, values: Sequence[Expr], pick: str) -> Expr:
        """The ``min`` or ``max`` of two or more values (NULL when one is NULL)."""
        raise NotImplementedError

    def sentinel(self, kind: str, pick: str) -> Expr:
        """A value that loses every ``min``/``max`` contest against a real number or date."""
        raise NotImplementedError

    # -- text --------------------------------------------------------------------------------------
    def text_key(self, text: Expr) -> Expr:
        """What text compares by: lower case, ordered by code point."""
        return sa.func.lower(text)

    def right(self, text: Expr, count: Expr) -> Expr:
        """The last ``count`` (>= 0) characters."""
        raise NotImplementedError

    def position(self, haystack: Expr, needle: Expr) -> Expr:
        """1-based position of ``needle`` in ``haystack``, 0 when absent."""
        raise NotImplementedError

    def collapse_spaces(self, text: Expr) -> Expr:
        """Runs of spaces made single."""
        raise NotImplementedError

    # -- dates -------------------------------------------------------------------------------------
    def date_text(self, date: Expr) -> Expr:
        """A date as ``yyyy-mm-dd``."""
        raise NotImplementedError

    def add_days(self, date: Expr, days: Expr) -> Expr:
        """``date`` plus a whole number of days (a float), NULL outside years 1 to 9999."""
        raise NotImplementedError

    def days_between(self, end: Expr, start: Expr) -> Expr:
        """``end - start`` in days, as a float."""
        raise NotImplementedError

    def serial(self, date: Expr) -> Expr:
        """Excel's serial number of a date (days since 1899-12-30)."""
        raise NotImplementedError

    def date_part(self, part: str, date: Expr) -> Expr:
        """``year``, ``month`` or ``day`` of a date, as a float."""
        raise NotImplementedError

    def month_start(self, year: Expr, month: Expr) -> Expr:
        """The first day of a month; ``year`` in 1..9999 and ``month`` in 1..12 (floats)."""
        raise NotImplementedError

    def date_literal(self, day: dt.date) -> Expr:
        """A date parameter."""
        return sa.literal(day, sa.Date())


def sign_of(x: Expr) -> Expr:
    """-1, 0 or 1."""
    return sa.func.sign(x)


def power_of_ten(exponent: int) -> float:
    """``10 ** exponent`` as a float (exact for ``|exponent| <= 22``)."""
    return math.pow(10.0, exponent)


def max_float() -> Expr:
    """The largest double, as a parameter."""
    return number(MAX_FLOAT)


class Env:
    """What a translation needs besides its arguments: the database's idioms and the bound context."""

    __slots__ = ("current_user", "dialect", "has_user", "today")

    def __init__(self, dialect: Dialect, *, today: dt.date | None = None, current_user: Any = None) -> None:
        self.dialect = dialect
        self.today = today
        self.current_user = current_user
        self.has_user = current_user is not None


Translator = Callable[[Env, Call, Sequence[Sql]], Sql]
