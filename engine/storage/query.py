"""Record queries: conditions, sorting, keyset pagination and capped counts.

The form layer resolves field paths (``account.industry``) into :class:`ColumnRef` values;
this module turns them into SQL. Paths through relations become ``IN (SELECT ...)``
sub-queries, so every filter composes and no row is loaded to filter in Python.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.issues import EngineError

COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Hop:
    """Follow ``table.column`` (a foreign key) to ``target``."""

    table: sa.Table
    column: str
    target: sa.Table


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A column to test, reached from the queried table through ``hops``.

    ``link`` is set for many-to-many values stored in a link table (``parent_id``,
    ``target_id``); ``json_array`` for multi-select values stored as a JSON array.
    """

    table: sa.Table
    column: str
    hops: tuple[Hop, ...] = ()
    link: sa.Table | None = None
    json_array: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    """``ref op value``; ``value`` is already converted to the column's Python type."""

    ref: ColumnRef
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class SortKey:
    """Sort by a column of the queried table."""

    column: str
    desc: bool = False


_ORDERING: dict[str, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    if op == "eq":
        return column.is_(None) if value is None else column == value
    if op == "ne":
        return column.is_not(None) if value is None else sa.or_(column != value, column.is_(None))
    if op in _ORDERING:
        return _ORDERING[op](column, value)
    if op == "in":
        return column.in_(list(value))
    if op == "between":
        low, high = value
        return column.between(low, high)
    if op == "contains":
        return column.icontains(str(value), autoescape=True)  # LIKE is case-blind on SQLite only
    if op == "starts_with":
        return column.istartswith(str(value), autoescape=True)
    if op == "is_empty":
        empty = sa.or_(column.is_(None), column == "") if isinstance(column.type, sa.String) else column.is_(None)
        return empty if value else sa.not_(empty)
    raise EngineError(f"unknown operator '{op}'", status=422, code="unknown_operator")


def _json_contains(column: ColumnElement[Any], dialect: str, op: str, value: Any) -> ColumnElement[bool]:
    values = value if isinstance(value, list | tuple) else [value]
    if op == "is_empty":
        empty = sa.or_(column.is_(None), sa.cast(column, sa.Text) == "[]")
        return empty if value else sa.not_(empty)
    if dialect == "postgresql":
        # The JSONB bind processor serialises the list; a pre-serialised string would be encoded twice.
        return sa.or_(*(column.op("@>")(sa.cast([v], column.type)) for v in values))
    # Match the stored text, which SQLAlchemy writes with json.dumps defaults (non-ASCII escaped).
    return sa.or_(*(sa.cast(column, sa.Text).contains(json.dumps(v), autoescape=True) for v in values))


def condition_clause(condition: Condition, dialect: str) -> ColumnElement[bool]:
    """Compile one condition against its starting table."""
    ref = condition.ref
    if ref.link is not None:
        inner: ColumnElement[bool]
        if condition.op == "is_empty":
            exists = sa.exists().where(ref.link.c.parent_id == ref.table.c.id)
            inner = sa.not_(exists) if condition.value else exists
            return _through_hops(ref.hops, inner)
        values = condition.value if isinstance(condition.value, list | tuple) else [condition.value]
        exists = sa.exists().where(ref.link.c.parent_id == ref.table.c.id, ref.link.c.target_id.in_(values))
        return _through_hops(ref.hops, exists)
    column = ref.table.c[ref.column]
    if ref.json_array:
        clause = _json_contains(column, dialect, condition.op, condition.value)
    else:
        clause = _compare(column, condition.op, condition.value)
    return _through_hops(ref.hops, clause)


def _through_hops(hops: tuple[Hop, ...], clause: ColumnElement[bool]) -> ColumnElement[bool]:
    for hop in reversed(hops):
        clause = hop.table.c[hop.column].in_(sa.select(hop.target.c.id).where(clause))
    return clause


def encode_cursor(values: Sequence[Any]) -> str:
    """Encode the sort values of the last row of a page into an opaque cursor."""
    raw = json.dumps([_plain(v) for v in values], default=str, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor`; raise a 422 error if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != count:
        raise EngineError("invalid cursor; use the next_cursor of a previous page", status=422, code="bad_cursor")
    return values


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def order_columns(table: sa.Table, sort: Sequence[SortKey]) -> list[tuple[ColumnElement[Any], bool]]:
    """Return (column, desc) pairs with ``id`` appended as the final tie-breaker."""
    pairs: list[tuple[ColumnElement[Any], bool]] = [(table.c[s.column], s.desc) for s in sort if s.column != "id"]
    id_desc = next((s.desc for s in sort if s.column == "id"), False)
    return [*pairs, (table.c.id, id_desc)]


def order_by(pairs: list[tuple[ColumnElement[Any], bool]]) -> list[Any]:
    """ORDER BY terms with NULLs last in both directions (same on SQLite and PostgreSQL)."""
    return [(c.desc() if desc else c.asc()).nulls_last() for c, desc in pairs]


def keyset_clause(pairs: list[tuple[ColumnElement[Any], bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``pairs`` (NULLs last)."""
    alternatives: list[ColumnElement[bool]] = []
    for index, (column, desc) in enumerate(pairs):
        equal_before = [_equal(c, v) for (c, _), v in zip(pairs[:index], values[:index], strict=True)]
        after = _after(column, desc, _typed(column, values[index]))
        if after is not None:
            alternatives.append(sa.and_(*equal_before, after))
    return sa.or_(*alternatives) if alternatives else sa.false()


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    """Convert a cursor value to the column's Python type; a value of another type is a bad cursor.

    Cursors come from clients: a string compared with a BIGINT, an unparsable date or a number
    the driver cannot bind would otherwise fail inside the database.
    """
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is bool or isinstance(value, bool):
        if python_type is bool and isinstance(value, bool):
            return value
    elif python_type is int:
        if isinstance(value, int) and -(2**63) <= value < 2**63:
            return value
    elif python_type is str:
        if isinstance(value, str):
            return value
    elif python_type in _CURSOR_PARSERS and isinstance(value, str | int | float):
        try:
            parsed = _CURSOR_PARSERS[python_type](str(value))
        except (ValueError, ArithmeticError):
            parsed = None
        if parsed is not None and (not isinstance(parsed, Decimal | float) or _bounded(parsed)):
            return parsed
    else:
        return value
    raise EngineError("invalid cursor; use the next_cursor of a previous page", status=422, code="bad_cursor")


def _bounded(number: Decimal | float) -> bool:
    """Whether ``number`` is finite and small enough for every driver (NaN compares with nothing)."""
    if isinstance(number, Decimal):
        return number.is_finite() and abs(number) <= Decimal("1e300")
    return math.isfinite(number) and abs(number) <= 1e300


_CURSOR_PARSERS: dict[type, Callable[[str], Any]] = {
    dt.date: dt.date.fromisoformat,
    dt.datetime: dt.datetime.fromisoformat,
    dt.time: dt.time.fromisoformat,
    Decimal: Decimal,
    float: float,
}


def _equal(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == _typed(column, value)


def _after(column: ColumnElement[Any], desc: bool, value: Any) -> ColumnElement[bool] | None:
    if value is None:
        return None  # NULLs are last: nothing comes after a NULL in this key
    bound = sa.literal(value, column.type)  # SQLAlchemy refuses '<' and '>' with a bare True/False
    beyond = column < bound if desc else column > bound
    return sa.or_(beyond, column.is_(None))


def capped_count(connection: sa.engine.Connection, base: sa.Select[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Count rows of ``base`` up to ``cap``; return (count, capped)."""
    # maintain_column_froms: without a WHERE on the table, SELECT 1 would otherwise lose its FROM
    limited = base.with_only_columns(sa.literal(1), maintain_column_froms=True).order_by(None).limit(cap + 1).subquery()
    count = int(connection.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one())
    return min(count, cap), count > cap
