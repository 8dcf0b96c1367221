"""The operators' run-time rules (``+ - * / ^ & = <`` ...): total functions, an error gives :data:`ERROR`.

An error operand makes the result an error (Excel's ``1 + 1/0`` is ``#DIV/0!``); a blank operand
is 0 in arithmetic and "" in ``&``, except a blank *date* in ``+`` and ``-``: ``blank_date ± n``
is blank and ``date - date`` with a blank is an error (see ``types.py``). A value does not say
whether a blank is a date, its static type does: :func:`binary_operator` gives the rule for it.

Most operands are floats (the evaluator turns every number into one), so ``+ - * /`` and the
signs first try a fast lane for floats, which gives what the general rules give for them, and
otherwise follow the general rules (the comparisons' fast lane is in ``values.compare``).
"""

from __future__ import annotations

import datetime as dt
import math
import operator as py
from collections.abc import Callable
from math import isfinite
from typing import Any

from engine.expr.values import (
    ERROR,
    Error,
    checked_text,
    compare,
    equals,
    finite,
    is_date,
    to_logical,
    to_number,
    to_text,
)

Operator = Callable[[Any, Any], Any]


def _propagating(operator: Operator) -> Operator:
    """``operator``, giving an error when either operand is one."""

    def run(left: Any, right: Any) -> Any:
        if left is ERROR or right is ERROR:
            return ERROR
        return operator(left, right)

    run.__doc__ = operator.__doc__
    return run


def _numbers(left: Any, right: Any) -> tuple[float, float] | None:
    a, b = to_number(left), to_number(right)
    return None if a is None or b is None else (a, b)


def _date_plus(date: dt.date, days: Any) -> dt.date | Error:
    number = to_number(days)
    if number is None:
        return ERROR
    try:
        if isinstance(date, dt.datetime):
            return date + dt.timedelta(days=number)
        return date + dt.timedelta(days=math.floor(number))
    except (OverflowError, ValueError):
        return ERROR


def _as_datetime(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)


def _arithmetic(compute: Callable[[float, float], float]) -> Operator:
    def run(left: Any, right: Any) -> Any:
        pair = _numbers(left, right)
        if pair is None:
            return ERROR
        try:
            return finite(compute(*pair))
        except (ArithmeticError, ValueError):
            return ERROR

    return run


_plain_add = _arithmetic(lambda a, b: a + b)
_plain_subtract = _arithmetic(lambda a, b: a - b)


def add(left: Any, right: Any) -> Any:
    """``left + right``: numbers, or a date plus a number of days."""
    if isinstance(left, dt.date) and not isinstance(right, dt.date):
        return _date_plus(left, right)
    if isinstance(right, dt.date) and not isinstance(left, dt.date):
        return _date_plus(right, left)
    return _plain_add(left, right)


def subtract(left: Any, right: Any) -> Any:
    """``left - right``: numbers; a date minus days is a date; a date minus a date is days."""
    if isinstance(left, dt.date) and isinstance(right, dt.date):
        if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
            return (_as_datetime(left) - _as_datetime(right)).total_seconds() / 86400
        return float((left - right).days)
    if isinstance(left, dt.date):
        number = to_number(right)
        return ERROR if number is None else _date_plus(left, -number)
    return _plain_subtract(left, right)


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError
    return a / b


def _power(a: float, b: float) -> float:
    """Excel's #NUM! for 0^0 and a negative number to a fraction; #DIV/0! for 0 to a negative power."""
    if a == 0 and b <= 0:
        raise ZeroDivisionError
    result: float | complex = a**b
    if isinstance(result, complex):
        raise ValueError("a negative number to a fraction")
    return result


multiply = _arithmetic(lambda a, b: a * b)
divide = _arithmetic(_divide)
power = _arithmetic(_power)


def concatenate(left: Any, right: Any) -> str:
    """``left & right``: anything as text (blank is "")."""
    return checked_text(to_text(left) + to_text(right))


def _ordering(holds: Callable[[int, int], bool]) -> Operator:
    """``holds`` (``operator.lt``...) between the operands' order and 0."""

    def ordered(left: Any, right: Any) -> bool | Error:
        order = compare(left, right)
        return ERROR if order is None else holds(order, 0)

    return ordered


def _logical(combine: Callable[[bool, bool], bool]) -> Operator:
    def run(left: Any, right: Any) -> bool | Error:
        a, b = to_logical(left), to_logical(right)
        if a is ERROR or b is ERROR:
            return ERROR
        return combine(a is True, b is True)

    return run


# The fast lanes of + - * /: for two floats the general rules (``to_number``, then ``finite``)
# come down to the float operation and an overflow check. An infinite operand (a literal
# ``1E999``) gives an infinite or NaN result, an error, as the general rules give; only a
# division by one would not, so a division takes the lane only for a finite, non-zero divisor.
_general_add = _propagating(add)
_general_subtract = _propagating(subtract)
_general_multiply = _propagating(multiply)
_general_divide = _propagating(divide)


def _add_fast(left: Any, right: Any) -> Any:
    """``left + right``: :func:`add`, after the fast lane for two floats."""
    if type(left) is float and type(right) is float:
        result = left + right
        return result if isfinite(result) else ERROR
    return _general_add(left, right)


def _subtract_fast(left: Any, right: Any) -> Any:
    """``left - right``: :func:`subtract`, after the fast lane for two floats."""
    if type(left) is float and type(right) is float:
        result = left - right
        return result if isfinite(result) else ERROR
    return _general_subtract(left, right)


def _multiply_fast(left: Any, right: Any) -> Any:
    """``left * right``: :func:`multiply`, after the fast lane for two floats."""
    if type(left) is float and type(right) is float:
        result = left * right
        return result if isfinite(result) else ERROR
    return _general_multiply(left, right)


def _divide_fast(left: Any, right: Any) -> Any:
    """``left / right``: :func:`divide`, after the fast lane for two floats."""
    if type(left) is float and type(right) is float and right != 0 and isfinite(right):
        result = left / right
        return result if isfinite(result) else ERROR
    return _general_divide(left, right)


def _blank_date_plus(days: Any) -> Error | None:
    """``blank_date + days``: an unknown date stays unknown (blank), unless ``days`` is no number."""
    return ERROR if is_date(days) or to_number(days) is None else None


def _add_dates(left_date: bool, right_date: bool) -> Operator:
    """``+`` where a blank ``left`` (``right``) is a blank date, as ``left_date`` (``right_date``) says."""

    def run(left: Any, right: Any) -> Any:
        if left is ERROR or right is ERROR:
            return ERROR
        if left is None and left_date:
            return _blank_date_plus(right)
        if right is None and right_date:
            return _blank_date_plus(left)
        return add(left, right)

    return run


def _subtract_dates(left_date: bool, right_date: bool) -> Operator:
    """``-`` where a blank ``left`` (``right``) is a blank date, as ``left_date`` (``right_date``) says."""

    def run(left: Any, right: Any) -> Any:
        if left is ERROR or right is ERROR:
            return ERROR
        if right is None and right_date:
            return ERROR  # days from or to an unknown date: unknown, and not 0 (as DAYS, DATEDIF)
        if left is None and left_date:
            return _blank_date_plus(right)
        return subtract(left, right)

    return run


def binary_operator(op: str, left_date: bool, right_date: bool) -> Operator:
    """The rule of ``op`` for operands whose static types are (``left_date``) or are not dates.

    Only ``+`` and ``-`` depend on it: there a blank operand of a date type is a blank date, an
    unknown date, not Excel's day 0. ``blank_date ± n`` (and ``n + blank_date``) is blank: a date
    that is not known yet (``signed_on + 30``). ``date - date`` with a blank is an error, as
    ``DAYS`` and ``DATEDIF`` with a blank date are: a number of days from an unknown date is not
    known either, and unlike a blank it does not count as 0 further on (``(end - start) + 1`` is
    not 1). A blank number still counts as 0 (``blank + 1`` is 1), as in Excel.
    """
    if op == "+" and (left_date or right_date):
        return _add_dates(left_date, right_date)
    if op == "-" and (left_date or right_date):
        return _subtract_dates(left_date, right_date)
    return BINARY[op]


BINARY: dict[str, Operator] = {
    "+": _add_fast,
    "-": _subtract_fast,
    "*": _multiply_fast,
    "/": _divide_fast,
    "^": _propagating(power),
    "&": _propagating(concatenate),
    "=": _propagating(equals),
    "<>": _propagating(lambda left, right: not equals(left, right)),
    "<": _propagating(_ordering(py.lt)),
    "<=": _propagating(_ordering(py.le)),
    ">": _propagating(_ordering(py.gt)),
    ">=": _propagating(_ordering(py.ge)),
    "AND": _propagating(_logical(lambda a, b: a and b)),
    "OR": _propagating(_logical(lambda a, b: a or b)),
}


def _unary(compute: Callable[[float], float]) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        if type(value) is float:  # fast lane: a finite float gives a finite result, the others an error
            result = compute(value)
            return result if isfinite(result) else ERROR
        number = to_number(value)
        return ERROR if number is None or value is ERROR else compute(number)

    return run


def _not(value: Any) -> bool | Error:
    logical = to_logical(value)
    return ERROR if logical is ERROR else logical is not True


UNARY: dict[str, Callable[[Any], Any]] = {
    "-": _unary(lambda number: 0.0 - number),  # not -0.0
    "+": _unary(lambda number: number),
    "%": _unary(lambda number: number / 100),
    "NOT": _not,
}
