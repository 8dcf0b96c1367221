"""The SQL backend (``engine.storage.expr_sql``) gives the Python evaluator's result, on SQLite and PostgreSQL.

Each expression below is checked against the scope, evaluated by Python on every row, compiled to
SQL and selected from a scratch table holding the same rows; the results must agree (floats to
1e-12 relative). The rows hold blanks, zeros, negatives, unicode, mixed case, 15-digit traps
(0.1 + 0.2) and a text that looks like SQL. PostgreSQL is required: the module fails, not
skips, when it is unreachable (``TESSERA_SKIP_PG=1`` skips, as in ``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from tessera_testing import fresh_database_url

from engine.expr import check, compile_expression, parse
from engine.expr.scope import DictContext, DictScope
from engine.expr.types import BOOLEAN, DATE, NUMBER, TEXT, USER
from engine.storage.expr_sql import Link, TableScope, compile_sql
from engine.storage.spec import ColumnSpec
from engine.storage.tables import sql_type

D = dt.date
TODAY = D(2026, 1, 15)
BACKENDS = ("sqlite", "postgresql")
ACCOUNTS = [
    {"id": 1, "tier": "Gold", "score": 87.5, "opened": D(2020, 5, 1)},
    {"id": 2, "tier": "silver", "score": None, "opened": None},
]
_EMPTY = dict.fromkeys(("n1", "n2", "i1", "m1", "t1", "t2", "d1", "d2", "b1", "acct", "owner"))
ROWS: list[dict[str, Any]] = [
    {
        **_EMPTY,
        "id": 1,
        "n1": 2.675,
        "n2": 0.1,
        "i1": 3,
        "m1": Decimal("12.50"),
        "t1": "Abc",
        "t2": "abc",
        "d1": D(2024, 1, 31),
    }
    | {"d2": D(2023, 12, 25), "b1": True, "acct": 1, "owner": 7},
    {**_EMPTY, "id": 2},
    {
        **_EMPTY,
        "id": 3,
        "n1": 0.0,
        "n2": 0.0,
        "i1": 0,
        "m1": Decimal("0.00"),
        "t1": "",
        "t2": " ",
        "d1": D(2000, 2, 29),
        "d2": D(2000, 2, 29),
    }
    | {"b1": False, "acct": 2, "owner": 8},
    {
        **_EMPTY,
        "id": 4,
        "n1": -2.5,
        "n2": -0.3,
        "i1": -7,
        "m1": Decimal("-1234567.89"),
        "t1": "  Hello   World  ",
        "t2": "hello world",
    }
    | {"d1": D(1999, 12, 31), "d2": D(2030, 6, 15), "acct": 1},
    {
        **_EMPTY,
        "id": 5,
        "n1": 1234567.891,
        "n2": 3.0,
        "i1": 1000000,
        "t1": "中文测试",
        "t2": "中文",
        "d1": D(2024, 2, 29),
    }
    | {"b1": True},
    {**_EMPTY, "id": 6, "n1": 0.30000000000000004, "n2": 0.3, "i1": 2, "m1": Decimal("0.30")}
    | {"t1": "x'; DROP TABLE expr_rows; --"}
    | {"t2": "MiXeD CaSe", "d2": D(2024, 1, 1), "b1": False, "acct": 2, "owner": 7},
    {**_EMPTY, "id": 7, "n1": 1e-7, "n2": -1e6, "t1": "✓ ok", "t2": "OK", "d1": D(1900, 3, 1), "d2": D(1950, 1, 1)},
    {**_EMPTY, "id": 8, "n1": -0.5, "n2": 2.5, "i1": -1, "t1": "a-b-c", "t2": "-", "d1": TODAY, "d2": TODAY, "b1": True}
    | {"acct": 1},
]
ACCOUNT_SCOPE = DictScope({"tier": TEXT, "score": NUMBER, "opened": DATE}, many=False)
SCOPE = DictScope(
    {
        **dict.fromkeys(("n1", "n2", "i1", "m1"), NUMBER),
        **dict.fromkeys(("t1", "t2"), TEXT),
        **dict.fromkeys(("d1", "d2"), DATE),
        "b1": BOOLEAN,
        "owner": USER,
        "acct": ACCOUNT_SCOPE,
    }
)

METADATA = sa.MetaData()
ACCOUNT_TABLE = sa.Table(
    "expr_accounts",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tier", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("opened", sa.Date),
)


def scratch_table(name: str) -> sa.Table:
    """A table with the columns of :data:`ROWS` (floats, an integer, text, dates, a boolean, two ids)."""
    return sa.Table(
        name,
        METADATA,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(column, sa.Float) for column in ("n1", "n2")),
        sa.Column("i1", sa.Integer),
        sa.Column("m1", sql_type(ColumnSpec("m1", "decimal", precision=22, scale=2))),  # a currency field's column
        *(sa.Column(column, sa.Text) for column in ("t1", "t2")),
        *(sa.Column(column, sa.Date) for column in ("d1", "d2")),
        sa.Column("b1", sa.Boolean),
        sa.Column("acct", sa.Integer, sa.ForeignKey("expr_accounts.id")),
        sa.Column("owner", sa.Integer),
    )


TABLE = scratch_table("expr_rows")
ACCOUNT_TYPES = {"tier": TEXT, "score": NUMBER, "opened": DATE}
COLUMNS = TableScope(
    TABLE,
    {name: t for name, t in SCOPE.fields.items() if not isinstance(t, DictScope)},
    {"acct": Link("acct", TableScope(ACCOUNT_TABLE, ACCOUNT_TYPES))},
)


def context(row: Mapping[str, Any]) -> DictContext:
    """What the Python evaluator reads for ``row`` (the account as a nested record)."""
    account = next((dict(a) for a in ACCOUNTS if a["id"] == row["acct"]), None)
    return DictContext({**row, "acct": account}, user=7, clock=dt.datetime.combine(TODAY, dt.time(9, 30)))


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, sa.Engine]]:
    """Both databases, each with the scratch tables holding :data:`ROWS`."""
    with (
        fresh_database_url("sqlite", tmp_path_factory.mktemp("sql")) as sqlite_url,
        fresh_database_url("postgresql", tmp_path_factory.mktemp("pg")) as pg_url,
    ):
        found = {"sqlite": sa.create_engine(sqlite_url), "postgresql": sa.create_engine(pg_url)}
        for engine in found.values():
            with engine.begin() as connection:
                METADATA.create_all(connection)
                connection.execute(ACCOUNT_TABLE.insert(), ACCOUNTS)
                connection.execute(TABLE.insert(), ROWS)
        yield found
        for engine in found.values():
            engine.dispose()


def same(python: Any, sql: Any) -> bool:
    """Whether an SQL result is the Python result (floats to 1e-12 relative, -0.0 equal to 0)."""
    if isinstance(python, float) and isinstance(sql, float):
        return math.isclose(python, sql, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(python, float) and isinstance(sql, int) and not isinstance(sql, bool):
        return python == sql  # a user id: Python reads ids as numbers
    return type(python) is type(sql) and python == sql


def python_results(text: str, rows: list[dict[str, Any]] = ROWS) -> list[Any]:
    """The Python evaluator's result per row, after checking the expression against the scope."""
    node = parse(text)
    _, errors = check(node, SCOPE)
    assert not errors, [str(e) for e in errors]
    run = compile_expression(node, scope=SCOPE)
    return [run(context(row)) for row in rows]


def sql_results(engine: sa.Engine, text: str, table: sa.Table = TABLE, scope: TableScope = COLUMNS) -> list[Any]:
    """The SQL result per row, in id order."""
    expression = compile_sql(parse(text), scope, dialect=engine.dialect.name, today=TODAY, current_user=7)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c.id, expression).order_by(table.c.id)).all()
    return [value for _, value in rows]


def disagreements(text: str, engine: sa.Engine) -> list[str]:
    """Rows where SQL differs from Python, described."""
    expected, found = python_results(text), sql_results(engine, text)
    return [
        f"row {row['id']}: python {p!r}, sql {s!r}"
        for row, p, s in zip(ROWS, expected, found, strict=True)
        if not same(p, s)
    ]


EXPRESSIONS = [
    # literals and fields
    *["n1", "i1", "t1", "d1", "b1", "NULL", "1.5", '"text"', "TRUE", "owner", "acct.tier", "acct.score", "acct.opened"],
    # arithmetic, blanks as 0, errors spread
    *["n1 + n2", "n1 - n2", "n1 * n2", "n1 / n2", "i1 / 4", "n1 + i1 * 2", "-n1", "+n1", "n1%", "50%", "-(-n1)"],
    *["n1 + 1/n2", "1 + 1/0 + n1", "n1 * 0", "(n1 + n2) * (n1 - n2)", "n2 ^ 2", "i1 ^ 3", "n1 ^ 0.5", "n2 ^ -1"],
    *["2 ^ i1", "n1 ^ n2", "b1 + 1", "b1 * n1", "NULL + n1", "n1 + NULL * 2", "n1 / 3 * 3", "0.1 + n2", "i1 / 0"],
    *["1E+300 * n2 * 1E+10", "n2 / 1E+300 / 1E+10", "n1 + n2 + i1 + 1"],
    # extremes: overflow is an error, underflow is 0, huge counts and dates
    *["n1 * 1E+200 * 1E+200", "n2 ^ 400", "(n1 * 1E+300) ^ 2", "n2 ^ -1000", "POWER(n2, 1E+308)", "i1 ^ 0.5"],
    *["SQRT(n1 * 1E+300)", "ROUND(n1 * 1E+300, -22)", "MOD(n1 * 1E+300, 7)", "CEILING(n1 * 1E+300, 1E-300)"],
    *["DATE(2024, 1, 1E+10)", "TODAY() + 1E+300", "LEFT(t1, 1E+300)", "MID(t1, 1E+300, 1)", 'FIND("a", t1, 1E+300)'],
    *["n1 * 1E+250 > 1E+300", "n1 / 1E-300 / 1E-10", "1E-300 * n2 * 1E-100", "ROUND(n1, 22)", "ROUNDUP(n1 / 7, 22)"],
    *["FLOOR(n1 * 1E+300, 3)", "ROUNDDOWN(n1 * 1E+300, -22)"],
    # a decimal column (NUMERIC(22, 2), as currency fields are stored)
    *["m1", "m1 * 2", "m1 * i1 * n1", "ROUND(m1 / 3, 2)", "m1 = 12.5", "m1 > n1", "MOD(m1, 0.1)", 'm1 & ""'],
    *["SUM(m1, n1)", "CEILING(m1, 0.05)", "m1 * m1 * m1 * m1", "m1 / 0"],
    # comparisons: 15 digits, case, blanks, kinds
    *["n1 = 0.3", "n1 = n2", "n1 + n2 = 0.6", "n1 <> n2", "n1 < n2", "n1 <= 2.675", "n1 > -1", "n1 >= n2", "i1 = 0"],
    *["n1 = 0", "n1 = NULL", "NULL = 0", '"a" = "A"', 't1 = "abc"', "t1 = t2", "t1 < t2", 't1 >= "b"', 't1 = ""'],
    *['t2 <> "ok"', "t1 < NULL", "d1 = d2", "d1 < d2", "d1 >= DATE(2024, 1, 1)", "d1 > NULL", "NULL < d1", "b1 = TRUE"],
    *[
        "b1 = FALSE",
        "b1 < TRUE",
        "b1 = NULL",
        "owner = CURRENT_USER()",
        "owner <> CURRENT_USER()",
        "owner = NULL",
        "n1 + 1/0 > 1",
    ],
    *['acct.tier = "gold"', "acct.score > 50", "acct.opened < d1"],
    # text
    *['t1 & "-" & t2', "t1 & n1", "n1 & t1", "i1 & n2", '"v" & b1', 'd1 & ""', "n2 / 3 & t2", 'n2 * 1E+20 & ""'],
    *['n2 / 1E+10 & ""', '1/n2 & ""', "NULL & t1", "CONCAT(t1, n1, b1, d1)", "CONCAT(t2)", "LEFT(t1, 2)", "LEFT(t1)"],
    *[
        "LEFT(t1, i1)",
        "LEFT(t1, n1)",
        "RIGHT(t1, 3)",
        "RIGHT(t2, i1)",
        "RIGHT(t1, 0)",
        "MID(t1, 2, 3)",
        "MID(t1, i1, 2)",
    ],
    *["MID(t1, n2, 1)", "LEN(t1)", "LEN(n1)", "LEN(i1)", "UPPER(t1)", "LOWER(t2)", "TRIM(t1)", "TRIM(t2)"],
    *[
        'SUBSTITUTE(t1, "b", "X")',
        'SUBSTITUTE(t1, "", "X")',
        'SUBSTITUTE(t2, " ", t1)',
        'FIND("b", t1)',
        'FIND("-", t1, 3)',
    ],
    *[
        'FIND("", t1)',
        "FIND(t2, t1, i1)",
        'CONTAINS(t1, "BC")',
        "CONTAINS(t1, t2)",
        'CONTAINS(t2, "")',
        'CONTAINS(t1, "中")',
    ],
    # logic
    *[
        "IF(n1 > 0, t1, t2)",
        "IF(b1, n1, n2)",
        "IF(n1, 1, 2)",
        "IF(n2 > 0, 1 / n2, NULL)",
        "IF(b1, d1, d2)",
        "IF(i1 > 0, b1)",
    ],
    *["IF(1/n2 > 1, 1, 2)", "IFS(n1 > 1, 1, n1 > 0, 2, TRUE, 3)", "IFS(n1 > 1000, 1)", "IFS(1/n2 > 1, t1, TRUE, t2)"],
    *['SWITCH(i1, 3, "three", 0, "zero", "other")', 'SWITCH(t2, "ABC", 1, " ", 2)', "SWITCH(n1, NULL, 1, 2)"],
    *['SWITCH(t1, "", "empty")', "SWITCH(b1, TRUE, n1, FALSE, n2, 0)", "n1 > 0 AND b1", "n1 > 0 OR b1", "NOT b1"],
    *["NOT(n1 > 0)", 'AND(b1, n1 > 0, t1 <> "")', "OR(b1, 1/n2 > 1)", "XOR(b1, n1 > 0)", "XOR(b1, n1 > 0, i1 > 0)"],
    *["b1 AND 1/n2 > 0", "NOT (1/n2 > 0)", "ISBLANK(n1)", "ISBLANK(t1)", "ISBLANK(1/n2)", "ISBLANK(IF(b1, n1, 1/n2))"],
    *["ISBLANK(NULL)", "COALESCE(n1, n2, 0)", "COALESCE(1/n2, -1)", "COALESCE(t1, t2)", "COALESCE(d1, d2)"],
    *["COALESCE(NULL, n1)", "COALESCE(IF(b1, n1, 1/n2), 99)", "n1 IN (0, 2.675, -2.5)", 't1 IN ("abc", "")'],
    *["i1 NOT IN (0, 3)", "n1 IN (1/n2, 0.3)", "d1 IN (d2, TODAY())", "b1 IN (TRUE)", "NULL IN (0, 1)"],
    *['BAND(n1, 1000, "high", 1, "mid", 0, "low", "negative")', 'BAND(i1, 2, "a", 0, "b")', "BAND(d1, d2, 1, 0)"],
    *["BAND(n1, n2, 1/n2, 0)", "BAND(b1, 1, 1, 0)"],
    # math
    *["SUM(n1, n2, i1)", "SUM(n1)", "SUM(b1, 1)", "SUM(n1, 1/n2)", "MIN(n1, n2)", "MAX(n1, n2, i1)", "MIN(n1)"],
    *["MAX(n1, 1/n2)", "MIN(d1, d2)", "MAX(d1, d2, TODAY())", "MAX(n1, -n2)", "MAX(n1, NULL)"],
    *["ROUND(n1, 2)", "ROUND(n1, 0)", "ROUND(n2, 1)", "ROUND(n1, -1)", "ROUND(i1 * 1250, -3)", "ROUND(n1 + n2, 15)"],
    *["ROUND(n1 / 3, 10)", "ROUNDUP(n1, 1)", "ROUNDUP(n1 + n2, 1)", "ROUNDDOWN(n1, 2)", "ROUNDDOWN(-n1, 0)"],
    *["ROUNDUP(i1 * 123, -2)", "ABS(n1)", "ABS(i1)", "MOD(i1, 2)", "MOD(n1, 1)", "MOD(n2, 0.1)", "MOD(-i1, 3)"],
    *["MOD(i1, -3)", "MOD(n1, n2)", "MOD(n1, 0)", "POWER(n2, 2)", "POWER(i1, 0.5)", "POWER(n1, 0)", "SQRT(n1)"],
    *["SQRT(i1)", "INT(n1)", "INT(-n1)", "CEILING(n1)", "CEILING(n1, 0.5)", "CEILING(n2, 0.1)", "CEILING(-n1, 2)"],
    *["CEILING(n1, -1)", "CEILING(n1, 0)", "FLOOR(n1)", "FLOOR(n1, 0.05)", "FLOOR(-n1, 2)", "FLOOR(n1, 0)"],
    # dates
    *["DATE(2024, 1, 31)", "DATE(2024, i1, 1)", "DATE(i1, 1, 1)", "DATE(2024, 14, 1)", "DATE(2024, 3, 0)"],
    *["DATE(YEAR(d1), MONTH(d1) + 1, DAY(d1))", "DATE(2024, 1, i1 * 100)", "DATE(10000, 1, 1)", "YEAR(d1)"],
    *["MONTH(d1)", "DAY(d2)", "DAYS(d2, d1)", "DAYS(TODAY(), d1)", "TODAY()", "TODAY() + 30", "TODAY() - 1.5"],
    *["COALESCE(d1, TODAY()) + i1", "COALESCE(d1, TODAY()) - n1", "COALESCE(d2, TODAY()) - COALESCE(d1, TODAY())"],
    *["n1 + COALESCE(d1, TODAY())", "DATE(9999, 12, 31) + i1", "COALESCE(d1, TODAY()) + 1E+10"],
    *["COALESCE(d1, TODAY()) + 30 < TODAY()", "YEAR(TODAY()) - YEAR(d1)", "MAX(COALESCE(d1, TODAY()), d2)"],
    # a blank date stays unknown: blank_date ± n is blank, date - date with a blank is an error
    *["d1 + 1", "1 + d1", "d1 - 1", "d1 + n1", "d1 - n2", "d1 + NULL", "NULL + d1", "d1 - NULL", "d1 + 1/n2"],
    *["d1 - d2", "d2 - d1", "TODAY() - d1", "d1 - TODAY()", "(d1 - d2) + 1", "(d1 - d2) * 0", "d1 + 30 - d2"],
    *["ISBLANK(d1 + 30)", "ISBLANK(d1 - d2)", "ISBLANK(d1 + 1/n2)", "COALESCE(d1 - d2, -1)", "COALESCE(d1 + 7, d2)"],
    *["MAX(d1, d2) - MIN(d1, d2) > 30", "IF(b1, d1, NULL) + 1", "acct.opened + 1", "d1 - acct.opened"],
    *["d1 + 1 < TODAY()", "d1 - d2 >= 0", "NOT (d1 - d2 > 30)", "(d1 + 1) - (d2 - 1)", "DAYS(d1 + 30, d2)"],
]


def test_the_table_is_long_enough() -> None:
    assert len(EXPRESSIONS) >= 150 and len(set(EXPRESSIONS)) == len(EXPRESSIONS)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", EXPRESSIONS)
def test_sql_agrees_with_python(engines: dict[str, sa.Engine], backend: str, text: str) -> None:
    assert disagreements(text, engines[backend]) == []


# ROUND and kin with computed places, or beyond 22 places, compile on PostgreSQL only (SQLite refuses them).
POSTGRESQL_ONLY = ["ROUND(n1, 400)", "ROUNDUP(n1, -400)", "ROUNDUP(n1 / 7, 300)", "ROUND(n1 * 1E+300, -300)"]
POSTGRESQL_ONLY += ["ROUND(n1, i1)", "ROUNDUP(n1 * 1000, -i1)", "ROUNDDOWN(n2, i1 * 100)", "ROUND(1/n2, n1)"]


@pytest.mark.parametrize("text", POSTGRESQL_ONLY)
def test_postgresql_rounds_to_any_places(engines: dict[str, sa.Engine], text: str) -> None:
    assert disagreements(text, engines["postgresql"]) == []
