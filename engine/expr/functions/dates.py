"""Dates: TODAY, NOW, DATE, YEAR, MONTH, DAY, WEEKDAY, EDATE, EOMONTH, DATEDIF, DAYS, NETWORKDAYS, WORKDAY.

Date arguments take dates and date-times (a date-time counts as its day); at run time ISO text
and Excel serial numbers (45000 is 2023-03-15) are read too. A blank date is an unknown date,
where Excel would read it as day 0 (1900-01-00): the result is an error, blank in the end
(``DAYS(TODAY(), blank)`` is not 46000 days), as ``date - date`` with a blank is (``types.py``).
Where Excel gives #NUM! or #VALUE! (a date out of years 1 to 9999, an unknown unit) the result
is the ``ERROR`` value (blank in the end).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any

from engine.expr.functions.registry import DATES, NUMERIC, Param, register
from engine.expr.scope import Context
from engine.expr.types import DATE, DATETIME, NUMBER
from engine.expr.values import ERROR, Error, flatten, to_date, to_integer

_DATE = Param("serial_number", DATES)
_START = Param("start_date", DATES)
_END = Param("end_date", DATES)
_MONTHS = Param("months", NUMERIC)
_HOLIDAYS = Param("holidays", DATES, shape="either", optional=True)
WEEKDAY_TYPES = (1, 2, 3, 11, 12, 13, 14, 15, 16, 17)
DATEDIF_UNITS = ("Y", "M", "D", "MD", "YM", "YD")


def _on_dates(count: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Read the first ``count`` arguments as dates: a blank or a non-date among them is an error (blank in the end)."""

    def decorate(implementation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(implementation)
        def run(*values: Any) -> Any:
            if any(value is None for value in values[:count]):
                return ERROR
            dates = [to_date(value) for value in values[:count]]
            if any(date is None for date in dates):
                return ERROR
            return implementation(*dates, *values[count:])

        return run

    return decorate


@register("TODAY", returns=DATE, needs_context=True)
def today(context: Context) -> dt.date:
    """Today's date, in the instance's time zone.

    Returns:
        The date (formulas using it are refreshed daily by the scheduler).

    Excel: as ``TODAY``.
    """
    return context.today


@register("NOW", returns=DATETIME, needs_context=True)
def now(context: Context) -> dt.datetime:
    """The current date and time.

    Returns:
        The date-time.

    Excel: as ``NOW``.
    """
    return context.now


def _month_start(year: int, month: int) -> dt.date:
    """The first day of ``month`` months after January of ``year`` (month 13 is next January)."""
    carry, month0 = divmod(month - 1, 12)
    return dt.date(year + carry, month0 + 1, 1)


@register("DATE", params=(Param("year", NUMERIC), Param("month", NUMERIC), Param("day", NUMERIC)), returns=DATE)
def date(year: Any, month: Any, day: Any) -> dt.date | Error:
    """The date of a year, month and day; months and days past their range roll over.

    Args:
        year: the year; 0 to 1899 are read as 1900 to 3799, as Excel does.
        month: the month; 13 is January of the next year, 0 is December of the year before.
        day: the day; 0 is the last day of the month before, 32 rolls into the next month.

    Returns:
        The date; an error when it falls outside years 1 to 9999.

    Excel: as ``DATE`` (#NUM! outside years 1900 to 9999).
    """
    parts = [to_integer(part) for part in (year, month, day)]
    if any(part is None for part in parts):
        return ERROR
    y, m, d = (int(part or 0) for part in parts)
    y = y + 1900 if 0 <= y < 1900 else y
    return _month_start(y, m) + dt.timedelta(days=d - 1)


@register("YEAR", params=(_DATE,), returns=NUMBER)
@_on_dates(1)
def year(serial_number: dt.date) -> float:
    """The year of a date.

    Args:
        serial_number: a date or date-time.

    Returns:
        The year, e.g. 2026; blank for a blank date.

    Excel: as ``YEAR`` (Excel gives 1900 for a blank cell).
    """
    return float(serial_number.year)


@register("MONTH", params=(_DATE,), returns=NUMBER)
@_on_dates(1)
def month(serial_number: dt.date) -> float:
    """The month of a date, 1 to 12.

    Args:
        serial_number: a date or date-time.

    Returns:
        The month; blank for a blank date.

    Excel: as ``MONTH``.
    """
    return float(serial_number.month)


@register("DAY", params=(_DATE,), returns=NUMBER)
@_on_dates(1)
def day(serial_number: dt.date) -> float:
    """The day of the month of a date, 1 to 31.

    Args:
        serial_number: a date or date-time.

    Returns:
        The day; blank for a blank date.

    Excel: as ``DAY``.
    """
    return float(serial_number.day)


@register(
    "WEEKDAY", params=(_DATE, Param("return_type", NUMERIC, optional=True, choices=WEEKDAY_TYPES)), returns=NUMBER
)
@_on_dates(1)
def weekday(serial_number: dt.date, return_type: Any = 1.0) -> float | Error:
    """The day of the week of a date, as a number.

    Args:
        serial_number: a date or date-time.
        return_type: 1 (default): Sunday 1 to Saturday 7; 2: Monday 1 to Sunday 7; 3: Monday 0 to
            Sunday 6; 11 to 17: Monday to Sunday is 1.

    Returns:
        The number; an error for another ``return_type``.

    Excel: as ``WEEKDAY`` (#NUM! for another ``return_type``).
    """
    kind, monday0 = to_integer(return_type), serial_number.weekday()
    if kind == 1:
        return float((monday0 + 1) % 7 + 1)
    if kind == 3:
        return float(monday0)
    if kind == 2 or (kind is not None and 11 <= kind <= 17):
        first = 0 if kind == 2 else kind - 11  # the weekday numbered 1, Monday = 0
        return float((monday0 - first) % 7 + 1)
    return ERROR


def _add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by whole months, keeping the day unless the month is shorter."""
    first = _month_start(start.year, start.month + months)
    return first.replace(day=min(start.day, calendar.monthrange(first.year, first.month)[1]))


@register("EDATE", params=(_START, _MONTHS), returns=DATE)
@_on_dates(1)
def edate(start_date: dt.date, months: Any) -> dt.date | Error:
    """The date some months before or after a date, on the same day of the month.

    Args:
        start_date: the date.
        months: months to add (negative goes back; fractions are dropped).

    Returns:
        The date; the last day of the month when the month is shorter (``EDATE(2026-01-31, 1)``
        is 2026-02-28).

    Excel: as ``EDATE``.
    """
    count = to_integer(months)
    return ERROR if count is None else _add_months(start_date, count)


@register("EOMONTH", params=(_START, _MONTHS), returns=DATE)
@_on_dates(1)
def eomonth(start_date: dt.date, months: Any) -> dt.date | Error:
    """The last day of the month some months before or after a date.

    Args:
        start_date: the date.
        months: months to add (0 is the date's own month).

    Returns:
        The month's last day.

    Excel: as ``EOMONTH``.
    """
    count = to_integer(months)
    if count is None:
        return ERROR
    return _month_start(start_date.year, start_date.month + count + 1) - dt.timedelta(days=1)


def _months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (``start`` <= ``end``)."""
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _days_ignoring_months(start: dt.date, end: dt.date) -> int:
    """DATEDIF's "MD", computed as Excel computes it."""
    if end.day >= start.day:
        return end.day - start.day
    before = end.replace(day=1) - dt.timedelta(days=1)
    return calendar.monthrange(before.year, before.month)[1] - start.day + end.day


@register("DATEDIF", params=(_START, _END, Param("unit", frozenset({"text"}), choices=DATEDIF_UNITS)), returns=NUMBER)
@_on_dates(2)
def datedif(start_date: dt.date, end_date: dt.date, unit: Any) -> float | Error:
    """The time between two dates in whole years, months or days.

    Args:
        start_date: the earlier date.
        end_date: the later date.
        unit: "Y" years, "M" months, "D" days, "MD" days ignoring months and years, "YM" months
            ignoring years, "YD" days ignoring years (any case).

    Returns:
        The count; an error when ``start_date`` is after ``end_date`` or the unit is unknown.

    Excel: as ``DATEDIF``, including Excel's documented "MD" flaw: when the end's day is before the
    start's, it counts from that day in the month before the end, which can give a negative
    number (``DATEDIF(DATE(2024,1,31), DATE(2024,3,1), "MD")`` is -1).
    """
    if start_date > end_date or not isinstance(unit, str):
        return ERROR
    months = _months_between(start_date, end_date)
    results = {
        "Y": lambda: months // 12,
        "M": lambda: months,
        "D": lambda: (end_date - start_date).days,
        "YM": lambda: months % 12,
        "MD": lambda: _days_ignoring_months(start_date, end_date),
        "YD": lambda: (end_date - _add_months(start_date, months - months % 12)).days,
    }
    result = results.get(unit.strip().upper())
    return ERROR if result is None else float(result())


@register("DAYS", params=(_END, _START), returns=NUMBER)
@_on_dates(2)
def days(end_date: dt.date, start_date: dt.date) -> float:
    """The number of days from one date to another.

    Args:
        end_date: the later date.
        start_date: the earlier date.

    Returns:
        ``end_date - start_date`` in days (negative when ``end_date`` is earlier).

    Excel: as ``DAYS`` (the end date comes first).
    """
    return float((end_date - start_date).days)


def _holidays(values: Iterable[Any]) -> set[dt.date]:
    """The weekday dates among the holiday arguments (weekend holidays change nothing)."""
    found = {to_date(value) for value in flatten(values)}
    return {day for day in found if day is not None and day.weekday() < 5}


def _weekdays(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both included (``start`` <= ``end``)."""
    weeks, extra = divmod((end - start).days + 1, 7)
    return weeks * 5 + sum((start.weekday() + i) % 7 < 5 for i in range(extra))


@register("NETWORKDAYS", params=(_START, _END, _HOLIDAYS), returns=NUMBER)
@_on_dates(2)
def networkdays(start_date: dt.date, end_date: dt.date, holidays: Any = None) -> float:
    """The number of working days (Monday to Friday) between two dates, both included.

    Args:
        start_date: the first date.
        end_date: the last date.
        holidays: dates (or a list of dates) that are not working days.

    Returns:
        The count; negative when ``end_date`` is before ``start_date``.

    Excel: as ``NETWORKDAYS``.
    """
    if start_date > end_date:
        return -float(networkdays(end_date, start_date, holidays))
    off = sum(start_date <= day <= end_date for day in _holidays([holidays]))
    return float(_weekdays(start_date, end_date) - off)


def _step_workdays(current: dt.date, remaining: int, step: int, off: set[dt.date]) -> dt.date:
    """Move ``remaining`` working days from ``current`` in direction ``step`` (+1 or -1)."""
    while remaining > 5:
        weeks = (remaining - 1) // 5
        target = current + dt.timedelta(days=7 * weeks * step)
        low, high = sorted((current, target))
        skipped = sum(low < day <= high if step > 0 else low <= day < high for day in off)
        current, remaining = target, remaining - 5 * weeks + skipped  # any 7 days hold 5 weekdays
    while remaining > 0:
        current += dt.timedelta(days=step)
        remaining -= current.weekday() < 5 and current not in off
    return current


@register("WORKDAY", params=(_START, Param("days", NUMERIC), _HOLIDAYS), returns=DATE)
@_on_dates(1)
def workday(start_date: dt.date, days: Any, holidays: Any = None) -> dt.date | Error:
    """The working day a number of working days before or after a date.

    Args:
        start_date: the date to count from (not counted itself).
        days: working days to move (negative goes back; fractions are dropped).
        holidays: dates (or a list of dates) that are not working days.

    Returns:
        The date; ``start_date`` itself for 0 days.

    Excel: as ``WORKDAY`` (weekends are Saturday and Sunday).
    """
    count = to_integer(days)
    if count is None:
        return ERROR
    return _step_workdays(start_date, abs(count), 1 if count >= 0 else -1, _holidays([holidays]))
