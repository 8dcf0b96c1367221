"""Date functions: DATE YEAR MONTH DAY DAYS TODAY, and CURRENT_USER.

A blank date argument is an error, as Python's ``_on_dates`` has it. TODAY() and CURRENT_USER()
are bound parameters from the values the caller passes (the clock and the actor are inputs).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from engine.expr.nodes import Call
from engine.expr.types import DATE, NUMBER, USER
from engine.storage.expr_sql.conversions import as_number
from engine.storage.expr_sql.dialect import Env, Translator, case
from engine.storage.expr_sql.values import Bounds, Sql, constant, not_in_sql, number, typed

_PART_BOUNDS = {"year": Bounds(1.0, 9999.0), "month": Bounds(1.0, 12.0), "day": Bounds(1.0, 31.0)}


def date(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """DATE(year, month, day): months and days roll over; years 0-1899 mean 1900-3799."""
    given, month, day = (
        sa.func.trunc(as_number(env.dialect, arg, node).value) for arg, node in zip(args, call.args, strict=True)
    )
    year = case((sa.and_(given >= 0, given < 1900), given + number(1900.0)), otherwise=given)
    months = month - number(1.0)
    carry = env.dialect.floor(months / number(12.0))
    first_year, first_month = year + carry, months - carry * number(12.0) + number(1.0)
    valid = sa.and_(first_year.between(number(1.0), number(9999.0)), sa.func.abs(day) <= number(4e6))
    start = env.dialect.month_start(first_year, first_month)
    value = case((valid, env.dialect.add_days(start, day - number(1.0))))
    return Sql(typed(value, DATE), DATE, may_error=True)


def _part(part: str) -> Translator:
    def translate(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
        if args[0].literal == (None,):
            return Sql(typed(sa.null(), NUMBER), NUMBER, may_error=True)
        value = env.dialect.date_part(part, args[0].value)
        return Sql(typed(value, NUMBER), NUMBER, may_error=True, bounds=_PART_BOUNDS[part])

    translate.__doc__ = f"{part.upper()} of a date (a blank date is an error)."
    return translate


def days(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """DAYS(end, start): the days from start to end (a blank date is an error)."""
    if any(arg.literal == (None,) for arg in args):
        return Sql(typed(sa.null(), NUMBER), NUMBER, may_error=True)
    value = env.dialect.days_between(args[0].value, args[1].value)
    return Sql(typed(value, NUMBER), NUMBER, may_error=True, bounds=Bounds(1.0, 3.7e6))


def today(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """TODAY(): the ``today`` the caller passed, as a parameter."""
    if env.today is None:
        raise not_in_sql(call, "TODAY() without today's date", hint="pass today= to the SQL compiler")
    return constant(env.today)


def current_user(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """CURRENT_USER(): the acting user's id, as a parameter."""
    if not env.has_user:
        raise not_in_sql(call, "CURRENT_USER() without the acting user", hint="pass current_user= to the compiler")
    if env.current_user is None:
        return Sql(typed(sa.null(), USER), USER, may_blank=True, literal=(None,), simple=True)
    return Sql(sa.literal(env.current_user), USER, simple=True)


YEAR = _part("year")
MONTH = _part("month")
DAY = _part("day")
