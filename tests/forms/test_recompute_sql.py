"""Recomputing formula fields in SQL gives exactly what the row-by-row Python path gives.

Each test installs a small bundle, fills it with varied records (blanks, ties, out-of-range
results), takes the stored formula values the engine computed on save as the truth, scrambles
them, and recomputes with each engine: every formula field of every record must come back to
the truth, the count of changed records must be the number of records scrambled, and a second
run must change nothing. The KAM starter is compared the same way in
``tests/templates/test_kam_recompute_sql.py`` (it reuses the demo database there).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tessera_testing import Services, install

from engine.storage.database import Database
from forms.catalog import Catalog
from forms.recompute import recompute_all
from forms.recompute_sql import NotInSqlError, plan_recompute
from forms.records import SYSTEM_ACTOR

pytestmark = pytest.mark.pg

TODAY = dt.datetime(2026, 6, 15, 10, 0)
Dump = dict[str, list[tuple[Any, ...]]]


def _options(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


def _formula(key: str, kind: str, formula: str, **options: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": key, "formula": formula, **options}


SETTINGS = {"singleton": True, "fields": [{"key": "weight", "type": "number", "decimals": 2, "label": "Weight"}]}
PRODUCT = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {"key": "category", "type": "select", "label": "Category", "options": _options("vip", "std")},
    ]
}
ACCOUNT = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {"key": "tier", "type": "select", "label": "Tier", "options": _options("a", "b", "c")},
        {"key": "since", "type": "date", "label": "Since"},
        {"key": "a", "type": "number", "label": "A"},
        {"key": "b", "type": "number", "decimals": 2, "label": "B"},
        {"key": "parent", "type": "relation", "target": "account", "label": "Parent", "on_delete": "set_null"},
        {"key": "tags", "type": "multi_select", "label": "Tags", "options": _options("t1", "t2", "t3")},
        {"key": "products", "type": "multi_relation", "target": "product", "label": "Products"},
        {
            "key": "items",
            "type": "subtable",
            "label": "Items",
            "fields": [
                {"key": "qty", "type": "number", "label": "Qty"},
                {"key": "price", "type": "currency", "label": "Price"},
                {"key": "kind", "type": "select", "label": "Kind", "options": _options("x", "y")},
            ],
        },
        _formula("years", "number", "ROUND(DAYS(TODAY(), since) / 365, 1)", decimals=1),
        _formula("weighted", "number", "ROUND(b * settings.weight, 2)", decimals=2),
        _formula("ratio", "number", "a / b", decimals=2),  # any double: PostgreSQL only
        _formula("half", "number", "a / 2"),  # a fraction in a whole-number field is blank
        _formula("bounded", "number", "a - 5", decimals=1, min=0, max=10),
        _formula("size", "select", 'IF(a > 5, "big", "huge")', options=_options("big", "small")),
        _formula("label", "text", 'name & "-" & tier', max_length=6),
        _formula("stars", "rating", "MIN(5, a)"),
        _formula("is_big", "boolean", "AND(a > 3, b < 50)"),
        _formula("month", "date", "DATE(YEAR(since), MONTH(since), 20)", granularity="month"),
        _formula("recent", "boolean", "since >= EOMONTH(TODAY(), -24)"),
        _formula("anonymous", "boolean", "ISBLANK(CURRENT_USER())"),
        _formula("lines", "number", "COUNT(items)"),
        _formula("big_lines", "number", 'COUNTIF(items, qty >= 3 AND kind = "x")'),
        _formula("top_price", "currency", "MAX(items.price)"),
        _formula("total", "currency", "SUM(items.price)"),  # Python: a float sum in id order
        _formula("doubled", "currency", "ROUND(total * 2, 2)"),  # SQL, after the Python field it reads
        _formula("age", "number", 'DATEDIF(since, TODAY(), "Y")'),  # Python: no DATEDIF in SQL
        _formula("stage", "text", 'IFS(age >= 5, "old", years >= 1, "young", TRUE, "new")'),
        _formula("people", "number", "COUNTIF(contacts, active)"),
        _formula("top_score", "number", "MAX(contacts.score)"),
        _formula("first_met", "date", "MINIF(contacts.met_on, met_on >= THIS.since)"),
        _formula("has_vip", "boolean", '"vip" IN (products.category)'),
        _formula("tagged", "boolean", '"T1" IN (tags) OR "t2" NOT IN (tags)'),  # text compares without case
        _formula("parent_years", "number", "parent.years", decimals=1),  # another record's formula
        _formula("band", "text", 'IFS(weighted >= 100, "high", weighted >= 10, "mid", TRUE, "low")'),
    ]
}
CONTACT = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {
            "key": "account",
            "type": "relation",
            "target": "account",
            "label": "Account",
            "on_delete": "cascade",
            "related_name": "contacts",
        },
        {"key": "active", "type": "boolean", "label": "Active"},
        {"key": "met_on", "type": "date", "label": "Met on"},
        {"key": "points", "type": "number", "label": "Points"},
        _formula("score", "number", "points * 2"),
        _formula("account_people", "number", "account.people"),
        _formula("account_top", "number", "account.top_score"),  # reads a formula that reads this form's
        _formula("weight", "number", "settings.weight * 100"),
    ]
}
FORMS = {"settings": SETTINGS, "product": PRODUCT, "account": ACCOUNT, "contact": CONTACT}


@pytest.fixture
def filled(database: Database, make_bundle: Callable[..., Path], services: Services) -> Services:
    """The bundle installed, with 40 accounts of varied data, their contacts and products."""
    assert install(database, make_bundle(FORMS)).applied
    services.records.clock = lambda: TODAY
    rng = random.Random(20260615)
    records: dict[str, list[dict[str, Any]]] = {"settings": [{"id": 1, "weight": 1.25}]}
    records["product"] = [{"id": i, "name": f"p{i}", "category": rng.choice(["vip", "std", None])} for i in range(1, 7)]
    records["account"] = []
    for i in range(1, 41):
        account: dict[str, Any] = {
            "id": i,
            "name": rng.choice(["ab", "abcd", "x", "long name"]),
            "tier": rng.choice(["a", "b", "c", None]),
            "since": rng.choice([None, str(dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 4200)))]),
            "a": rng.choice([None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 15, -3]),
            "b": rng.choice([None, 0, 0.25, 1.5, 3, 8, 12.75, 80, 99.99, 1000]),
            "parent": rng.choice([None, rng.randint(1, i - 1)]) if i > 1 else None,
            "products": rng.sample(range(1, 7), rng.randint(0, 3)),
            "tags": rng.choice([None, [], ["t1"], ["t2", "t3"], ["t3"]]),
            "items": [
                {
                    "qty": rng.choice([None, 1, 3, 5]),
                    "price": rng.choice([None, 0.1, 0.2, 19.99, 250]),
                    "kind": rng.choice(["x", "y", None]),
                }
                for _ in range(rng.randint(0, 4))
            ],
        }
        records["account"].append(account)
    records["contact"] = [
        {
            "id": i,
            "name": f"c{i}",
            "account": rng.randint(1, 40),
            "active": rng.choice([True, False, None]),
            "met_on": rng.choice([None, str(dt.date(2016, 1, 1) + dt.timedelta(days=rng.randint(0, 3600)))]),
            "points": rng.choice([None, 0, 1, 7, 40]),
        }
        for i in range(1, 61)
    ]
    with database.begin() as connection:
        for form, rows in records.items():
            given = [{k: v for k, v in row.items() if v is not None} for row in rows]
            services.records.insert_many(form, given, actor=SYSTEM_ACTOR, connection=connection)
    return services


def dump(database: Database, catalog: Catalog) -> Dump:
    """Every stored formula value: per form, ``(id, values...)`` by id."""
    plan = catalog.formula_plan()
    found: Dump = {}
    with database.read() as connection:
        for form, formulas in plan.own.items():
            table = catalog.form(form).table
            columns = [table.c.id, *(table.c[f.field.key] for f in formulas)]
            found[form] = [tuple(row) for row in connection.execute(sa.select(*columns).order_by(table.c.id))]
    return found


def scramble(database: Database, catalog: Catalog, seed: int) -> None:
    """Overwrite about half of the stored formula values with wrong (but storable) ones or blanks."""
    plan = catalog.formula_plan()
    wrong = {"number": 7, "text": "zz", "boolean": True, "date": dt.date(2000, 1, 1)}  # others: blank
    with database.begin() as connection:
        for form, formulas in plan.own.items():
            table = catalog.form(form).table
            for index, formula in enumerate(formulas):
                value = wrong.get(formula.field.expr_type)
                pick = (table.c.id + index + seed) % 3
                new = sa.case((pick == 0, sa.null()), else_=sa.literal(value, table.c[formula.field.key].type))
                connection.execute(sa.update(table).where(pick != 2).values({formula.field.key: new}))


def differing(one: Dump, other: Dump) -> dict[str, int]:
    """How many records differ per form."""
    return {form: sum(a != b for a, b in zip(rows, other[form], strict=True)) for form, rows in one.items()}


def check_engine(services: Services, engine: str, seed: int) -> Dump:
    """Scramble, recompute with ``engine``: back to the truth, with the right counts; return the truth."""
    database, catalog = services.database, services.catalog
    truth = dump(database, catalog)
    scramble(database, catalog, seed)
    scrambled = differing(dump(database, catalog), truth)
    assert sum(scrambled.values()) > 0
    assert recompute_all(database, catalog, clock=TODAY, engine=engine) == scrambled
    after = dump(database, catalog)
    for form, rows in truth.items():
        assert after[form] == rows, form
    assert recompute_all(database, catalog, clock=TODAY, engine=engine) == {form: 0 for form in truth}
    return truth


def test_sql_and_python_recompute_every_formula_to_the_same_values(filled: Services) -> None:
    truth = check_engine(filled, "auto", seed=1)
    assert check_engine(filled, "python", seed=2) == truth
    assert check_engine(filled, "auto", seed=3) == truth


def test_the_stored_values_are_the_converted_results(filled: Services) -> None:
    rows = {row["id"]: row for row in _records(filled, "account")}
    for row in rows.values():
        a, b = row["a"], row["b"]
        whole = a or 0  # arithmetic reads a blank as 0; MIN skips it
        assert row["half"] == (whole // 2 if whole % 2 == 0 else None)
        assert row["bounded"] == (whole - 5 if 0 <= whole - 5 <= 10 else None)
        assert row["size"] == ("big" if whole > 5 else None)  # "huge" is not an option
        label = f"{row['name']}-{row['tier'] or ''}"
        assert row["label"] == (label if len(label) <= 6 else None)
        stars = 5 if a is None else min(5, a)
        assert row["stars"] == (stars if stars >= 1 else None)
        if a is not None and b:
            expected = (Decimal(repr(a / float(b)))).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            assert row["ratio"] == expected
        if row["since"] is not None:
            assert row["month"] == row["since"].replace(day=1)
        assert row["anonymous"] is True
        parent = rows.get(row["parent"]) if row["parent"] else None
        assert row["parent_years"] == (parent["years"] if parent else None)
    assert {row["size"] for row in rows.values()} == {"big", None}
    assert any(row["label"] is None for row in rows.values()) and any(row["label"] for row in rows.values())


def _records(services: Services, form: str) -> list[dict[str, Any]]:
    table = services.catalog.form(form).table
    with services.database.read() as connection:
        return [dict(row) for row in connection.execute(sa.select(table).order_by(table.c.id)).mappings()]


def test_fields_that_do_not_compile_fall_back_to_python(filled: Services) -> None:
    database, catalog = filled.database, filled.catalog
    work = plan_recompute(catalog, dialect=database.dialect, clock=TODAY)
    python = {key for form, key in work.python_fields if form == "account"}
    sql = {key for form, key in work.sql_fields if form == "account"}
    assert {"total", "age"} <= python  # SUM over rows, DATEDIF
    in_sql = {"doubled", "stage", "people", "top_score", "first_met", "has_vip", "tagged", "lines", "big_lines"}
    assert in_sql <= sql
    assert {"years", "weighted", "half", "bounded", "size", "label", "stars", "month", "recent", "anonymous"} <= sql
    assert ("ratio" in sql) is (database.dialect == "postgresql")  # SQLite cannot round any double as Python
    assert "SUM" in work.refused[("account", "total")]
    assert {key for form, key in work.sql_fields if form == "contact"} == {
        "score",
        "account_people",
        "account_top",
        "weight",
    }
    order = [(step.form, key) for step in work.steps for key in step.fields]
    position = {node: index for index, node in enumerate(order)}
    assert position[("contact", "score")] < position[("account", "top_score")] < position[("contact", "account_top")]
    assert position[("account", "years")] < position[("account", "parent_years")]
    assert position[("account", "total")] < position[("account", "doubled")]
    with pytest.raises(NotInSqlError, match=r"account\.total"):
        recompute_all(database, catalog, clock=TODAY, engine="sql")


def test_every_field_in_sql_when_all_compile(database: Database, make_bundle: Callable[..., Path]) -> None:
    forms = {
        "thing": {
            "fields": [
                {"key": "x", "type": "number", "label": "X"},
                _formula("y", "number", "x * 3"),
                _formula("z", "text", 'IF(y > 10, "many", "few")'),
            ]
        }
    }
    assert install(database, make_bundle(forms)).applied
    catalog = Catalog(database)
    table = catalog.form("thing").table
    with database.begin() as connection:
        connection.execute(sa.insert(table), [_row(i, x) for i, x in enumerate([1, 5, None, 4], start=1)])
    work = plan_recompute(catalog, dialect=database.dialect, clock=TODAY, engine="sql")
    assert work.python_fields == [] and work.sql_fields == [("thing", "y"), ("thing", "z")]
    assert recompute_all(database, catalog, clock=TODAY, engine="sql") == {"thing": 4}
    with database.read() as connection:
        stored = connection.execute(sa.select(table.c.y, table.c.z).order_by(table.c.id)).all()
    assert [tuple(row) for row in stored] == [(3, "few"), (15, "many"), (0, "few"), (12, "many")]  # blank * 3 is 0
    assert recompute_all(database, catalog, clock=TODAY, engine="sql") == {"thing": 0}
    with pytest.raises(ValueError, match="unknown recompute engine"):
        recompute_all(database, catalog, clock=TODAY, engine="fast")


def _row(record_id: int, x: int | None) -> dict[str, Any]:
    return {
        "id": record_id,
        "x": x,
        "version": 1,
        "form_version": 1,
        "created_at": TODAY,
        "updated_at": TODAY,
    }


def test_the_daily_job_recomputes_date_dependent_forms_in_sql(filled: Services) -> None:
    database, catalog = filled.database, filled.catalog
    later = TODAY.replace(year=2031)
    python_twin = dump(database, catalog)
    work = plan_recompute(catalog, dialect=database.dialect, clock=later, only_time_dependent=True)
    assert work.forms == ["account"]  # no contact formula reads a date-dependent one
    changed = recompute_all(database, catalog, clock=later, only_time_dependent=True)
    assert changed["account"] > 0
    in_sql = dump(database, catalog)
    scramble(database, catalog, seed=5)  # the same with Python, from scrambled values
    recompute_all(database, catalog, clock=later, only_time_dependent=False, engine="python")
    assert dump(database, catalog) == in_sql
    assert in_sql != python_twin
