"""`tessera demo` end to end: the KAM starter and its demo data on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from kam_demo_db import DemoDatabase, stored_rows

from engine.identity import directory
from engine.identity.passwords import verify_password
from engine.identity.principal import Principal
from engine.storage import system
from engine.storage.database import Database
from forms.access import Policy
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
    assert "demo data: 38 users, 5015 records in 10 forms" in demo_db.output
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


ROLE_COUNTS = {
    "admin": 1, "executive": 4, "team_lead": 3, "kam_office": 1, "rm": 8, "expert": 20, "department_head": 9,
    "risk_officer": 1,
}  # fmt: skip


def test_demo_users_get_their_roles_and_the_printed_demo_password(demo_db: DemoDatabase) -> None:
    """Every role has demo users; every demo user signs in with the one password ``tessera demo`` prints."""
    assert "every demo user's password is 'kam-demo-2024'" in demo_db.output
    assert "  admin            admin" in demo_db.output
    database = Database(demo_db.url)
    try:
        with database.read() as connection:
            users = directory.list_users(connection)
            credentials = system.credentials
            hashes = dict(connection.execute(sa.select(credentials.c.user_id, credentials.c.password_hash)).all())
            heads = dict(connection.execute(sa.select(system.departments.c.id, system.departments.c.head_id)).all())
        counts: dict[str, int] = {}
        for user in users:
            for role in user["roles"]:
                counts[role] = counts.get(role, 0) + 1
            assert user["roles"], user
        assert counts == ROLE_COUNTS
        assert set(Policy(database, Catalog(database)).roles()) == set(ROLE_COUNTS)
        assert set(hashes) == {user["id"] for user in users}
        assert len(set(hashes.values())) == 1 and next(iter(hashes.values())).startswith("$argon2id$")
        assert verify_password(next(iter(hashes.values())), "kam-demo-2024")
        assert sum(head is not None for head in heads.values()) == 15  # every department but 大客户部
    finally:
        database.dispose()


def test_an_rm_of_the_demo_sees_exactly_the_accounts_they_own_or_serve(demo_db: DemoDatabase) -> None:
    """The RM row scope on the demo data, against the team rows read directly (ended memberships excluded)."""
    database = Database(demo_db.url)
    try:
        catalog = Catalog(database)
        policy = Policy(database, catalog)
        accounts, members = stored_rows(database, "account"), stored_rows(database, "account_team_member")
        today = demo_db.today

        def active(member: dict[str, object]) -> bool:
            start, end = member["start_date"], member["end_date"]
            return (start is None or _date(start) <= today) and (end is None or _date(end) >= today)

        with database.read() as connection:
            rms = [u for u in directory.list_users(connection) if "rm" in u["roles"]]
        assert rms
        for rm in rms:
            expected = {a["id"] for a in accounts if a["primary_rm"] == rm["id"]}
            expected |= {m["account"] for m in members if m["user"] == rm["id"] and active(m)}
            principal = Principal(user_id=rm["id"], login=rm["login"], roles=frozenset(rm["roles"]))
            access = policy.access(principal, "account")
            with database.read() as connection:
                page = RecordLister(catalog, database.dialect).page(
                    connection, catalog.form("account"), ListQuery(limit=500), "en", access=access, today=today
                )
            assert {item["id"] for item in page.items} == expected, rm["login"]
    finally:
        database.dispose()


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
