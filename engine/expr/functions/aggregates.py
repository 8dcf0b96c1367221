"""Aggregates over lists (sub-table columns, related records): SUM AVERAGE MIN MAX COUNT COUNTA,
and the conditional COUNTIF SUMIF AVERAGEIF MAXIF MINIF.

A conditional aggregate evaluates its condition once per row, in the scope of that row:
``SUMIF(account_financial_monthly.revenue, period >= EDATE(TODAY(), -12))`` reads ``period`` of
each monthly row; ``THIS.x`` in the condition reads the record's own field ``x``. A range that
is one value rather than a list (a bare ``THIS``, a plain field: the checker refuses both) has no
rows: the total and the count are 0, the others blank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from engine.expr.functions.registry import DATES, LOGICAL, NUMERIC, Param, register
from engine.expr.runtime import Arg, Frame
from engine.expr.types import NUMBER
from engine.expr.values import (
    ERROR,
    Error,
    compare,
    counted,
    flatten,
    is_date,
    is_number,
    numbers_of,
    parse_number,
    truthy,
)

_NUMBERS = Param("number", NUMERIC, shape="either")
_ORDERED = Param("number", NUMERIC | DATES, shape="either", result=True)
_CONDITION = Param("condition", LOGICAL, condition=True)


@register("SUM", repeat=(_NUMBERS,), min_repeat=1, returns=NUMBER)
def sum_(*values: Any) -> float | Error:
    """The total of numbers and lists of numbers.

    Args:
        number: numbers, or lists (``SUM(items.amount)``); blanks and text in lists are skipped.

    Returns:
        The total; 0 when there is nothing to add.

    Excel: as ``SUM``: in lists only numbers count; a single argument TRUE counts as 1.
    """
    numbers = numbers_of(values)
    return numbers if isinstance(numbers, Error) else sum(numbers, 0.0)


@register("AVERAGE", repeat=(_NUMBERS,), min_repeat=1, returns=NUMBER)
def average(*values: Any) -> float | Error:
    """The mean of numbers and lists of numbers (blanks are skipped, not counted as 0).

    Args:
        number: numbers, or lists of numbers.

    Returns:
        The mean; an error when there are no numbers.

    Excel: as ``AVERAGE`` (#DIV/0! when there are no numbers).
    """
    numbers = numbers_of(values)
    if isinstance(numbers, Error) or not numbers:
        return ERROR
    return sum(numbers) / len(numbers)


def _ordered(values: Sequence[Any]) -> list[Any] | Error:
    """The numbers and dates among ``values`` (text, TRUE/FALSE and blanks in lists are skipped)."""
    found: list[Any] = []
    for value in values:
        if isinstance(value, list):
            found.extend(item for item in value if is_number(item) or is_date(item))
        elif is_date(value):
            found.append(value)
        elif value is not None:
            numbers = numbers_of([value])
            if isinstance(numbers, Error):
                return ERROR
            found.extend(numbers)
    return found


def _extreme(values: Sequence[Any], pick: int) -> Any:
    if values and all(type(v) is float and math.isfinite(v) for v in values):
        return _extreme_of_floats(values, pick)  # the common case, without the general normalisation
    found = _ordered(values)
    if isinstance(found, Error) or not found:
        return found or None
    if len({is_date(value) for value in found}) > 1:
        return ERROR  # numbers mixed with dates
    best = found[0]
    for value in found[1:]:
        if compare(value, best) == pick:
            best = value
    return float(best) if is_number(best) else best


def _extreme_of_floats(values: Sequence[float], pick: int) -> float:
    best = values[0]
    for value in values[1:]:
        if compare(value, best) == pick:
            best = value
    return best


@register("MIN", repeat=(_ORDERED,), min_repeat=1, returns=None)
def min_(*values: Any) -> Any:
    """The smallest number (or earliest date) among the arguments and lists.

    Args:
        number: numbers or dates, or lists of them (``MIN(visit.date)``).

    Returns:
        The smallest value; blank when there is none.

    Excel: as ``MIN``, except that no values at all gives blank (Excel gives 0), so that an
    empty list has no minimum date; dates keep their date type.
    """
    return _extreme(values, -1)


@register("MAX", repeat=(_ORDERED,), min_repeat=1, returns=None)
def max_(*values: Any) -> Any:
    """The largest number (or latest date) among the arguments and lists.

    Args:
        number: numbers or dates, or lists of them (``MAX(visit.date)``).

    Returns:
        The largest value; blank when there is none.

    Excel: as ``MAX``, except that no values at all gives blank (Excel gives 0).
    """
    return _extreme(values, 1)


def _counts(value: Any) -> bool:
    """Whether COUNT counts a value written directly as an argument (Excel counts TRUE and "3")."""
    if isinstance(value, str):
        return parse_number(value) is not None
    return isinstance(value, bool) or counted(value)


@register("COUNT", repeat=(Param("value", shape="either"),), min_repeat=1, returns=NUMBER)
def count(*values: Any) -> float:
    """How many numbers, dates or rows there are.

    Args:
        value: values, lists of values (``COUNT(items.amount)``), or rows (``COUNT(contact)``).

    Returns:
        The count of numbers, dates and rows; text, TRUE/FALSE and blanks in lists are not counted.

    Excel: as ``COUNT``; use ``COUNTA`` to count every non-blank value, text included.
    """
    total = 0
    for value in values:
        total += sum(map(counted, value)) if isinstance(value, list) else _counts(value)
    return float(total)


@register("COUNTA", repeat=(Param("value", shape="either"),), min_repeat=1, returns=NUMBER)
def counta(*values: Any) -> float:
    """How many values are not blank.

    Args:
        value: values, lists of values, or rows.

    Returns:
        The count of non-blank values (text "" counts, as in Excel).

    Excel: as ``COUNTA``.
    """
    return float(sum(value is not None for value in flatten(values)))


def _rows_where(frame: Frame, args: Sequence[Arg]) -> list[Any]:
    """The values of the first argument on the rows where the condition (second argument) holds."""
    source, condition = args[0], args[1]
    values = source.run(frame)
    values = values if isinstance(values, list) else []
    rows = source.rows(frame)
    frame.budget.charge(len(rows))
    return [value for row, value in zip(rows, values, strict=True) if truthy(condition.run(frame.at(row)))]


@register(
    "COUNTIF",
    params=(Param("range", shape="many"), Param("condition", LOGICAL, optional=True, condition=True)),
    returns=NUMBER,
    lazy=True,
)
def countif(frame: Frame, args: Sequence[Arg]) -> float:
    """How many rows meet a condition: ``COUNTIF(alert, alert_type = "risk")``.

    Args:
        range: related rows (``alert``) or a list (``items.amount``).
        condition: evaluated for each row, naming the row's fields; without it, the TRUE values
            of the list are counted (``COUNTIF(sla_met)``).

    Returns:
        The count.

    Excel: like ``COUNTIF``, but the criteria is a condition on each row instead of a
    ``">5"`` text, so it can combine fields (Excel's ``COUNTIFS``).
    """
    if len(args) == 1:
        values = args[0].run(frame)
        return float(sum(item is True for item in values)) if isinstance(values, list) else 0.0
    source = args[0]
    rows = source.rows(frame)
    frame.budget.charge(len(rows))
    return float(sum(truthy(args[1].run(frame.at(row))) for row in rows))


def _conditional(pick: Callable[..., Any]) -> Callable[[Frame, Sequence[Arg]], Any]:
    def run(frame: Frame, args: Sequence[Arg]) -> Any:
        return pick(_rows_where(frame, args))

    run.__doc__ = pick.__doc__
    return run


def _sum_if(values: list[Any]) -> float | Error:
    """The total of the values of a list on the rows that meet a condition.

    Args:
        range: a list of numbers (``account_financial_monthly.revenue``).
        condition: evaluated for each row, naming the row's fields (``period >= EDATE(TODAY(), -12)``).

    Returns:
        The total; 0 when no row meets the condition.

    Excel: like ``SUMIF(range, criteria)`` with a condition on each row instead of a criteria text
    (Excel's ``SUMIFS``).
    """
    return sum_(values)


def _average_if(values: list[Any]) -> float | Error:
    """The mean of the values of a list on the rows that meet a condition.

    Args:
        range: a list of numbers.
        condition: evaluated for each row, naming the row's fields.

    Returns:
        The mean; an error (blank) when no row meets the condition.

    Excel: like ``AVERAGEIF`` with a condition on each row (#DIV/0! when no row meets it).
    """
    return average(values)


def _max_if(values: list[Any]) -> Any:
    """The largest value of a list on the rows that meet a condition.

    Args:
        range: a list of numbers or dates.
        condition: evaluated for each row, naming the row's fields.

    Returns:
        The largest value; blank when no row meets the condition.

    Excel: like ``MAXIFS(max_range, ...)`` with a condition on each row (Excel gives 0 for none).
    """
    return max_(values)


def _min_if(values: list[Any]) -> Any:
    """The smallest value of a list on the rows that meet a condition.

    Args:
        range: a list of numbers or dates.
        condition: evaluated for each row, naming the row's fields.

    Returns:
        The smallest value; blank when no row meets the condition.

    Excel: like ``MINIFS(min_range, ...)`` with a condition on each row (Excel gives 0 for none).
    """
    return min_(values)


_NUMBER_LIST = Param("range", NUMERIC, shape="many")
_ORDERED_LIST = Param("range", NUMERIC | DATES, shape="many", result=True)
register("SUMIF", params=(_NUMBER_LIST, _CONDITION), returns=NUMBER, lazy=True)(_conditional(_sum_if))
register("AVERAGEIF", params=(_NUMBER_LIST, _CONDITION), returns=NUMBER, lazy=True)(_conditional(_average_if))
register("MAXIF", params=(_ORDERED_LIST, _CONDITION), returns=None, lazy=True)(_conditional(_max_if))
register("MINIF", params=(_ORDERED_LIST, _CONDITION), returns=None, lazy=True)(_conditional(_min_if))
