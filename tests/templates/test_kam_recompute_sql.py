"""The KAM demo's formula fields recomputed in SQL and in Python: the same stored values.

Runs on the shared demo database (see ``conftest.py``): it scrambles the stored formula values,
recomputes them with each engine and checks they come back to what the engine stored while
loading the demo; the values are back as they were when the test ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from kam_demo_db import DemoDatabase

from engine.storage.database import Database
from forms.catalog import Catalog
from forms.recompute import recompute_all
from forms.recompute_sql import plan_recompute

pytestmark = pytest.mark.pg

Dump = dict[str, list[tuple[Any, ...]]]
WRONG = {"number": 7, "text": "zz", "boolean": True, "date": dt.date(2000, 1, 1)}  # others (ids): blank


@pytest.fixture
def database(demo_db: DemoDatabase) -> Iterator[Database]:
    if dt.datetime.now(dt.UTC).date() != demo_db.today:
        pytest.skip("the demo was loaded yesterday (UTC): its TODAY()-based values are a day old")
    db = Database(demo_db.url)
    yield db
    db.dispose()


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def dump(database: Database, catalog: Catalog) -> Dump:
    plan = catalog.formula_plan()
    found: Dump = {}
    with database.read() as connection:
        for form, formulas in plan.own.items():
            table = catalog.form(form).table
            columns = [table.c.id, *(table.c[f.field.key] for f in formulas)]
            found[form] = [tuple(row) for row in connection.execute(sa.select(*columns).order_by(table.c.id))]
    return found


def scramble(database: Database, catalog: Catalog, seed: int) -> dict[str, int]:
    """Blank or falsify about two thirds of the stored formula values; return the records changed per form."""
    before = dump(database, catalog)
    with database.begin() as connection:
        for form, formulas in catalog.formula_plan().own.items():
            table = catalog.form(form).table
            for index, formula in enumerate(formulas):
                column = table.c[formula.field.key]
                pick = (table.c.id + index + seed) % 3
                new = sa.case((pick == 0, sa.null()), else_=sa.literal(WRONG.get(formula.field.expr_type), column.type))
                connection.execute(sa.update(table).where(pick != 2).values({formula.field.key: new}))
    after = dump(database, catalog)
    return {form: sum(a != b for a, b in zip(rows, after[form], strict=True)) for form, rows in before.items()}


def test_the_plan_puts_most_kam_formulas_in_sql(database: Database) -> None:
    work = plan_recompute(Catalog(database), dialect=database.dialect, clock=clock())
    in_sql, in_python = set(work.sql_fields), set(work.python_fields)
    assert len(in_sql) > len(in_python) > 0
    assert {("account", "kav_score"), ("account", "tier_suggested"), ("account", "health_score")} <= in_sql
    assert {
        ("interaction", "is_executive_level"),
        ("account", "active_contacts"),
        ("account", "latest_period"),
    } <= in_sql
    assert {("account", "revenue_12m"), ("account", "exec_interactions_12m")} <= in_python  # SUMIF, a date-time
    assert "SUMIF over related rows" in work.refused[("account", "revenue_12m")]


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_every_engine_recomputes_the_demo_to_the_stored_values(database: Database, engine: str) -> None:
    catalog = Catalog(database)
    truth = dump(database, catalog)
    try:
        scrambled = scramble(database, catalog, seed=len(engine))
        assert sum(scrambled.values()) > 1000
        assert recompute_all(database, catalog, clock=clock(), engine=engine) == scrambled
        after = dump(database, catalog)
        for form, rows in truth.items():
            assert after[form] == rows, form
        assert recompute_all(database, catalog, clock=clock(), engine=engine) == {form: 0 for form in truth}
    except BaseException:
        recompute_all(database, catalog, clock=clock(), engine="python")  # the shared demo as it was
        raise
