"""Excel format codes for ``TEXT``: numbers (``0.00``, ``#,##0``, ``0%``) and dates (``yyyy-mm-dd``).

Supported: sections ``positive;negative;zero``, ``0 # ?`` digit places, ``,`` grouping and a trailing
``,`` per thousand, ``%``, quoted ``"literals"`` and ``\\x`` escapes, and the date parts ``yy yyyy
m mm mmm mmmm d dd ddd dddd h hh m mm (minutes after h or before s) s ss AM/PM``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from engine.expr.values import parse_number, serial, to_date

_PIECE = re.compile(r'"[^"]*"|\\.|AM/PM|A/P|([yYmMdDhHsS])\1*|.', re.DOTALL)
_DATE_LETTERS = re.compile(r"[yYdDhHsS]")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PLACEHOLDERS = "0#?"
_DATE_PARTS = "yYmMdDhHsS"


def _sections(code: str) -> list[str]:
    """``code`` split on the ``;`` that are not quoted or escaped."""
    sections = [""]
    for match in re.finditer(r'"[^"]*"|\\.|.', code, re.DOTALL):
        if match.group() == ";":
            sections.append("")
        else:
            sections[-1] += match.group()
    return sections


def _bare(code: str) -> str:
    """``code`` without its quoted literals and escaped characters."""
    return re.sub(r'"[^"]*"|\\.', "", code)


def is_date_format(code: str) -> bool:
    """Whether ``code`` formats dates (it has y, d, h or s, or only m's and no digit places)."""
    bare = _bare(code)
    if _DATE_LETTERS.search(bare):
        return True
    return "m" in bare.lower() and not any(c in bare for c in _PLACEHOLDERS)


def format_text(value: object, code: str) -> str | None:
    """``value`` written with the Excel format ``code``; None when ``value`` cannot be formatted."""
    if is_date_format(code):
        return format_date(value, code)
    return format_number(value, code)


# -- dates ------------------------------------------------------------------------------------
def _moment(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    day = to_date(value)  # an Excel serial number too
    if isinstance(value, float) and day is not None:
        seconds = round((value - math.floor(value)) * 86400)
        return dt.datetime(day.year, day.month, day.day) + dt.timedelta(seconds=seconds)
    return None if day is None else dt.datetime(day.year, day.month, day.day)


def _is_minutes(pieces: list[str], index: int) -> bool:
    """Excel reads ``m``/``mm`` as minutes right after an hour or right before seconds."""
    parts = [p[0].lower() if p[0] in _DATE_PARTS else "" for p in pieces]
    before = [p for p in parts[:index] if p]
    after = [p for p in parts[index + 1 :] if p]
    return bool(before and before[-1] == "h") or bool(after and after[0] == "s")


def _date_piece(piece: str, moment: dt.datetime, minutes: bool, twelve: bool) -> str:
    letter, width = piece[0].lower(), len(piece)
    if letter == "y":
        return f"{moment.year % 100:02d}" if width <= 2 else f"{moment.year:04d}"
    if letter == "m" and minutes:
        return f"{moment.minute:0{min(width, 2)}d}"
    if letter == "m":
        if width <= 2:
            return f"{moment.month:0{width}d}"
        name = _MONTHS[moment.month - 1]
        return {3: name[:3], 5: name[0]}.get(width, name)
    if letter == "d":
        if width <= 2:
            return f"{moment.day:0{width}d}"
        name = _DAYS[moment.weekday()]
        return name[:3] if width == 3 else name
    if letter == "h":
        hour = (moment.hour % 12 or 12) if twelve else moment.hour
        return f"{hour:0{min(width, 2)}d}"
    return f"{moment.second:0{min(width, 2)}d}"


def format_date(value: object, code: str) -> str | None:
    """A date, date-time or Excel serial number written with a date format code."""
    moment = _moment(value)
    if moment is None:
        return None
    pieces = [match.group() for match in _PIECE.finditer(code)]
    twelve = any(p.upper() in ("AM/PM", "A/P") for p in pieces)
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if piece.upper() in ("AM/PM", "A/P"):
            marker = "AM" if moment.hour < 12 else "PM"
            out.append(marker if len(piece) > 3 else marker[0])
        elif piece[0] in _DATE_PARTS:
            out.append(_date_piece(piece, moment, piece[0] in "mM" and _is_minutes(pieces, index), twelve))
        else:
            out.append(_literal(piece))
    return "".join(out)


def _literal(piece: str) -> str:
    if piece.startswith('"'):
        return piece[1:-1]
    return piece[1:] if piece.startswith("\\") else piece


# -- numbers ----------------------------------------------------------------------------------
def _section_for(code: str, number: float) -> tuple[str, float, bool]:
    """The section that formats ``number``, the number it shows, and whether it needs a minus."""
    sections = _sections(code)
    if number < 0 and len(sections) >= 2:
        return sections[1], -number, False
    if number == 0 and len(sections) >= 3:
        return sections[2], number, False
    return sections[0], abs(number), number < 0


def format_number(value: object, code: str) -> str | None:
    """A number written with a number format code; text that is not a number is returned as is."""
    if isinstance(value, str):
        number = parse_number(value)
        if number is None:
            return value
    elif isinstance(value, dt.date):
        number = serial(value)  # Excel formats a date as its serial number
    elif isinstance(value, bool) or not isinstance(value, float | int):
        return None
    else:
        number = float(value)
    section, shown, minus = _section_for(code, number)
    text = _number_section(section, shown)
    return f"-{text}" if minus and any(c in "123456789" for c in text) else text


def _number_section(section: str, number: float) -> str:
    pieces = [match.group() for match in re.finditer(r'"[^"]*"|\\.|.', section, re.DOTALL)]
    slots = [i for i, p in enumerate(pieces) if p in _PLACEHOLDERS]
    if not slots:
        return "".join(_literal(p) for p in pieces)
    first, last = slots[0], slots[-1]
    if first > 0 and pieces[first - 1] == ".":
        first -= 1
    scale = Decimal(100) ** sum(p == "%" for p in pieces)
    trailing = last + 1
    while trailing < len(pieces) and pieces[trailing] == ",":
        scale /= 1000
        trailing += 1
    digits = _digits("".join(pieces[first : last + 1]), Decimal(repr(number)) * scale)
    prefix = "".join(_literal(p) for p in pieces[:first])
    suffix = "".join(_literal(p) for p in pieces[trailing:])
    return prefix + digits + suffix


def _digits(pattern: str, number: Decimal) -> str:
    """``number`` (not negative) written with a pattern such as ``#,##0.00``."""
    whole_pattern, _, fraction_pattern = pattern.partition(".")
    fraction_pattern = "".join(c for c in fraction_pattern if c in _PLACEHOLDERS)
    rounded = number.quantize(Decimal(1).scaleb(-len(fraction_pattern)), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    fraction = fraction.ljust(len(fraction_pattern), "0")
    required = len(fraction_pattern.rstrip("#?"))
    while len(fraction) > required and fraction.endswith("0"):
        fraction = fraction[:-1]
    minimum = whole_pattern.count("0")
    whole = whole.lstrip("0").rjust(minimum, "0")
    if "," in whole_pattern and whole:
        whole = f"{int(whole):,}".rjust(minimum, "0")
    return whole + ("." + fraction if "." in pattern else "")  # Excel keeps the point: TEXT(3, "0.##") is "3."
