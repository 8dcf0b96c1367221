"""Math functions: ROUND ROUNDUP ROUNDDOWN ABS MOD POWER SQRT INT CEILING FLOOR.

Arguments read blank as 0 and TRUE as 1 (``as_number``). ROUND and its kin, MOD, CEILING and
FLOOR work on the 15 significant digits of their arguments, as Python's ``significant()`` does:
PostgreSQL on ``numeric``, SQLite by scaling with exact powers of ten (see the dialects).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from engine.expr.nodes import Call
from engine.expr.types import NUMBER
from engine.storage.expr_sql.arithmetic import binary
from engine.storage.expr_sql.conversions import as_number
from engine.storage.expr_sql.dialect import Env, Translator, case
from engine.storage.expr_sql.values import Bounds, Expr, Sql, constant, not_in_sql, number, typed


def _numbers(env: Env, call: Call, args: Sequence[Sql]) -> list[Sql]:
    return [as_number(env.dialect, arg, node) for arg, node in zip(args, call.args, strict=True)]


def _result(value: object, *sources: Sql, error: bool = False, bounds: Bounds | None = None) -> Sql:
    may_error = error or any(source.may_error for source in sources)
    return Sql(typed(value, NUMBER), NUMBER, may_error=may_error, bounds=bounds or Bounds())


def _rounding(mode: str) -> Translator:
    def translate(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
        x, digits = _numbers(env, call, args)
        places: int | Expr = digits.value
        if digits.literal is not None:
            places = max(-400, min(400, int(digits.literal[0])))  # Excel truncates num_digits
        elif env.dialect.max_digits is not None:
            raise not_in_sql(call.args[1], f"{call.name} with computed num_digits on {env.dialect.name}")
        rounded = env.dialect.round_number(x.value, places, mode)
        if rounded is None:
            raise not_in_sql(call.args[1], f"{call.name} to {places} places on {env.dialect.name}")
        high = x.bounds.high * 1.01 + 1.0
        low = 1.0 if isinstance(places, int) and places <= 0 else 1e-400
        return _result(rounded, x, digits, error=high > 1e300, bounds=Bounds(low, high))

    translate.__doc__ = f"ROUND{'' if mode == 'half' else mode.upper()} on 15 significant digits."
    return translate


def abs_(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """ABS."""
    (x,) = _numbers(env, call, args)
    return _result(sa.func.abs(x.value), x, bounds=x.bounds)


def int_(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """INT: the whole number below (floor)."""
    (x,) = _numbers(env, call, args)
    return _result(env.dialect.floor(x.value), x, bounds=Bounds(1.0, x.bounds.high + 1.0))


def sqrt(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """SQRT: an error for a negative number."""
    (x,) = _numbers(env, call, args)
    bounds = Bounds(x.bounds.low**0.5, x.bounds.high**0.5)
    return _result(env.dialect.sqrt(x.value), x, error=True, bounds=bounds)


def power(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """POWER: the same as ``^``."""
    return binary(env.dialect, "^", args[0], args[1], call)


def mod(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """MOD: the remainder with the sign of the divisor; an error for a divisor of 0."""
    a, b = _numbers(env, call, args)
    return _result(env.dialect.mod(a.value, b.value), a, b, error=True, bounds=Bounds(1e-300, b.bounds.high))


def _multiple(mode: str) -> Translator:
    def translate(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
        x, significance = _numbers(env, call, args) if len(args) > 1 else (*_numbers(env, call, args), constant(1.0))
        s = significance.value
        at_zero = number(0.0) if mode == "up" else sa.null()  # CEILING(x, 0) is 0, FLOOR(x, 0) an error
        value = case(
            (sa.and_(s == 0, x.value.is_not(None)), at_zero),
            (sa.and_(x.value > 0, s < 0), sa.null()),
            otherwise=env.dialect.multiple(x.value, s, mode),
        )
        high = (x.bounds.high + significance.bounds.high) * 1.01
        return _result(value, x, significance, error=True, bounds=Bounds(1e-300, high))

    translate.__doc__ = f"{'CEILING' if mode == 'up' else 'FLOOR'} to a multiple of the significance."
    return translate


ROUND = _rounding("half")
ROUNDUP = _rounding("up")
ROUNDDOWN = _rounding("down")
CEILING = _multiple("up")
FLOOR = _multiple("down")
