"""Text: CONCAT, LEFT, RIGHT, MID, LEN, UPPER, LOWER, TRIM, SUBSTITUTE, FIND, CONTAINS, TEXT, VALUE.

Text arguments take text, numbers (written as Excel's General format writes them) and TRUE/FALSE;
a blank reads as "". Positions count characters from 1, as in Excel. Where Excel gives #VALUE!
the result is the ``ERROR`` value (blank in the end).
"""

from __future__ import annotations

import re
from typing import Any

from engine.expr.functions.formats import format_text
from engine.expr.functions.registry import NUMERIC, SCALARS, TEXTUAL, Param, register
from engine.expr.types import BOOLEAN, NUMBER, TEXT
from engine.expr.values import (
    ERROR,
    Error,
    check_length,
    checked_text,
    flatten,
    is_number,
    parse_number,
    to_integer,
    to_text,
)

_TEXT = Param("text", TEXTUAL)
_COUNT = Param("num_chars", NUMERIC, optional=True)


@register("CONCAT", repeat=(Param("text", SCALARS, shape="either"),), min_repeat=1, returns=TEXT)
def concat(*values: Any) -> str:
    """Join texts (and lists of texts) into one text.

    Args:
        text: values or lists of values (``CONCAT(items.name)``); blanks add nothing.

    Returns:
        The joined text.

    Excel: as ``CONCAT`` (lists like ranges); dates are written as ``yyyy-mm-dd`` where Excel
    would write the date's serial number.
    """
    return checked_text("".join(to_text(value) for value in flatten(values)))


@register("LEFT", params=(_TEXT, _COUNT), returns=TEXT)
def left(text: Any, num_chars: Any = 1.0) -> str | Error:
    """The first characters of a text.

    Args:
        text: the text.
        num_chars: how many characters (default 1).

    Returns:
        The first ``num_chars`` characters; an error when ``num_chars`` is negative.

    Excel: as ``LEFT``.
    """
    count = to_integer(num_chars)
    if count is None or count < 0:
        return ERROR
    return to_text(text)[:count]


@register("RIGHT", params=(_TEXT, _COUNT), returns=TEXT)
def right(text: Any, num_chars: Any = 1.0) -> str | Error:
    """The last characters of a text.

    Args:
        text: the text.
        num_chars: how many characters (default 1).

    Returns:
        The last ``num_chars`` characters; an error when ``num_chars`` is negative.

    Excel: as ``RIGHT``.
    """
    count = to_integer(num_chars)
    if count is None or count < 0:
        return ERROR
    value = to_text(text)
    return value[max(0, len(value) - count) :] if count else ""


@register("MID", params=(_TEXT, Param("start_num", NUMERIC), Param("num_chars", NUMERIC)), returns=TEXT)
def mid(text: Any, start_num: Any, num_chars: Any) -> str | Error:
    """Characters from the middle of a text.

    Args:
        text: the text.
        start_num: the position of the first character wanted (1 is the first).
        num_chars: how many characters.

    Returns:
        The characters; "" past the end; an error when ``start_num`` < 1 or ``num_chars`` < 0.

    Excel: as ``MID``.
    """
    start, count = to_integer(start_num), to_integer(num_chars)
    if start is None or count is None or start < 1 or count < 0:
        return ERROR
    return to_text(text)[start - 1 : start - 1 + count]


@register("LEN", params=(_TEXT,), returns=NUMBER)
def len_(text: Any) -> float:
    """The number of characters in a text.

    Args:
        text: the text (a number counts the characters of its General form).

    Returns:
        The length; 0 for blank. A Chinese character counts as one.

    Excel: as ``LEN``.
    """
    return float(len(to_text(text)))


@register("UPPER", params=(_TEXT,), returns=TEXT)
def upper(text: Any) -> str:
    """The text in capital letters.

    Args:
        text: the text.

    Returns:
        The text with every letter upper-case.

    Excel: as ``UPPER``.
    """
    return to_text(text).upper()


@register("LOWER", params=(_TEXT,), returns=TEXT)
def lower(text: Any) -> str:
    """The text in small letters.

    Args:
        text: the text.

    Returns:
        The text with every letter lower-case.

    Excel: as ``LOWER``.
    """
    return to_text(text).lower()


@register("TRIM", params=(_TEXT,), returns=TEXT)
def trim(text: Any) -> str:
    """The text without leading and trailing spaces, and with inner runs of spaces made single.

    Args:
        text: the text.

    Returns:
        The trimmed text.

    Excel: as ``TRIM``: only the ordinary space (character 32) is trimmed, not tabs or the
    full-width space.
    """
    return re.sub(" +", " ", to_text(text).strip(" "))


@register(
    "SUBSTITUTE",
    params=(
        _TEXT,
        Param("old_text", TEXTUAL),
        Param("new_text", TEXTUAL),
        Param("instance_num", NUMERIC, optional=True),
    ),
    returns=TEXT,
)
def substitute(text: Any, old_text: Any, new_text: Any, instance_num: Any = None) -> str | Error:
    """Replace occurrences of one text by another (case-sensitive).

    Args:
        text: the text to change.
        old_text: the text to find.
        new_text: its replacement.
        instance_num: replace only this occurrence (1 is the first); all when left out.

    Returns:
        The changed text; the text unchanged when ``old_text`` is ""; an error when
        ``instance_num`` < 1.

    Excel: as ``SUBSTITUTE``.
    """
    value, old, new = to_text(text), to_text(old_text), to_text(new_text)
    if not old:
        return value
    if instance_num is None:
        check_length(len(value) + value.count(old) * (len(new) - len(old)))  # before building it
        return value.replace(old, new)
    instance = to_integer(instance_num)
    if instance is None or instance < 1:
        return ERROR
    position = -1
    for _ in range(instance):
        position = value.find(old, position + 1)
        if position < 0:
            return value
    return value[:position] + new + value[position + len(old) :]


@register(
    "FIND",
    params=(Param("find_text", TEXTUAL), Param("within_text", TEXTUAL), Param("start_num", NUMERIC, optional=True)),
    returns=NUMBER,
)
def find(find_text: Any, within_text: Any, start_num: Any = 1.0) -> float | Error:
    """The position of one text inside another, counting from 1 (case-sensitive).

    Args:
        find_text: the text to look for ("" matches at ``start_num``).
        within_text: the text to search.
        start_num: the position to start from (default 1).

    Returns:
        The position of the first match; an error when there is none or ``start_num`` is out of range.

    Excel: as ``FIND`` (case-sensitive, no wildcards).
    """
    needle, haystack, start = to_text(find_text), to_text(within_text), to_integer(start_num)
    if start is None or start < 1 or start > len(haystack):
        return ERROR
    position = haystack.find(needle, start - 1)
    return ERROR if position < 0 else float(position + 1)


@register("CONTAINS", params=(_TEXT, Param("search_text", TEXTUAL)), returns=BOOLEAN)
def contains(text: Any, search_text: Any) -> bool:
    """Whether a text contains another, ignoring case (as ``=`` ignores it).

    Args:
        text: the text to search (blank is "").
        search_text: the text to look for ("" is in every text).

    Returns:
        TRUE or FALSE.

    Excel: no Excel function; it is ``ISNUMBER(SEARCH(search_text, text))`` without wildcards.
    """
    return to_text(search_text).casefold() in to_text(text).casefold()


@register("TEXT", params=(Param("value", SCALARS), Param("format_text", frozenset({"text"}))), returns=TEXT)
def text_(value: Any, format_code: Any) -> str | Error:
    """A number or date written with an Excel format code.

    Args:
        value: a number, date or date-time (numeric text is read as a number).
        format_text: ``"0"``, ``"0.00"``, ``"#,##0"``, ``"0%"``, ``"yyyy-mm-dd"``, ``"yyyy年m月"``,
            ``"hh:mm"``, with literal text in double quotes.

    Returns:
        The formatted text; "" for blank; text that is not a number is returned unchanged.

    Excel: as ``TEXT`` with the common format codes, rounding halves away from zero; month and
    day names are English; a blank gives "" where Excel formats it as 0.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    code = to_text(format_code)
    if code.strip().lower() in ("", "general", "@"):
        return to_text(value)
    formatted = format_text(value, code)
    return ERROR if formatted is None else formatted


@register("VALUE", params=(_TEXT,), returns=NUMBER)
def value_(text: Any) -> float | Error:
    """The number a text spells: ``"1,234.5"``, ``" 12 "``, ``"50%"``, ``"1e3"``.

    Args:
        text: the text (a number is returned as is).

    Returns:
        The number; 0 for blank; an error when the text is not a number.

    Excel: as ``VALUE`` for numbers; date text is not read as a date.
    """
    if text is None:
        return 0.0
    if is_number(text):  # a float, or a record's id (a bare THIS) as the context gives it
        return float(text)
    number = parse_number(text) if isinstance(text, str) else None
    return ERROR if number is None else number
