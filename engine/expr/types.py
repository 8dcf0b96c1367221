"""Static types of the expression language and the value semantics every backend follows.

Values (Python backend; SQL and JS mirror them):

* ``None`` is *blank* (an empty field, NULL). Errors such as division by zero, ``SQRT(-1)`` or
  ``VALUE("abc")`` also give blank — decided once: an error is an empty result, never an
  exception, so SQL (``x / NULLIF(y, 0)``) and Python agree. Inside one evaluation an error
  spreads as Excel's ``#DIV/0!`` does: ``1 + 1/0``, ``SUM(1, 1/0)`` and ``1/0 = 1`` are errors
  (blank in the end), not 1; ``IF`` and ``IFS`` only evaluate the branch they take; ``ISBLANK``
  of an error is FALSE; ``COALESCE`` skips blanks and errors (Excel's ``IFERROR``).
* Numbers are ``float`` (Excel's IEEE doubles; ``Decimal`` field values are converted on read).
  ``ROUND`` rounds half away from zero, as Excel does; rounding and comparisons work on 15
  significant digits, as Excel does (``0.1 + 0.2 = 0.3`` is TRUE).
* Text is ``str``; booleans ``bool`` (TRUE counts as 1 in arithmetic, as in Excel).
* Dates are ``datetime.date``; ``date + n`` adds days, ``date - date`` is a number of days.
  Date-times are ``datetime.datetime``.
* Blank in arithmetic is 0, in ``&`` it is "", in a comparison it equals 0, "" and FALSE and is
  less than every date (Excel treats a blank cell as 0).
* Except a blank *date* in ``+`` and ``-``: it is an unknown date, not Excel's day 0 (1899-12-30),
  so what is computed from it is unknown too. ``blank_date ± n`` (and ``n + blank_date``) is
  blank: ``signed_on + 30`` stays empty until ``signed_on`` is filled. ``date - date`` with a
  blank is an error, as ``DAYS``, ``DATEDIF``, ``YEAR`` and the other date functions of a blank
  date are: blank in the end, and unlike a blank it does not count as 0 further on, so
  ``end_date - start_date + 1`` is blank, not 1, and ``ISBLANK(end_date - start_date)`` is FALSE
  (guard with ``IF(ISBLANK(start_date), ...)`` or ``COALESCE(end_date - start_date, 0)``). A
  blank *number* still counts as 0 (``blank + 1`` is 1; ``signed_on + extra_days`` with a blank
  ``extra_days`` is ``signed_on``). The static type says which operands are dates (a date or
  date-time field, ``TODAY()``, ``IF(x, d, NULL)``, ``MAX(visits.date)``...); the backends get it
  from the scope the expression is checked against (``compile_expression(node, scope=...)``,
  ``to_json(node, scope)``, the SQL columns). Without one a field's type is unknown and its
  blank counts as 0.
* Comparisons follow Excel: text compares ignoring case (``"a" = "A"``); values of different
  kinds are never equal and sort numbers < text < TRUE/FALSE (``TRUE = 1`` is FALSE).
* A path that crosses a one-to-many link (a sub-table, or the records of another form that
  point here) gives a *list*: ``SUM(items.amount)``, ``COUNT(contact)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A value type; ``many`` marks a list (one value per related row)."""

    name: str
    many: bool = False
    target: str | None = None  # the form a record reference points at

    def __str__(self) -> str:
        base = f"{self.name}({self.target})" if self.target else self.name
        return f"list of {base}" if self.many else base

    def one(self) -> Type:
        """The type of one element."""
        return Type(self.name, False, self.target)

    def as_many(self) -> Type:
        """The list of this type."""
        return Type(self.name, True, self.target)


NUMBER = Type("number")
TEXT = Type("text")
BOOLEAN = Type("boolean")
DATE = Type("date")
DATETIME = Type("datetime")
TIME = Type("time")
USER = Type("user")
BLANK = Type("blank")  # the NULL literal: fits every type
ANY = Type("any")  # unknown (after an error, or JSON fields): checks pass through


def record(form: str) -> Type:
    """The type of a reference to a record of ``form``."""
    return Type("record", target=form)


def is_numeric(t: Type) -> bool:
    """Numbers, and the types Excel lets arithmetic use (booleans, blanks)."""
    return t.name in ("number", "boolean", "blank", "any")


def compatible(a: Type, b: Type) -> bool:
    """Whether values of ``a`` and ``b`` can be compared with ``=`` (blank and any fit everything).

    TRUE/FALSE do not compare with numbers: in Excel ``TRUE = 1`` is FALSE, so such a comparison
    is a mistake.
    """
    if BLANK in (a, b) or ANY in (a.one(), b.one()):
        return True
    if {a.name, b.name} <= {"date", "datetime"}:
        return True
    return a.name == b.name and (a.target == b.target or None in (a.target, b.target))


def is_date_type(t: Type | None) -> bool:
    """Whether ``t`` is one date or date-time (a blank of this type is a blank date)."""
    return t is not None and t.name in ("date", "datetime") and not t.many


NUMBER_LIKE = frozenset({"number", "integer", "decimal", "percent", "currency", "rating"})


def is_number_like(t: Type) -> bool:
    """Whether ``t`` holds numbers (a number, percent, currency, rating... field)."""
    return t.name in NUMBER_LIKE


def fits(actual: Type, expected: Type) -> bool:
    """Whether a result of type ``actual`` can be stored where ``expected`` is needed.

    A number fits every number-like field (percent, currency...); a date fits a date-time;
    blank and unknown fit everything; a list fits only a list.
    """
    if ANY in (actual.one(), expected.one()) or actual == BLANK:
        return True
    if actual.many != expected.many:
        return False
    if is_number_like(expected):
        return actual.name == "number"
    if expected.name == "datetime":
        return actual.name in ("date", "datetime")
    same_target = actual.target == expected.target or None in (actual.target, expected.target)
    return actual.name == expected.name and same_target
