"""Text functions: CONCAT LEFT RIGHT MID LEN UPPER LOWER TRIM SUBSTITUTE FIND CONTAINS.

Text arguments read numbers in Excel's General format and blank as "" (``as_text``); counts
and positions are truncated toward zero, as Python's ``to_integer`` does. Positions count
characters (code points) from 1 on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from engine.expr.nodes import Call
from engine.expr.types import BOOLEAN, NUMBER, TEXT
from engine.storage.expr_sql.conversions import as_number, as_text
from engine.storage.expr_sql.dialect import Env, case, floating
from engine.storage.expr_sql.values import Bounds, Expr, Sql, constant, not_in_sql, typed


def _text(env: Env, call: Call, args: Sequence[Sql], index: int) -> Sql:
    return as_text(env.dialect, args[index], call.args[index])


def _number(env: Env, call: Call, args: Sequence[Sql], index: int, default: float) -> Sql:
    if index >= len(args):
        return constant(default)
    return as_number(env.dialect, args[index], call.args[index])


def _text_result(value: Expr, *sources: Sql, error: bool = False) -> Sql:
    return Sql(typed(value, TEXT), TEXT, may_error=error or any(s.may_error for s in sources))


def concat(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """CONCAT of single values."""
    parts = [_text(env, call, args, index) for index in range(len(args))]
    joined = parts[0].value
    for part in parts[1:]:
        joined = joined.concat(part.value)
    return _text_result(joined, *parts)


def left(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """LEFT: the first characters; an error for a negative count."""
    text, count = _text(env, call, args, 0), _number(env, call, args, 1, 1.0)
    value = case(
        (count.value <= -1, sa.null()), otherwise=sa.func.substr(text.value, 1, env.dialect.to_int(count.value))
    )
    return _text_result(value, text, count, error=True)


def right(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """RIGHT: the last characters; an error for a negative count."""
    text, count = _text(env, call, args, 0), _number(env, call, args, 1, 1.0)
    last = env.dialect.right(text.value, env.dialect.to_int(count.value))
    return _text_result(case((count.value <= -1, sa.null()), otherwise=last), text, count, error=True)


def mid(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """MID: characters from a position; an error for a position below 1 or a negative count."""
    text, start, count = (_text(env, call, args, 0), _number(env, call, args, 1, 1.0), _number(env, call, args, 2, 0.0))
    to_int = env.dialect.to_int
    refused = sa.or_(start.value < 1, count.value <= -1)
    value = case((refused, sa.null()), otherwise=sa.func.substr(text.value, to_int(start.value), to_int(count.value)))
    return _text_result(value, text, start, count, error=True)


def len_(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """LEN: the number of characters."""
    text = _text(env, call, args, 0)
    value = floating(sa.func.length(text.value))
    return Sql(typed(value, NUMBER), NUMBER, may_error=text.may_error, bounds=Bounds(1.0, 1e10))


def upper(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """UPPER (SQLite changes ASCII letters only)."""
    text = _text(env, call, args, 0)
    return _text_result(sa.func.upper(text.value), text)


def lower(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """LOWER (SQLite changes ASCII letters only)."""
    text = _text(env, call, args, 0)
    return _text_result(sa.func.lower(text.value), text)


def trim(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """TRIM: no leading or trailing spaces, inner runs made single (only the ordinary space)."""
    text = _text(env, call, args, 0)
    return _text_result(env.dialect.collapse_spaces(sa.func.trim(text.value)), text)


def substitute(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """SUBSTITUTE of every occurrence (case-sensitive); one chosen occurrence stays in Python."""
    if len(args) > 3:
        raise not_in_sql(call, "SUBSTITUTE of one chosen occurrence (instance_num)")
    text, old, new = (_text(env, call, args, index) for index in range(3))
    return _text_result(sa.func.replace(text.value, old.value, new.value), text, old, new)


def find(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """FIND: 1-based position (case-sensitive); an error when absent or the start is out of range."""
    needle, haystack = _text(env, call, args, 0), _text(env, call, args, 1)
    start = _number(env, call, args, 2, 1.0)
    first = env.dialect.to_int(start.value)
    found = env.dialect.position(sa.func.substr(haystack.value, first), needle.value)
    refused = sa.or_(start.value < 1, first > sa.func.length(haystack.value))
    value = case((refused, sa.null()), otherwise=floating(sa.func.nullif(found, 0) + first - 1))
    return Sql(typed(value, NUMBER), NUMBER, may_error=True, bounds=Bounds(1.0, 1e10))


def contains(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """CONTAINS: ignoring case, as ``=`` does ("" is in every text)."""
    text, search = _text(env, call, args, 0), _text(env, call, args, 1)
    position = env.dialect.position(sa.func.lower(text.value), sa.func.lower(search.value))
    return Sql(typed(position > 0, BOOLEAN), BOOLEAN, may_error=text.may_error or search.may_error)
