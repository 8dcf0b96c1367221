"""`tessera demo` end to end: the KAM starter and its demo data on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from engine.storage.database import Database
from forms.catalog import Catalog
from forms.listing import FilterSpec, ListQuery, RecordLister
from web.cli import main

pytestmark = pytest.mark.pg

EXPECTED_COUNTS = {
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


def test_demo_installs_the_starter_with_its_data_once(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", db_url]) == 0
    assert "demo data: 37 users, 5014 records in 9 forms" in capsys.readouterr().out
    database = Database(db_url)
    try:
        for form, expected in EXPECTED_COUNTS.items():
            assert _count(database, form) == expected, form
        strategic = _count(database, "account", FilterSpec("tier", "eq", "strategic"))
        assert strategic == 8
        assert _count(database, "contact", FilterSpec("account.tier", "eq", "strategic")) > strategic * 5
        assert main(["demo", "--db", db_url]) == 0
        assert "demo data already present" in capsys.readouterr().out
        assert _count(database, "account") == 100
    finally:
        database.dispose()


def test_demo_accounts_get_autonumbers_and_their_managers(db_url: str) -> None:
    assert main(["demo", "--db", db_url]) == 0
    database = Database(db_url)
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
