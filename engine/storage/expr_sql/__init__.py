"""The SQL backend of the expression language: an AST becomes one SQLAlchemy expression.

``compile_sql(node, columns, dialect=...)`` gives the value the Python evaluator gives on the
same row (``compile_expression(node, scope=...)`` with the scope of the same fields), on SQLite
and PostgreSQL; ``compile_condition`` gives the WHERE clause of a filter or
a row-level permission. What SQL cannot compute exactly raises ``ExprError("not_in_sql")`` at
compile time, with the span of the offending part: callers evaluate that expression in Python.

Value semantics (``engine/expr/types.py``) and how SQL keeps them:

* NULL is blank *or* error; each compiled node knows statically which (``values.py``). Blank
  fields are filled (0, "", FALSE, before every date) where an operator reads them; errors (``1/0`` via
  ``NULLIF``, ``SQRT(-1)``, overflow, an IFS without a match) stay NULL to the end.
* Numbers are doubles, division is float division; comparisons, ROUND/ROUNDUP/ROUNDDOWN, MOD,
  CEILING and FLOOR work on 15 significant digits (PostgreSQL ``numeric``, SQLite ``printf``).
* Text compares with ``lower()``, ordered by code point (``COLLATE "C"`` on PostgreSQL).
* Dates are native dates (ISO text on SQLite, through ``julianday``); TODAY() and CURRENT_USER()
  are bound parameters from the caller's ``today`` and ``current_user``. A blank date in date
  arithmetic stays unknown, as in Python: ``blank_date ± n`` is blank, ``date - date`` with a
  blank is an error (the static types say which operand is a date, here as in Python).
* Every literal is a bound parameter: user text never becomes SQL text.

Known differences from Python (pinned by ``tests/expr/test_sql_agreement.py`` and ``test_sql_contract.py``):

* Case-insensitive comparisons, CONTAINS, UPPER and LOWER use the database's ``lower``/``upper``:
  SQLite changes ASCII letters only (``"É" = "é"`` is FALSE there); PostgreSQL maps single
  letters but not ``ß`` -> ``SS`` or the final sigma as Python's ``casefold``/``upper``/``lower`` do.
* PostgreSQL reads a float field above 1e100 (or a non-zero one below 1e-100) as an error when it
  feeds arithmetic that could overflow; fields stored as numeric or integer are not affected.
  Results within a hair of the largest double (``x ^ y`` near 1.8e308) may be an error in SQL.
* MOD on SQLite is exact when both operands, scaled to their decimals (at most 22), are whole
  numbers below 1e15; beyond, it is binary ``fmod`` of the 15-digit values (last-digit
  differences). CEILING/FLOOR on SQLite round the result to 15 digits (Python to the double).
  MIN/MAX of two values equal to 15 digits may return the other one of them.
* No text length limit is enforced in SQL (Python refuses results over a million characters).

Refused (``not_in_sql``): functions over lists and the functions missing from
:data:`SQL_FUNCTIONS`, SUBSTITUTE with ``instance_num``, date-time/time/JSON fields, TODAY() or
CURRENT_USER() without the caller's value, ROUND/ROUNDUP/ROUNDDOWN with computed or more than 22
places on SQLite, a translation over :data:`MAX_SQL_PARTS` parts, and on SQLite one nested too
deeply for its parser (asked of SQLite itself, with room for the caller's query).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.expr.nodes import Node
from engine.expr.types import Type
from engine.storage.expr_sql.compiler import Compiler
from engine.storage.expr_sql.conversions import as_logical
from engine.storage.expr_sql.dialect import Dialect, Env
from engine.storage.expr_sql.functions import SQL_FUNCTIONS
from engine.storage.expr_sql.postgres import PostgresDialect
from engine.storage.expr_sql.scope import Link, SqlColumn, SqlScope, TableScope
from engine.storage.expr_sql.sqlite import SqliteDialect
from engine.storage.expr_sql.values import Sql, not_in_sql, typed

__all__ = [
    "DIALECTS",
    "SQL_FUNCTIONS",
    "Link",
    "SqlColumn",
    "SqlScope",
    "TableScope",
    "compile_condition",
    "compile_sql",
    "compile_typed",
]

DIALECTS: dict[str, Dialect] = {"sqlite": SqliteDialect(), "postgresql": PostgresDialect()}
MAX_SQL_PARTS = 40_000  # about 180 kB of SQL: guards repeat operands; a bigger translation is left to Python


def compile_sql(
    node: Node,
    columns: SqlScope,
    *,
    dialect: str,
    today: dt.date | None = None,
    current_user: Any = None,
) -> ColumnElement[Any]:
    """Translate ``node`` into a SQL expression with the Python evaluator's result on every row.

    Args:
        node: a parsed (and checked) expression.
        columns: what its field paths mean in SQL.
        dialect: ``"sqlite"`` or ``"postgresql"`` (``engine.dialect.name``).
        today: the date TODAY() gives (a bound parameter).
        current_user: the id CURRENT_USER() gives (a bound parameter).

    Returns:
        A typed expression (Float, Text, Boolean or Date); NULL where Python gives blank.

    Raises:
        ExprError: ``not_in_sql`` (with the span of the part) when SQL cannot compute it exactly.
    """
    return compile_typed(node, columns, dialect=dialect, today=today, current_user=current_user)[0]


def compile_typed(
    node: Node,
    columns: SqlScope,
    *,
    dialect: str,
    today: dt.date | None = None,
    current_user: Any = None,
) -> tuple[ColumnElement[Any], Type]:
    """:func:`compile_sql`, with the expression type of the result."""
    result = _compile(node, columns, dialect, today, current_user)
    return typed(result.value, result.type), result.type


def compile_condition(
    node: Node,
    columns: SqlScope,
    *,
    dialect: str,
    today: dt.date | None = None,
    current_user: Any = None,
) -> ColumnElement[bool]:
    """A WHERE clause: TRUE on exactly the rows where the expression holds (blank and errors do not).

    Raises:
        ExprError: ``not_in_sql`` as :func:`compile_sql`.
    """
    result = _compile(node, columns, dialect, today, current_user)
    test: ColumnElement[bool] = sa.type_coerce(as_logical(result, node), sa.Boolean())
    return test


def _compile(node: Node, columns: SqlScope, dialect: str, today: dt.date | None, current_user: Any) -> Sql:
    database = DIALECTS.get(dialect)
    if database is None:
        raise ValueError(f"no SQL dialect '{dialect}'; expected one of {sorted(DIALECTS)}")
    compiler = Compiler(columns, Env(database, today=today, current_user=current_user))
    try:
        result = compiler.visit(node)
        parts = compiler.sizes.of_node(result)
    except RecursionError:
        raise not_in_sql(node, "an expression nested this deeply") from None
    if parts > MAX_SQL_PARTS:
        raise not_in_sql(node, f"an expression whose SQL has {parts} parts")
    if not database.fits(result.value):
        raise not_in_sql(node, f"an expression nested this deeply for {dialect}")
    return result
