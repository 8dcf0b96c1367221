"""Run-time value rules shared by the evaluator and the functions (see ``types.py`` for the contract).

Inside an evaluation an error (``1/0``, ``SQRT(-1)``, ``VALUE("abc")``) is the :data:`ERROR`
value, which spreads through operators and functions as Excel's ``#DIV/0!`` does (``1 + 1/0`` is
an error, not 1); the evaluator hands it out as blank. Blank (``None``) is an empty value: 0 in
arithmetic (but a blank date stays unknown, see ``operators.binary_operator``), "" in text. Every
helper here is total: it never raises for bad input, infinities and NaN included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from math import isfinite
from typing import Any, Final

from engine.expr.errors import ExprError

MAX_TEXT_LENGTH = 1_000_000  # a text result longer than this is an error, not a memory blow-up
EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0, for serial numbers from day 61 (1900-03-01) on
_LAST_SERIAL = 2_958_465  # 9999-12-31
# Two floats of one sign further apart than this times the sum of their sizes never round to
# the same 15 significant digits: that needs a gap of at most 1e-14 of the larger; 1e-13 leaves
# room for the float rounding of the test itself (see ``compare``).
_APART = 1e-13


class Error:
    """The type of :data:`ERROR`: the result of a failed operation (Excel's #DIV/0!, #VALUE!, #NUM!...)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "#ERROR"


ERROR: Final = Error()


def normalize(value: Any) -> Any:
    """A value in the evaluator's own shapes: ``int``/``Decimal`` become ``float``; NaN and infinities are blank."""
    kind = type(value)
    if kind is float:  # the common cases first, without isinstance
        return value if isfinite(value) else None
    if kind is str or kind is bool or value is None:
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        return None  # float() refuses a signalling NaN
    if isinstance(value, float | int | Decimal):
        try:
            number = float(value)
        except OverflowError:  # an int beyond the doubles
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, list | tuple):
        return [normalize(item) for item in value]
    return value


def finite(number: float) -> float | Error:
    """``number``, or an error when it overflowed (infinite or not a number)."""
    return number if math.isfinite(number) else ERROR


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number proper (booleans are not, as in Excel's ranges)."""
    if type(value) is float:  # the common case, without two isinstance calls
        return True
    return isinstance(value, float | int) and not isinstance(value, bool)


def is_date(value: Any) -> bool:
    """Whether ``value`` is a date or a date-time."""
    return isinstance(value, dt.date)


def to_number(value: Any) -> float | None:
    """``value`` as a number for arithmetic: blank is 0, TRUE is 1, numeric text is read (Excel).

    None when it is not a number (text such as "abc", a date, an error).
    """
    if type(value) is float:  # the common case first (a bool or an int goes the general way)
        return value if isfinite(value) else None
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        number = normalize(value)
        return number if isinstance(number, float) else None
    if isinstance(value, str):
        return parse_number(value)
    return None


def parse_number(text: str) -> float | None:
    """Read ``"1,234.5"``, ``" 12 "``, ``"50%"`` or ``"1e3"``; None when it is not a number."""
    cleaned = text.strip().replace(",", "")
    scale = 1.0
    if cleaned.endswith("%"):
        cleaned, scale = cleaned[:-1].rstrip(), 0.01
    if not cleaned or "_" in cleaned or any(c.isalpha() and c not in "eE" for c in cleaned):
        return None
    try:
        number = float(cleaned) * scale
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def to_integer(value: Any) -> int | None:
    """``value`` as a whole number, truncated toward zero as Excel does for counts and places."""
    number = to_number(value)
    return None if number is None else int(number)


def to_logical(value: Any) -> bool | Error:
    """``value`` as a condition: blank is FALSE, a number is TRUE unless 0, text "TRUE"/"FALSE" is read."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if is_number(value):
        return bool(value)
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    return ERROR


def truthy(value: Any) -> bool:
    """Whether ``value`` holds as a condition (an error does not)."""
    return to_logical(value) is True


def significant(number: float) -> Decimal:
    """``number`` as a ``Decimal`` of at most 15 significant digits, the precision Excel works in.

    So ``ROUND(2.675, 2)`` is 2.68 and ``ROUNDUP(0.1 + 0.2, 1)`` is 0.3, as in Excel.
    """
    return Decimal(f"{number:.15g}")


def general(number: float) -> str:
    """A number as Excel's General format writes it: ``1`` not ``1.0``, at most 15 significant digits.

    An infinity or NaN (which the evaluator never holds: it is an error there) is ``#NUM!``, as
    Excel shows an overflow.
    """
    if not math.isfinite(number):
        return "#NUM!"
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{exponent[0]}{exponent[1:].lstrip('0').rjust(2, '0')}"
    return text


def to_text(value: Any) -> str:
    """``value`` as text for ``&`` and text functions: blank is "", dates are ISO (``2026-01-15``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_number(value):
        return general(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def check_length(length: int) -> None:
    """Refuse a text result of ``length`` characters when it is over :data:`MAX_TEXT_LENGTH`.

    Raises:
        ExprError: ``too_long`` (a resource limit, so an error rather than a blank).
    """
    if length > MAX_TEXT_LENGTH:
        raise ExprError("too_long", f"a text result would be longer than {MAX_TEXT_LENGTH} characters", 0)


def checked_text(text: str) -> str:
    """``text``, after making sure it stays within :data:`MAX_TEXT_LENGTH`."""
    check_length(len(text))
    return text


def from_serial(number: float) -> dt.date | None:
    """The date of an Excel serial number (1 is 1900-01-01; Excel's phantom 1900-02-29 reads as the 28th)."""
    if not math.isfinite(number):
        return None
    whole = math.floor(number)
    if not 1 <= whole <= _LAST_SERIAL:
        return None
    if whole <= 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=min(whole, 59))
    return EPOCH.date() + dt.timedelta(days=whole)


def serial(value: dt.date) -> float:
    """The Excel serial number of a date or date-time (days since 1899-12-30, time as a fraction)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
    return (moment.replace(tzinfo=None) - EPOCH).total_seconds() / 86400


def to_date(value: Any) -> dt.date | None:
    """``value`` as a date: a date-time keeps its day, ISO text and Excel serial numbers are read."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return from_serial(float(value)) if is_number(value) and math.isfinite(value) else None


def flatten(values: Iterable[Any]) -> Iterator[Any]:
    """The arguments with every list spread out (``SUM(a, items.amount)``)."""
    for value in values:
        if isinstance(value, list):
            yield from value
        else:
            yield value


def numbers_of(values: Iterable[Any]) -> list[float] | Error:
    """The numbers among ``values``: list items count only when they are numbers (Excel's ranges);
    a single argument is read as a number (TRUE is 1, numeric text is read), blank is skipped."""
    found: list[float] = []
    for value in values:
        if type(value) is float and isfinite(value):  # the common case: already the number
            found.append(value)
        elif isinstance(value, list):
            found.extend(float(item) for item in value if is_number(item))
        elif value is not None:
            number = to_number(value)
            if number is None:
                return ERROR
            found.append(number)
    return found


def _key(value: Any) -> tuple[int, Any] | None:
    """How ``value`` sorts: numbers (and dates, as serial numbers) < text (ignoring case) < TRUE/FALSE."""
    if isinstance(value, bool):
        return 2, value
    if is_number(value):
        return (0, significant(float(value))) if math.isfinite(value) else None  # NaN has no order
    if isinstance(value, dt.date):
        return 0, significant(serial(value))
    if isinstance(value, str):
        return 1, value.casefold()
    return None


def _blank_like(other: Any) -> Any:
    """What a blank stands for next to ``other``: FALSE, "", or 0 (before every date)."""
    if isinstance(other, bool):
        return False
    return "" if isinstance(other, str) else 0.0


def compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right`` (Excel's rules); None when it cannot.

    Numbers compare to 15 significant digits (``0.1 + 0.2 = 0.3``); text ignores case; a blank
    equals 0, "" and FALSE; TRUE is never equal to 1 and sorts after every number and text.

    Two floats (the common case) take a fast lane: rounding to 15 significant digits never
    reverses an order, and it makes two floats equal only when they have the same sign and are
    within 1e-14 of the larger, so outside that the floats' own order is the answer, without two
    ``Decimal``. (For opposite signs the test is looser, but such floats never round alike.)
    Close pairs, infinities and NaN go the exact way.
    """
    if type(left) is float and type(right) is float:
        if left == right:
            return 0
        if abs(left - right) > _APART * abs(left + right):
            return 1 if left > right else -1
    if left is None and right is None:
        return 0
    left = _blank_like(right) if left is None else left
    right = _blank_like(left) if right is None else right
    a, b = _key(left), _key(right)
    if a is None or b is None:
        return None
    return int(a > b) - int(a < b)


def equals(left: Any, right: Any) -> bool:
    """``left = right`` for values that cannot be ordered too (user ids, records)."""
    order = compare(left, right)
    return bool(left == right) if order is None else order == 0


def counted(value: Any) -> bool:
    """Whether ``COUNT`` counts a list item: numbers, dates and whole rows; not text, TRUE/FALSE or blanks."""
    return not (value is None or isinstance(value, str | bool))
