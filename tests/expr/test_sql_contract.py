"""The SQL backend's contract beyond agreement: parameters only, ``not_in_sql`` with spans, WHERE clauses,
relation paths, and the documented differences from Python (pinned, so a fix shows up here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from test_sql_agreement import (
    BACKENDS,
    COLUMNS,
    METADATA,
    ROWS,
    SCOPE,
    TABLE,
    TODAY,
    D,
    context,
    engines,
    python_results,
    sql_results,
)

from engine.expr import ExprError, compile_expression, parse
from engine.expr.functions import FUNCTIONS
from engine.expr.scope import DictContext
from engine.expr.types import DATE, NUMBER, TEXT, Type
from engine.storage.expr_sql import (
    SQL_FUNCTIONS,
    Link,
    SqlColumn,
    TableScope,
    compile_condition,
    compile_sql,
    compile_typed,
)

__all__ = ["engines"]  # the module-scoped fixture of the agreement tables

HOSTILE = "'; DROP TABLE x; --"
VICTIM = sa.Table("x", METADATA, sa.Column("id", sa.Integer, primary_key=True))
WORDS = sa.Table("expr_words", METADATA, sa.Column("id", sa.Integer, primary_key=True), sa.Column("t1", sa.Text))
WORD_ROWS = [{"id": 1, "t1": "Éclair"}, {"id": 2, "t1": "straße"}, {"id": 3, "t1": "ΣΑΣ"}, {"id": 4, "t1": HOSTILE}]
WORD_COLUMNS = TableScope(WORDS, {"t1": TEXT})
HUGE = sa.Table("expr_huge", METADATA, sa.Column("id", sa.Integer, primary_key=True), sa.Column("h", sa.Float))
HUGE_ROWS = [{"id": 1, "h": 1e150}, {"id": 2, "h": 1e-150}, {"id": 3, "h": 5.0}]
HUGE_COLUMNS = TableScope(HUGE, {"h": NUMBER})


@pytest.fixture(scope="module")
def databases(engines: dict[str, sa.Engine]) -> dict[str, sa.Engine]:
    """The agreement databases, with a victim table ``x`` and a table of words."""
    for engine in engines.values():
        with engine.begin() as connection:
            VICTIM.create(connection, checkfirst=True)
            connection.execute(VICTIM.insert(), [{"id": 1}])
            WORDS.create(connection, checkfirst=True)
            connection.execute(WORDS.insert(), WORD_ROWS)
            HUGE.create(connection, checkfirst=True)
            connection.execute(HUGE.insert(), HUGE_ROWS)
    return engines


def _words(engine: sa.Engine, text: str) -> list[Any]:
    return sql_results(engine, text, WORDS, WORD_COLUMNS)


# -- parameters only -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_text_is_plain_text_and_the_tables_survive(databases: dict[str, sa.Engine], backend: str) -> None:
    engine = databases[backend]
    literal = '"' + HOSTILE.replace('"', '""') + '"'
    assert _words(engine, f"t1 = {literal}") == [False, False, False, True]
    assert _words(engine, f"CONTAINS(t1, {literal})") == [False, False, False, True]
    assert _words(engine, f'{literal} & "!" & LEFT(t1, 3)') == [HOSTILE + "!" + w["t1"][:3] for w in WORD_ROWS]
    assert sql_results(engine, 'CONTAINS(t1, "DROP TABLE expr_rows")') == python_results(
        'CONTAINS(t1, "DROP TABLE expr_rows")'
    )
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(VICTIM)).scalar_one() == 1
        assert connection.execute(sa.select(sa.func.count()).select_from(TABLE)).scalar_one() == len(ROWS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_literal_is_written_into_the_sql_text(backend: str) -> None:
    expression = compile_sql(parse(f'IF(t1 = "{HOSTILE}", "a{HOSTILE}", t2)'), COLUMNS, dialect=backend)
    assert "DROP" not in str(expression.compile(dialect=_sa_dialect(backend)))


def _sa_dialect(backend: str) -> sa.engine.Dialect:
    from engine.storage.expr_sql import DIALECTS

    return DIALECTS[backend].sa_dialect


# -- not_in_sql, with the span of the part ---------------------------------------------------------


class _ListScope:
    """A scope with one list (a sub-table column) and one date-time field."""

    def column(self, path: Sequence[str]) -> SqlColumn | None:
        kinds = {("items", "amount"): Type("number", many=True), ("stamp",): Type("datetime")}
        kind = kinds.get(tuple(path))
        return SqlColumn(sa.column("_".join(path)), kind) if kind else COLUMNS.column(path)


REFUSED = [  # (expression, backend or "both", the text the error's span covers)
    ('TEXT(n1, "0.00")', "both", 'TEXT(n1, "0.00")'),
    ('SUBSTITUTE(t1, "a", "b", 2)', "both", 'SUBSTITUTE(t1, "a", "b", 2)'),
    ("YEAR(EDATE(d1, 1)) + 1", "both", "EDATE(d1, 1)"),
    ("VALUE(t1) + 1", "both", "VALUE(t1)"),
    ("n1 > 0 AND NOW() > d1", "both", "NOW()"),
    ("SUM(items.amount) * 2", "both", "items.amount"),
    ("1 + COUNTIF(items.amount, amount > 1)", "both", "COUNTIF(items.amount, amount > 1)"),
    ("stamp = stamp", "both", "stamp"),
    ("WEEKDAY(d1) = 1", "both", "WEEKDAY(d1)"),
    ("ROUND(n1, i1)", "sqlite", "i1"),
    ("ROUND(n1, 30) + 1", "sqlite", "30"),
    ("ROUNDUP(n1, -400)", "sqlite", "-400"),
    ("IF(b1, 1, 2) * " + "ABS(" * 40 + "n1" + ")" * 40, "sqlite", "IF(b1, 1, 2) * " + "ABS(" * 40 + "n1" + ")" * 40),
]


@pytest.mark.parametrize(("text", "where", "span"), REFUSED)
def test_what_sql_cannot_compute_is_refused_with_its_span(text: str, where: str, span: str) -> None:
    for backend in BACKENDS if where == "both" else (where,):
        with pytest.raises(ExprError) as caught:
            compile_sql(parse(text), _ListScope(), dialect=backend, today=TODAY)
        assert caught.value.code == "not_in_sql", backend
        assert text[caught.value.start : caught.value.end] == span, backend


@pytest.mark.parametrize(("text", "span"), [("TODAY() + 1", "TODAY()"), ("owner = CURRENT_USER()", "CURRENT_USER()")])
def test_the_clock_and_the_actor_are_inputs(text: str, span: str) -> None:
    with pytest.raises(ExprError) as caught:
        compile_sql(parse(text), COLUMNS, dialect="postgresql")
    assert caught.value.code == "not_in_sql" and text[caught.value.start : caught.value.end] == span


def test_the_compiled_functions_are_registered_ones() -> None:
    assert set(SQL_FUNCTIONS) <= set(FUNCTIONS)
    assert {"IF", "IFS", "SWITCH", "BAND", "ROUND", "MOD", "TRIM", "FIND", "DATE", "DAYS", "TODAY"} <= set(
        SQL_FUNCTIONS
    )
    assert all(function.sql is None for function in FUNCTIONS.values())  # the mapping lives in expr_sql


def test_an_unknown_dialect_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="mysql"):
        compile_sql(parse("n1"), COLUMNS, dialect="mysql")


# -- WHERE clauses, types, relation paths ----------------------------------------------------------

CONDITIONS = ["n1 > 0", "i1", "b1", 't1 = "abc" OR ISBLANK(t1)', "NOT (n1 > 0)", "1/n2 > 1", "d1 < TODAY() - 365"]
CONDITIONS += ["d1 + 30 < TODAY()", "NOT (d2 - d1 > 365)", "ISBLANK(d1 + 1)", "d2 - d1 <= 0 OR ISBLANK(d1)"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", CONDITIONS)
def test_a_condition_selects_the_rows_where_python_holds(
    databases: dict[str, sa.Engine], backend: str, text: str
) -> None:
    run = compile_expression(parse(text), scope=SCOPE)
    expected = [row["id"] for row in ROWS if run(context(row)) not in (None, False, 0.0)]
    where = compile_condition(parse(text), COLUMNS, dialect=backend, today=TODAY)
    with databases[backend].connect() as connection:
        found = connection.execute(sa.select(TABLE.c.id).where(where).order_by(TABLE.c.id)).scalars().all()
    assert found == expected


@pytest.mark.parametrize(
    ("text", "kind"), [("n1 + 1", NUMBER), ("t1 & 1", TEXT), ("TODAY()", DATE), ("IF(b1, NULL, NULL)", Type("blank"))]
)
def test_the_result_type_is_reported(text: str, kind: Type) -> None:
    assert compile_typed(parse(text), COLUMNS, dialect="sqlite", today=TODAY)[1] == kind


def test_a_comparison_with_a_literal_reads_the_raw_column() -> None:
    """``n1 = 2.675`` is a range test on n1 (no rounding per row), so an index can serve a filter."""
    for backend in BACKENDS:
        text = str(compile_sql(parse("n1 = 2.675"), COLUMNS, dialect=backend).compile(dialect=_sa_dialect(backend)))
        assert "BETWEEN" in text and "printf" not in text and "NUMERIC" not in text


BUDDY = TableScope(TABLE, COLUMNS.types, {**COLUMNS.links, "buddy": Link("i1", COLUMNS)})


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_path_through_a_relation_to_the_same_table(databases: dict[str, sa.Engine], backend: str) -> None:
    text = 'buddy.t1 & "/" & buddy.acct.tier'
    by_id = {row["id"]: row for row in ROWS}
    expected = []
    for row in ROWS:
        buddy = by_id.get(row["i1"])
        data = {"buddy": None if buddy is None else {**buddy, "acct": context(buddy).data["acct"]}}
        expected.append(compile_expression(parse(text))(DictContext(data)))
    assert sql_results(databases[backend], text, TABLE, BUDDY) == expected


# -- a blank date in date arithmetic: an unknown date stays unknown, on every backend ----------------

# Rows: 2 has no dates, 5 has d1 = 2024-02-29 and no d2, 6 has d2 = 2024-01-01 and no d1.
BLANK_DATES: list[tuple[str, dict[int, Any]]] = [
    ("d1 + 30", {2: None, 5: D(2024, 3, 30), 6: None}),  # a blank date plus days: blank, not the number 30
    ("30 + d1", {2: None, 5: D(2024, 3, 30), 6: None}),
    ("d1 - 1", {2: None, 5: D(2024, 2, 28), 6: None}),
    ("d1 + n2", {2: None, 5: D(2024, 3, 3), 6: None}),
    ("d1 - NULL", {2: None, 5: D(2024, 2, 29), 6: None}),  # a blank *number* of days still counts as 0
    ("ISBLANK(d1 + 30)", {2: True, 5: False, 6: True}),  # blank: "not known yet"
    ("d1 - d2", {2: None, 5: None, 6: None}),  # days from or to a blank date: an error (blank in the end)
    ("(d1 - d2) + 1", {2: None, 5: None, 6: None}),  # ... which does not count as 0 further on
    ("ISBLANK(d1 - d2)", {2: False, 5: False, 6: False}),  # an error is not blank, as ISBLANK(1/0)
    ("COALESCE(d1 - d2, -1)", {2: -1.0, 5: -1.0, 6: -1.0}),  # COALESCE skips it, as it skips errors
    ("DAYS(d1, d2)", {2: None, 5: None, 6: None}),  # the same as DAYS with a blank date
    ("TODAY() - d1", {2: None, 5: 686.0, 6: None}),
    ("MAX(d1, d2) - MIN(d1, d2) > 30", {2: None, 5: False, 6: False}),
]


@pytest.mark.parametrize(("text", "expected"), BLANK_DATES)
def test_a_blank_date_stays_unknown_in_date_arithmetic(
    databases: dict[str, sa.Engine], text: str, expected: dict[int, Any]
) -> None:
    indexes = {row_id: next(i for i, row in enumerate(ROWS) if row["id"] == row_id) for row_id in expected}
    found = {"python": python_results(text)}
    found |= {backend: sql_results(databases[backend], text) for backend in BACKENDS}
    for backend, results in found.items():
        assert {row_id: results[index] for row_id, index in indexes.items()} == expected, backend


def test_without_a_scope_a_blank_name_is_excels_zero() -> None:
    """Only the static type tells a blank date from a blank number: without a scope a name's type is unknown."""
    assert compile_expression(parse("d1 + 30"))(DictContext({})) == 30.0
    assert compile_expression(parse("d1 + 30"), scope=SCOPE)(DictContext({})) is None
    assert compile_expression(parse("IF(FALSE, TODAY(), NULL) + 30"))(DictContext({})) is None  # typed by itself


# -- the documented differences from Python --------------------------------------------------------

LOUD, QUIET = HOSTILE.upper(), HOSTILE.lower()
UNICODE = [  # (expression, python, sqlite, postgresql) per word row
    ('t1 = "éclair"', [True, False, False, False], [False, False, False, False], [True, False, False, False]),
    (
        "UPPER(t1)",
        ["ÉCLAIR", "STRASSE", "ΣΑΣ", LOUD],
        ["ÉCLAIR", "STRAßE", "ΣΑΣ", LOUD],
        ["ÉCLAIR", "STRAßE", "ΣΑΣ", LOUD],
    ),
    (
        "LOWER(t1)",
        ["éclair", "straße", "σας", QUIET],
        ["Éclair", "straße", "ΣΑΣ", QUIET],
        ["éclair", "straße", "σασ", QUIET],
    ),
]


@pytest.mark.parametrize(("text", "python", "sqlite", "postgresql"), UNICODE)
def test_case_mapping_beyond_ascii_is_the_databases(
    databases: dict[str, sa.Engine], text: str, python: list[Any], sqlite: list[Any], postgresql: list[Any]
) -> None:
    run = compile_expression(parse(text))
    assert [run(DictContext(row)) for row in WORD_ROWS] == python
    assert _words(databases["sqlite"], text) == sqlite
    assert _words(databases["postgresql"], text) == postgresql


def test_the_scope_of_the_tables_is_the_checked_one() -> None:
    assert set(COLUMNS.types) | set(COLUMNS.links) == set(SCOPE.fields)


@pytest.mark.parametrize(
    ("text", "python", "postgresql"),
    [
        ("h * 2", [2e150, 2e-150, 10.0], [None, None, 10.0]),  # a float field beyond 1e-100..1e100 in arithmetic
        ("h + 1", [1e150, 1.0, 6.0], [None, None, 6.0]),
        ("h > 1E+149", [True, False, False], [True, False, False]),  # comparisons read the field as it is
    ],
)
def test_postgresql_keeps_float_fields_within_safe_bounds(
    databases: dict[str, sa.Engine], text: str, python: list[Any], postgresql: list[Any]
) -> None:
    run = compile_expression(parse(text))
    assert [run(DictContext(row)) for row in HUGE_ROWS] == python
    assert sql_results(databases["sqlite"], text, HUGE, HUGE_COLUMNS) == python
    assert sql_results(databases["postgresql"], text, HUGE, HUGE_COLUMNS) == postgresql
