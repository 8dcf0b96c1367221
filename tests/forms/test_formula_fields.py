"""Formula fields are computed and stored, and kept current when what they read changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tessera_testing import Services, install

from engine.issues import ValidationError
from engine.storage.database import Database
from forms.records import Actor

pytestmark = pytest.mark.pg

ACTOR = Actor(user_id=None, locale="en")
TODAY = dt.datetime(2026, 6, 15, 10, 0)

SETTINGS = {
    "singleton": True,
    "fields": [{"key": "weight", "type": "number", "decimals": 2, "label": "Weight", "default": 2}],
}
ACCOUNT = {
    "title_field": "name",
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {
            "key": "tier",
            "type": "select",
            "label": "Tier",
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
        },
        {"key": "since", "type": "date", "label": "Since"},
        {
            "key": "years",
            "type": "number",
            "decimals": 1,
            "label": "Years",
            "formula": "ROUND(DAYS(TODAY(), since) / 365, 1)",
        },
        {"key": "revenue_total", "type": "currency", "label": "Total", "formula": "SUM(monthly.revenue)"},
        {
            "key": "revenue_recent",
            "type": "currency",
            "label": "Recent",
            "formula": "SUMIF(monthly.revenue, period > EDATE(TODAY(), -3))",
        },
        {"key": "big_months", "type": "number", "label": "Big months", "formula": "COUNTIF(monthly, revenue >= 100)"},
        {
            "key": "score",
            "type": "number",
            "decimals": 2,
            "label": "Score",
            "formula": "revenue_total * settings.weight",
        },
        {
            "key": "band",
            "type": "text",
            "label": "Band",
            "formula": 'IFS(score >= 1000, "high", score >= 100, "mid", TRUE, "low")',
        },
    ],
}
MONTHLY = {
    "fields": [
        {
            "key": "account",
            "type": "relation",
            "target": "account",
            "label": "Account",
            "required": True,
            "on_delete": "cascade",
        },
        {"key": "period", "type": "date", "granularity": "month", "label": "Month", "required": True},
        {"key": "revenue", "type": "currency", "label": "Revenue"},
    ]
}
CONTACT = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {"key": "account", "type": "relation", "target": "account", "label": "Account", "on_delete": "set_null"},
        {"key": "account_tier", "type": "text", "label": "Tier of the account", "formula": "account.tier"},
    ]
}


@pytest.fixture
def kam(database: Database, make_bundle: Callable[..., Path], services: Services) -> Services:
    root = make_bundle({"settings": SETTINGS, "account": ACCOUNT, "monthly": MONTHLY, "contact": CONTACT})
    result = install(database, root)
    assert result.applied and not result.issues
    services.records.clock = lambda: TODAY
    return services


def _get(services: Services, form: str, record_id: int) -> dict[str, Any]:
    return services.records.get(form, record_id, actor=ACTOR)


def test_own_formulas_are_computed_on_create_and_update(kam: Services) -> None:
    account = kam.records.create("account", {"name": "A", "since": "2021-06-15"}, actor=ACTOR)
    assert account["years"] == 5.0
    assert account["revenue_total"] is None or account["revenue_total"] == 0
    assert account["band"] == "low"
    updated = kam.records.update("account", account["id"], {"since": "2024-06-15"}, version=1, actor=ACTOR)
    assert updated["years"] == 2.0


def test_formula_fields_cannot_be_set_by_users(kam: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        kam.records.create("account", {"name": "A", "years": 3}, actor=ACTOR)
    assert [(i.field, i.code) for i in caught.value.issues] == [("years", "read_only")]


def test_rollups_follow_creates_updates_moves_and_deletes_of_related_rows(kam: Services) -> None:
    kam.records.create("settings", {"weight": 2}, actor=ACTOR)
    a = kam.records.create("account", {"name": "A"}, actor=ACTOR)["id"]
    b = kam.records.create("account", {"name": "B"}, actor=ACTOR)["id"]
    m1 = kam.records.create("monthly", {"account": a, "period": "2026-05-01", "revenue": 300}, actor=ACTOR)
    kam.records.create("monthly", {"account": a, "period": "2025-01-01", "revenue": 50}, actor=ACTOR)
    account = _get(kam, "account", a)
    assert (account["revenue_total"], account["revenue_recent"], account["big_months"]) == (350.0, 300.0, 1)
    assert (account["score"], account["band"]) == (700.0, "mid")

    kam.records.update("monthly", m1["id"], {"revenue": 600}, version=1, actor=ACTOR)
    assert _get(kam, "account", a)["band"] == "high"  # 650 * 2 = 1300: a chain of formulas follows

    kam.records.update("monthly", m1["id"], {"account": b}, version=2, actor=ACTOR)
    assert _get(kam, "account", a)["revenue_total"] == 50.0
    assert _get(kam, "account", b)["revenue_total"] == 600.0

    kam.records.delete("monthly", m1["id"], version=None, actor=ACTOR)
    assert _get(kam, "account", b)["revenue_total"] in (None, 0.0)


def test_records_reading_a_related_record_follow_its_changes(kam: Services) -> None:
    a = kam.records.create("account", {"name": "A", "tier": "a"}, actor=ACTOR)
    contact = kam.records.create("contact", {"name": "C", "account": a["id"]}, actor=ACTOR)
    assert contact["account_tier"] == "a"
    kam.records.update("account", a["id"], {"tier": "b"}, version=a["version"], actor=ACTOR)
    assert _get(kam, "contact", contact["id"])["account_tier"] == "b"


def test_a_settings_change_recomputes_every_record_that_reads_it(kam: Services) -> None:
    settings = kam.records.create("settings", {"weight": 1}, actor=ACTOR)
    a = kam.records.create("account", {"name": "A"}, actor=ACTOR)["id"]
    kam.records.create("monthly", {"account": a, "period": "2026-05-01", "revenue": 200}, actor=ACTOR)
    assert _get(kam, "account", a)["score"] == 200.0
    kam.records.update("settings", settings["id"], {"weight": 10}, version=1, actor=ACTOR)
    assert _get(kam, "account", a)["score"] == 2000.0
    assert _get(kam, "account", a)["band"] == "high"


def test_the_daily_job_refreshes_date_dependent_formulas_only(kam: Services) -> None:
    from forms.recompute import recompute_all, time_dependent

    plan = kam.catalog.formula_plan()
    assert time_dependent(plan) == {"account": {"years", "revenue_recent"}}  # score and band read no date
    a = kam.records.create("account", {"name": "A", "since": "2021-06-15"}, actor=ACTOR)
    assert a["years"] == 5.0
    later = TODAY.replace(year=2031)
    assert recompute_all(kam.database, kam.catalog, clock=later, only_time_dependent=True) == {"account": 1}
    assert _get(kam, "account", a["id"])["years"] == 10.0
    assert recompute_all(kam.database, kam.catalog, clock=later, only_time_dependent=True) == {"account": 0}


PERSON = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {
            "key": "seniority",
            "type": "select",
            "label": "Seniority",
            "options": [{"value": v, "label": v} for v in ("board", "c_level", "staff")],
        },
    ]
}
MEETING = {
    "fields": [
        {"key": "topic", "type": "text", "label": "Topic"},
        {"key": "people", "type": "multi_relation", "target": "person", "label": "People"},
        {
            "key": "is_executive",
            "type": "boolean",
            "label": "Executive",
            "formula": '"board" IN (people.seniority) OR "c_level" IN (people.seniority)',
        },
    ]
}


def test_a_saved_record_recomputes_the_records_listing_it_in_a_multi_relation(
    database: Database, make_bundle: Callable[..., Path], services: Services
) -> None:
    assert install(database, make_bundle({"person": PERSON, "meeting": MEETING})).applied
    create = services.records.create
    ann, bob, cid = (
        create("person", {"name": name, "seniority": "staff"}, actor=ACTOR)["id"] for name in ("Ann", "Bob", "Cid")
    )
    m1 = create("meeting", {"topic": "a", "people": [ann]}, actor=ACTOR)["id"]
    m2 = create("meeting", {"topic": "b", "people": [bob, cid]}, actor=ACTOR)["id"]
    m3 = create("meeting", {"topic": "c", "people": [cid]}, actor=ACTOR)["id"]
    assert [_get(services, "meeting", m)["is_executive"] for m in (m1, m2, m3)] == [False, False, False]
    table = services.catalog.form("meeting").table
    with database.begin() as connection:  # a stale value on a meeting that does not list Cid stays as it is
        connection.execute(sa.update(table).where(table.c.id == m1).values(is_executive=None))

    cid_record = _get(services, "person", cid)
    services.records.update("person", cid, {"seniority": "c_level"}, version=cid_record["version"], actor=ACTOR)
    assert [_get(services, "meeting", m)["is_executive"] for m in (m1, m2, m3)] == [None, True, True]

    services.records.update("meeting", m2, {"people": [bob]}, version=1, actor=ACTOR)
    assert _get(services, "meeting", m2)["is_executive"] is False
    services.records.delete("person", cid, version=None, actor=ACTOR)  # its link rows go: m3 lists nobody
    assert [_get(services, "meeting", m)["is_executive"] for m in (m2, m3)] == [False, False]
