"""`tessera demo` end to end: the KAM starter and its demo data on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from kam_demo_db import DemoDatabase

from engine.storage.database import Database
from forms.catalog import Catalog
from forms.listing import FilterSpec, ListQuery, RecordLister
from web.cli import main

pytestmark = pytest.mark.pg

EXPECTED_COUNTS = {
    "kam_settings": 1,
    "account": 100,
    "contact": 389,
    "account_financial_monthly": 2400,
    "account_team_member": 220,
    "product_catalog": 22,
}


def _count(database: Database, form: str, *filters: FilterSpec) -> int:
    catalog = Catalog(database)
    with database.read() as connection:
        page = RecordLister(catalog, database.dialect).page(
            connection, catalog.form(form), ListQuery(filters=filters, count=True, limit=1), "en"
        )
    assert page.count is not None and not page.count_capped
    return page.count


def test_demo_installs_the_starter_with_its_data_once(
    demo_db: DemoDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "demo data: 37 users, 5015 records in 10 forms" in demo_db.output
    database = Database(demo_db.url)
    try:
        for form, expected in EXPECTED_COUNTS.items():
            assert _count(database, form) == expected, form
        strategic = _count(database, "account", FilterSpec("tier", "eq", "strategic"))
        assert strategic == 8
        assert _count(database, "contact", FilterSpec("account.tier", "eq", "strategic")) > strategic * 5
        assert main(["demo", "--db", demo_db.url]) == 0
        assert "demo data already present" in capsys.readouterr().out
        assert _count(database, "account") == 100
    finally:
        database.dispose()


def test_demo_accounts_get_autonumbers_and_their_managers(demo_db: DemoDatabase) -> None:
    database = Database(demo_db.url)
    try:
        catalog = Catalog(database)
        with database.read() as connection:
            page = RecordLister(catalog, database.dialect).page(
                connection,
                catalog.form("account"),
                ListQuery(limit=100, sort=(("id", False),), expand=("primary_rm",)),
                "zh",
            )
        numbers = [item["account_no"] for item in page.items]
        assert numbers[0].startswith("KA-") and numbers[0].endswith("-0001")
        assert len(set(numbers)) == 100
        assert all(item["primary_rm"]["title"] for item in page.items)
    finally:
        database.dispose()


def test_demo_lists_accounts_by_their_computed_kav(demo_db: DemoDatabase) -> None:
    """The account list sorts by kav_score, a formula field: every account has one, highest first."""
    database = Database(demo_db.url)
    try:
        catalog = Catalog(database)
        with database.read() as connection:
            page = RecordLister(catalog, database.dialect).page(
                connection, catalog.form("account"), ListQuery(limit=100, sort=(("kav_score", True),)), "en"
            )
        scores = [item["kav_score"] for item in page.items]
        assert len(scores) == 100 and None not in scores
        assert scores == sorted(scores, reverse=True)
        assert _count(database, "account", FilterSpec("tier_suggested", "eq", "strategic")) == 6
    finally:
        database.dispose()
