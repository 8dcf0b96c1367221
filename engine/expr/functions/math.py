"""Math: ROUND, ROUNDUP, ROUNDDOWN, ABS, MOD, POWER, SQRT, INT, CEILING, FLOOR.

Rounding goes through ``Decimal`` of the float's 15 significant digits, the precision Excel
works in: ``ROUND(2.675, 2)`` is 2.68 and ``ROUNDUP(0.1 + 0.2, 1)`` is 0.3, as in Excel (the
binary floats are a hair off). An error (Excel's #NUM!, #DIV/0!) is the ``ERROR`` value.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, localcontext
from typing import Any

from engine.expr.functions.registry import NUMERIC, Param, register
from engine.expr.operators import power
from engine.expr.types import NUMBER
from engine.expr.values import ERROR, Error, finite, significant, to_number

_NUMBER = Param("number", NUMERIC)
_DIGITS = Param("num_digits", NUMERIC)
_SIGNIFICANCE = Param("significance", NUMERIC, optional=True)


Result = float | Error


def _on_numbers(implementation: Callable[..., Result]) -> Callable[..., Result]:
    """Read every argument as a number (blank is 0, TRUE is 1); a non-number is an error."""

    @functools.wraps(implementation)
    def run(*values: Any) -> Result:
        numbers = [to_number(value) for value in values]
        if any(number is None for number in numbers):
            return ERROR
        result = implementation(*numbers)
        return result if isinstance(result, Error) else finite(result)

    return run


_decimal = significant


def _round(number: float, digits: float, mode: str) -> float:
    places = max(-400, min(400, int(digits)))  # Excel truncates num_digits
    with localcontext() as context:
        context.prec = 1000
        rounded = _decimal(number).quantize(Decimal(1).scaleb(-places), rounding=mode)
    return float(rounded)


@register("ROUND", params=(_NUMBER, _DIGITS), returns=NUMBER)
@_on_numbers
def round_(number: float, num_digits: float) -> float:
    """Round to ``num_digits`` decimal places, halves away from zero.

    Args:
        number: the number to round.
        num_digits: decimal places; negative rounds to tens, hundreds... (``ROUND(1250, -2)`` is 1300).

    Returns:
        The rounded number.

    Excel: as ``ROUND``: ``ROUND(2.5, 0)`` is 3 and ``ROUND(-2.5, 0)`` is -3 (not banker's rounding);
    ``num_digits`` is required, as in Excel.
    """
    return _round(number, num_digits, ROUND_HALF_UP)


@register("ROUNDUP", params=(_NUMBER, _DIGITS), returns=NUMBER)
@_on_numbers
def roundup(number: float, num_digits: float) -> float:
    """Round away from zero to ``num_digits`` decimal places.

    Args:
        number: the number to round.
        num_digits: decimal places (negative for tens, hundreds...).

    Returns:
        The rounded number (``ROUNDUP(-3.141, 1)`` is -3.2).

    Excel: as ``ROUNDUP``.
    """
    return _round(number, num_digits, ROUND_UP)


@register("ROUNDDOWN", params=(_NUMBER, _DIGITS), returns=NUMBER)
@_on_numbers
def rounddown(number: float, num_digits: float) -> float:
    """Round toward zero to ``num_digits`` decimal places.

    Args:
        number: the number to round.
        num_digits: decimal places (negative for tens, hundreds...).

    Returns:
        The rounded number (``ROUNDDOWN(-3.19, 1)`` is -3.1).

    Excel: as ``ROUNDDOWN``.
    """
    return _round(number, num_digits, ROUND_DOWN)


@register("ABS", params=(_NUMBER,), returns=NUMBER)
@_on_numbers
def abs_(number: float) -> float:
    """The absolute value.

    Args:
        number: any number (blank counts as 0).

    Returns:
        ``number`` without its sign.

    Excel: as ``ABS``.
    """
    return abs(number)


@register("MOD", params=(_NUMBER, Param("divisor", NUMERIC)), returns=NUMBER)
@_on_numbers
def mod(number: float, divisor: float) -> Result:
    """The remainder of a division; it has the sign of the divisor.

    Args:
        number: the dividend.
        divisor: the divisor.

    Returns:
        ``number - divisor * INT(number / divisor)``; an error when the divisor is 0.

    Excel: as ``MOD``: ``MOD(-3, 2)`` is 1 and ``MOD(3, -2)`` is -1 (#DIV/0! for a divisor of 0).
    """
    if divisor == 0:
        return ERROR
    remainder = _decimal(number) % _decimal(divisor)  # exact on the decimal digits; sign of the dividend
    if remainder and (remainder < 0) != (divisor < 0):
        remainder += _decimal(divisor)
    return float(remainder)


@register("POWER", params=(_NUMBER, Param("power", NUMERIC)), returns=NUMBER)
def power_(number: Any, exponent: Any) -> Result:
    """A number raised to a power, the same as ``number ^ power``.

    Args:
        number: the base.
        power: the exponent.

    Returns:
        The power; an error for 0^0, 0 to a negative power, a negative number to a fraction, or overflow.

    Excel: as ``POWER`` (#NUM! and #DIV/0! are errors; an error gives blank in the end).
    """
    result: float | Error = power(number, exponent)
    return result


@register("SQRT", params=(_NUMBER,), returns=NUMBER)
@_on_numbers
def sqrt(number: float) -> Result:
    """The positive square root.

    Args:
        number: a number, 0 or more.

    Returns:
        The square root; an error (blank) for a negative number.

    Excel: as ``SQRT`` (#NUM! for a negative number).
    """
    return math.sqrt(number) if number >= 0 else ERROR


@register("INT", params=(_NUMBER,), returns=NUMBER)
@_on_numbers
def int_(number: float) -> float:
    """Round down to the whole number below.

    Args:
        number: any number.

    Returns:
        The largest whole number not above ``number`` (``INT(-1.5)`` is -2).

    Excel: as ``INT`` (it floors; it does not truncate toward zero).
    """
    return float(math.floor(number))


def _multiple(number: float, significance: float, mode: str) -> float:
    steps = (_decimal(number) / _decimal(significance)).to_integral_value(rounding=mode)
    return float(steps * _decimal(significance))


@register("CEILING", params=(_NUMBER, _SIGNIFICANCE), returns=NUMBER)
@_on_numbers
def ceiling(number: float, significance: float = 1.0) -> Result:
    """Round up to a multiple of ``significance``.

    Args:
        number: the number to round.
        significance: the multiple (default 1).

    Returns:
        The multiple; a negative number with a positive significance rounds toward zero
        (``CEILING(-2.5, 2)`` is -2), with a negative significance away from zero (-4).
        An error for a positive number with a negative significance; 0 when significance is 0.

    Excel: as ``CEILING`` in Excel 2010 and later; the significance may be left out (it is 1),
    as in ``CEILING.MATH``.
    """
    if significance == 0:
        return 0.0
    if number > 0 and significance < 0:
        return ERROR
    return _multiple(number, significance, ROUND_CEILING)


@register("FLOOR", params=(_NUMBER, _SIGNIFICANCE), returns=NUMBER)
@_on_numbers
def floor(number: float, significance: float = 1.0) -> Result:
    """Round down to a multiple of ``significance``.

    Args:
        number: the number to round.
        significance: the multiple (default 1).

    Returns:
        The multiple; a negative number with a positive significance rounds away from zero
        (``FLOOR(-2.5, 2)`` is -4), with a negative significance toward zero (-2).
        An error for a positive number with a negative significance, or a significance of 0.

    Excel: as ``FLOOR`` in Excel 2010 and later (#NUM! and #DIV/0! are errors); the significance
    may be left out (it is 1), as in ``FLOOR.MATH``.
    """
    if significance == 0 or (number > 0 and significance < 0):
        return ERROR
    return _multiple(number, significance, ROUND_FLOOR)
