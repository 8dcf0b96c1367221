"""Random well-typed expressions on random rows: Python == SQLite == PostgreSQL.

The generator covers every operator and every function the SQL backend compiles, over numbers,
text, TRUE/FALSE and dates, with blanks in the rows (a blank date in date arithmetic included:
``blank_date ± n`` is blank, ``date - date`` with a blank an error, on every backend).
``TESSERA_SQL_EXAMPLES=3000`` runs a deeper search than the default 150 examples.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sql_agreement import (
    ACCOUNT_TABLE,
    ACCOUNT_TYPES,
    COLUMNS,
    SCOPE,
    TODAY,
    context,
    engines,
    same,
    scratch_table,
)

from engine.expr import check, compile_expression, parse
from engine.storage.expr_sql import Link, TableScope, compile_sql

__all__ = ["engines"]  # the module-scoped fixture, shared with the agreement tables

Strategy = st.SearchStrategy[str]

NUMBER_LEAVES = [
    "n1",
    "n2",
    "i1",
    "m1",
    "acct.score",
    "0",
    "1",
    "2",
    "-3",
    "0.1",
    "0.5",
    "2.5",
    "2.675",
    "100",
    "1E-3",
    "7",
]
TEXT_LEAVES = ["t1", "t2", "acct.tier", '""', '"a"', '"Abc"', '"中"', '" x  y "', '"ABC"', '"-"']
BOOLEAN_LEAVES = ["b1", "TRUE", "FALSE"]
DATE_LEAVES = ["d1", "d2", "TODAY()", "acct.opened", "DATE(2024, 2, 29)"]
COMPARISONS = ["=", "<>", "<", "<=", ">", ">="]


def _call(name: str, *parts: Strategy) -> Strategy:
    return st.tuples(*parts).map(lambda args: f"{name}({', '.join(args)})")


def _op(template: str, *parts: Strategy) -> Strategy:
    return st.tuples(*parts).map(lambda args: template.format(*args))


def _pick(values: list[str]) -> Strategy:
    return st.sampled_from(values)


class Grammar:
    """Typed expression strategies up to a depth (each level nests the one below)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, int], Strategy] = {}

    def of(self, kind: str, depth: int) -> Strategy:
        key = (kind, depth)
        if key not in self.cache:
            leaves = {"n": NUMBER_LEAVES, "t": TEXT_LEAVES, "b": BOOLEAN_LEAVES, "d": DATE_LEAVES}[kind]
            build: Callable[[int], list[Strategy]] = getattr(self, kind)
            self.cache[key] = _pick(leaves) if depth == 0 else st.one_of(_pick(leaves), *build(depth - 1))
        return self.cache[key]

    def n(self, d: int) -> list[Strategy]:
        n, t, b, date = self.of("n", d), self.of("t", d), self.of("b", d), self.of("d", d)
        small = _pick(["-2", "-1", "0", "1", "2", "3"])
        return [
            _op("({} {} {})", n, _pick(["+", "-", "*", "/"]), n),
            _op("-({})", n),
            _op("({})%", n),
            _op("({}) ^ {}", n, _pick(["0", "1", "2", "3", "0.5", "-1"])),
            _op("{}({}, {})", _pick(["ROUND", "ROUNDUP", "ROUNDDOWN"]), n, small),
            _op("{}({})", _pick(["ABS", "SQRT", "INT", "CEILING", "FLOOR"]), n),
            _op("{}({}, {})", _pick(["CEILING", "FLOOR"]), n, _pick(["0.5", "2", "0.1", "-1", "0"])),
            _call("MOD", n, n),
            _call("POWER", n, _pick(["2", "0.5", "3"])),
            _op("{}({}, {})", _pick(["SUM", "MIN", "MAX"]), n, n),
            _call("SUM", b, n, n),
            _call("IF", b, n, n),
            _op("IF({}, {}, NULL)", b, n),
            _op("IFS({}, {}, TRUE, {})", b, n, n),
            _op("SWITCH({}, 2.675, {}, 0, {}, {})", n, n, n, n),
            _op("BAND({}, 10, {}, 0, {}, {})", n, n, n, n),
            _call("COALESCE", n, n),
            _call("LEN", t),
            _op('FIND("a", {})', t),
            _op("{}({})", _pick(["YEAR", "MONTH", "DAY"]), date),
            _call("DAYS", date, date),
            _op("BAND({}, DATE(2000, 1, 1), {}, {})", date, n, n),
            _op("(({}) - ({}))", date, date),
        ]

    def t(self, d: int) -> list[Strategy]:
        n, t, b = self.of("n", d), self.of("t", d), self.of("b", d)
        scalar = st.one_of(n, t, b, self.of("d", d))
        count = _pick(["0", "1", "2", "5", "-1", "n1", "i1"])
        return [
            _op("({} & {})", scalar, scalar),
            _call("CONCAT", scalar, scalar),
            _op("{}({}, {})", _pick(["LEFT", "RIGHT"]), t, count),
            _op("{}({})", _pick(["LEFT", "RIGHT", "UPPER", "LOWER", "TRIM"]), t),
            _call("MID", t, count, count),
            _op('SUBSTITUTE({}, {}, "Z")', t, _pick(['"a"', '" "', '""', '"中"'])),
            _call("IF", b, t, t),
            _call("COALESCE", t, t),
            _op('SWITCH({}, "abc", {}, "", {}, {})', t, t, t, t),
            _op("IFS({}, {}, TRUE, {})", b, t, t),
        ]

    def b(self, d: int) -> list[Strategy]:
        n, t, b, date = self.of("n", d), self.of("t", d), self.of("b", d), self.of("d", d)
        compare = _pick(COMPARISONS)
        return [
            _op("({} {} {})", n, compare, n),
            _op("({} {} {})", t, compare, t),
            _op("({} {} {})", date, compare, date),
            _op("({} = {})", b, b),
            _op("({} {} {})", b, _pick(["AND", "OR"]), b),
            _op("NOT ({})", b),
            _op("{}({}, {}, {})", _pick(["AND", "OR", "XOR"]), b, b, b),
            _op("ISBLANK({})", st.one_of(n, t, b, date)),
            _call("CONTAINS", t, t),
            _op("(({}) IN ({}, {}))", n, n, n),
            _op('(({}) NOT IN ("abc", "", {}))', t, t),
            _call("IF", b, b, b),
            _op("(owner {} {})", _pick(["=", "<>"]), _pick(["CURRENT_USER()", "NULL", "owner"])),
        ]

    def d(self, d: int) -> list[Strategy]:
        date, b, n = self.of("d", d), self.of("b", d), self.of("n", d)
        return [
            _call("IF", b, date, date),
            _call("COALESCE", date, date),
            _op("{}({}, {})", _pick(["MIN", "MAX"]), date, date),
            _op("(({}) {} ({}))", date, _pick(["+", "-"]), n),
            _op("(({}) + ({}))", n, date),
            _op("DATE({}, {}, {})", _pick(["2024", "1999", "0", "10000"]), n, n),
            _op("BAND({}, 0, {}, {})", n, date, date),
        ]


GRAMMAR = Grammar()
EXPRESSIONS = st.one_of(*(GRAMMAR.of(kind, 3) for kind in ("n", "t", "b", "d")))
NUMBERS = st.one_of(
    st.none(),
    st.sampled_from([0.0, 1.0, -1.0, 0.1, 0.3, 2.675, 2.5, -2.5, 1e-7, 1234567.891, 0.30000000000000004]),
    st.integers(-(10**8), 10**8).map(lambda k: k / 100),
)
ROW = st.fixed_dictionaries(
    {
        "n1": NUMBERS,
        "n2": NUMBERS,
        "i1": st.none() | st.integers(-1000, 1000),
        "m1": st.none() | st.integers(-(10**12), 10**12).map(lambda cents: Decimal(cents).scaleb(-2)),
        "t1": st.none() | st.text(alphabet="aAbBzZ -_中文✓01", max_size=8),
        "t2": st.none() | st.text(alphabet="aAbB -中", max_size=4),
        "d1": st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)),
        "d2": st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)),
        "b1": st.none() | st.booleans(),
        "acct": st.sampled_from([None, 1, 2]),
        "owner": st.sampled_from([None, 7, 8]),
    }
)

PROPERTY_TABLE = scratch_table("expr_props")
PROPERTY_COLUMNS = TableScope(
    PROPERTY_TABLE, COLUMNS.types, {"acct": Link("acct", TableScope(ACCOUNT_TABLE, ACCOUNT_TYPES))}
)


def _sql(engine: sa.Engine, text: str, rows: list[dict[str, Any]]) -> list[Any]:
    expression = compile_sql(parse(text), PROPERTY_COLUMNS, dialect=engine.dialect.name, today=TODAY, current_user=7)
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(PROPERTY_TABLE.delete())
        connection.execute(PROPERTY_TABLE.insert(), rows)
        found = connection.execute(sa.select(PROPERTY_TABLE.c.id, expression).order_by(PROPERTY_TABLE.c.id)).all()
        transaction.rollback()
    return [value for _, value in found]


@pytest.fixture(scope="module")
def databases(engines: dict[str, sa.Engine]) -> dict[str, sa.Engine]:
    """The agreement module's databases, with the property table added."""
    for engine in engines.values():
        with engine.begin() as connection:
            PROPERTY_TABLE.create(connection, checkfirst=True)
    return engines


@settings(
    max_examples=int(os.environ.get("TESSERA_SQL_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=EXPRESSIONS, rows=st.lists(ROW, min_size=1, max_size=3))
def test_random_expressions_agree_on_both_databases(
    databases: dict[str, sa.Engine], text: str, rows: list[Any]
) -> None:
    rows = [{"id": index + 1, **row} for index, row in enumerate(rows)]
    node = parse(text)
    _, errors = check(node, SCOPE)
    assert not errors, [str(e) for e in errors]
    run = compile_expression(node, scope=SCOPE)
    expected = [run(context(row)) for row in rows]
    for name, engine in databases.items():
        found = _sql(engine, text, rows)
        wrong = [(p, s) for p, s in zip(expected, found, strict=True) if not same(p, s)]
        assert not wrong, f"{name}: {text} on {rows}: python/sql {wrong}"
