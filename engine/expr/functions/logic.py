"""Logic: IF, IFS, SWITCH, AND, OR, NOT, XOR, ISBLANK, COALESCE, BAND, CURRENT_USER."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.expr.functions.registry import DATES, LOGICAL, NUMERIC, Param, register
from engine.expr.runtime import Arg, Frame
from engine.expr.scope import Context
from engine.expr.types import BOOLEAN, USER
from engine.expr.values import ERROR, Error, compare, equals, normalize, to_logical

_TEST = Param("logical_test", LOGICAL)
_LOGICALS = Param("logical", LOGICAL, shape="either")


@register(
    "IF",
    params=(
        _TEST,
        Param("value_if_true", result=True),
        Param("value_if_false", optional=True, result=True, missing=BOOLEAN),
    ),
    returns=None,
    lazy=True,
)
def if_(frame: Frame, args: Sequence[Arg]) -> Any:
    """Choose between two values; only the chosen one is evaluated.

    Args:
        logical_test: the condition (blank counts as FALSE).
        value_if_true: the result when the condition holds.
        value_if_false: the result otherwise.

    Returns:
        The chosen value.

    Excel: as ``IF``: a missing ``value_if_false`` gives FALSE, and an error in the condition is an
    error. Write ``IF(x > 0, x, NULL)`` for a blank instead.
    """
    test = to_logical(args[0].run(frame))
    if test is ERROR:
        return ERROR
    if test:
        return args[1].run(frame)
    return args[2].run(frame) if len(args) > 2 else False


@register("IFS", repeat=(_TEST, Param("value_if_true", result=True)), min_repeat=1, returns=None, lazy=True)
def ifs(frame: Frame, args: Sequence[Arg]) -> Any:
    """The value paired with the first condition that holds; later pairs are not evaluated.

    Args:
        logical_test: a condition.
        value_if_true: the result when it is the first condition to hold.

    Returns:
        The value of the first true condition; an error (blank) when none holds.

    Excel: as ``IFS`` (#N/A when no condition holds). Write ``TRUE, default`` as the last pair
    for a default.
    """
    for index in range(0, len(args), 2):
        test = to_logical(args[index].run(frame))
        if test is not False:
            return ERROR if test is ERROR else args[index + 1].run(frame)
    return ERROR


@register(
    "SWITCH",
    params=(Param("expression"),),
    repeat=(Param("value"), Param("result", result=True)),
    min_repeat=1,
    tail=Param("default", result=True),
    returns=None,
    lazy=True,
)
def switch(frame: Frame, args: Sequence[Arg]) -> Any:
    """The result paired with the first value equal to the expression.

    Args:
        expression: the value to match.
        value: a value to compare it with (``=`` rules: blank equals 0 and "").
        result: the result when this value matches.
        default: the result when no value matches.

    Returns:
        The matching result, else the default, else an error (blank).

    Excel: as ``SWITCH`` (#N/A when nothing matches and there is no default); values match
    by ``=`` (text ignoring case).
    """
    subject = args[0].run(frame)
    pairs = len(args) - 1
    for index in range(1, pairs - pairs % 2 + 1, 2):
        candidate = args[index].run(frame)
        if subject is ERROR or candidate is ERROR:
            return ERROR
        if equals(subject, candidate):
            return args[index + 1].run(frame)
    return args[-1].run(frame) if pairs % 2 else ERROR


def _logicals(values: Sequence[Any]) -> list[bool] | Error:
    """Each argument's truth value; in lists, blanks and text are skipped (as Excel skips them in ranges)."""
    found: list[bool] = []
    for value in values:
        if isinstance(value, list):
            found += [to_logical(item) is True for item in value if item is not None and not isinstance(item, str)]
            continue
        logical = to_logical(value)
        if logical is ERROR:
            return ERROR
        found.append(logical is True)
    return found


@register("AND", repeat=(_LOGICALS,), min_repeat=1, returns=BOOLEAN)
def and_(*values: Any) -> bool | Error:
    """TRUE when every argument is TRUE.

    Args:
        logical: conditions, or lists of them (``AND(items.checked)``).

    Returns:
        TRUE or FALSE (blank counts as FALSE; an empty list is TRUE).

    Excel: as ``AND``: every argument is evaluated, so an error in any gives an error (blank);
    text that is not "TRUE"/"FALSE" is an error.
    """
    logicals = _logicals(values)
    return logicals if isinstance(logicals, Error) else all(logicals)


@register("OR", repeat=(_LOGICALS,), min_repeat=1, returns=BOOLEAN)
def or_(*values: Any) -> bool | Error:
    """TRUE when any argument is TRUE.

    Args:
        logical: conditions, or lists of them.

    Returns:
        TRUE or FALSE (blank counts as FALSE).

    Excel: as ``OR``: every argument is evaluated, so an error in any gives an error (blank).
    """
    logicals = _logicals(values)
    return logicals if isinstance(logicals, Error) else any(logicals)


@register("XOR", repeat=(_LOGICALS,), min_repeat=1, returns=BOOLEAN)
def xor(*values: Any) -> bool | Error:
    """TRUE when an odd number of the arguments are TRUE.

    Args:
        logical: conditions, or lists of them.

    Returns:
        TRUE or FALSE.

    Excel: as ``XOR``.
    """
    logicals = _logicals(values)
    return logicals if isinstance(logicals, Error) else sum(logicals) % 2 == 1


@register("NOT", params=(_TEST,), returns=BOOLEAN)
def not_(value: Any) -> bool | Error:
    """The opposite truth value.

    Args:
        logical_test: a condition.

    Returns:
        TRUE when the condition is FALSE or blank.

    Excel: as ``NOT`` (``NOT(blank)`` is TRUE; ``NOT("abc")`` is an error).
    """
    logical = to_logical(value)
    return logical if logical is ERROR else logical is not True


@register("ISBLANK", params=(Param("value"),), returns=BOOLEAN, lazy=True)
def isblank(frame: Frame, args: Sequence[Arg]) -> bool:
    """Whether a value is blank (an empty field, or NULL).

    Args:
        value: any single value.

    Returns:
        TRUE for blank; FALSE for anything else, including "", 0 and an error.

    Excel: as ``ISBLANK`` (``ISBLANK(1/0)`` is FALSE). It sees errors, so it is lazy.
    """
    return args[0].run(frame) is None


@register("COALESCE", repeat=(Param("value", result=True),), min_repeat=1, returns=None, lazy=True)
def coalesce(frame: Frame, args: Sequence[Arg]) -> Any:
    """The first argument that is not blank; later ones are not evaluated.

    Args:
        value: candidate values, in order.

    Returns:
        The first value that is neither blank nor an error, or blank.

    Excel: no Excel function (SQL's ``COALESCE``, where errors are NULL too); it also serves
    as Excel's ``IFERROR``: ``COALESCE(a / b, 0)``.
    """
    for arg in args:
        value = arg.run(frame)
        if value is not None and value is not ERROR:
            return value
    return None


_BANDED = NUMERIC | DATES


@register(
    "BAND",
    params=(Param("x", _BANDED),),
    repeat=(Param("threshold", _BANDED), Param("score", result=True)),
    min_repeat=1,
    tail=Param("default", result=True),
    returns=None,
)
def band(x: Any, *rest: Any) -> Any:
    """The score of the first threshold that ``x`` reaches: ``BAND(x, t1, s1, t2, s2, ..., default)``.

    Args:
        x: the value to band (blank counts as 0).
        threshold: a threshold; list them from highest to lowest.
        score: the result when ``x >= threshold`` and no earlier threshold was reached.
        default: the result when no threshold is reached.

    Returns:
        The score, else the default, else an error (blank), as ``IFS`` gives.

    Excel: no Excel function; it is ``IFS(x >= t1, s1, x >= t2, s2, TRUE, default)``.
    """
    pairs = len(rest) - len(rest) % 2
    for index in range(0, pairs, 2):
        order = compare(x, rest[index])
        if order is not None and order >= 0:
            return rest[index + 1]
    return rest[-1] if len(rest) % 2 else ERROR


@register("CURRENT_USER", returns=USER, needs_context=True)
def current_user(context: Context) -> Any:
    """The user who is acting (filling the form, approving, viewing the report).

    Returns:
        The user's id.

    Excel: no Excel function.
    """
    return normalize(context.current_user)
