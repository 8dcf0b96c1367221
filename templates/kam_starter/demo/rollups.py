"""The generator's own reckoning of the account formulas it needs: financial figures and health.

The engine computes every formula field from the stored rows; nothing here is written to an account
row. ``Account.computed`` holds the values the formulas will give, so that the tier fitting
(``scoring.fit_tiers``) and the monthly health snapshots agree with what the engine shows.
"""

from __future__ import annotations

from datetime import date

from .scoring import CADENCE_DAYS, cooperation_years, health_score
from .world import Account, Clock, Row, excel_round, iso, stored


def financial_rollups(account: Account, clock: Clock) -> None:
    """Section B figures from ``account.months`` (last 12 complete months vs months 13-24)."""
    row, months, computed = account.row, account.months, account.computed
    last, previous = months[-12:], months[:-12]
    revenue = stored(sum(m["revenue"] for m in last), 2)
    revenue_prev = stored(sum(m["revenue"] for m in previous), 2)
    gross_profit = stored(sum(m["gross_profit"] for m in last), 2)
    spend = row.get("customer_category_spend")
    computed.update(
        cooperation_years=cooperation_years(row["customer_since"], clock.today),
        revenue_12m=revenue,
        revenue_prev_12m=revenue_prev,
        revenue_growth_yoy=excel_round(revenue / revenue_prev - 1, 4) if revenue_prev > 0 else None,
        gross_margin_12m=excel_round(gross_profit / revenue, 4) if revenue > 0 else None,
        wallet_share=excel_round(revenue / spend, 4) if spend else None,
    )


def finish_accounts(clock: Clock, accounts: list[Account], contacts: list[Row], interactions: list[Row]) -> None:
    """``contact.last_contacted``, and each account's contact rollups, health and monthly health snapshots."""
    people, talks = _group(contacts), _group(interactions)
    _last_contacted(contacts, interactions)
    for account in accounts:
        _contact_rollups(account.computed, people[account.id])
        _health(account, clock, talks.get(account.id, []))


def _group(rows: list[Row]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["account"], []).append(row)
    return grouped


def _last_contacted(contacts: list[Row], interactions: list[Row]) -> None:
    """``contact.last_contacted`` = latest interaction the contact took part in (not a formula: see TODO.md)."""
    latest: dict[int, str] = {}
    for talk in interactions:
        for contact_id in talk["participants_client"]:
            latest[contact_id] = max(latest.get(contact_id, ""), talk["date"][:10])
    for contact in contacts:
        if contact["id"] in latest:
            contact["last_contacted"] = latest[contact["id"]]


def _contact_rollups(computed: Row, people: list[Row]) -> None:
    active = [p for p in people if p["status"] == "active" and p.get("relationship_strength", 0) >= 3]
    computed["active_contacts"] = len(active)
    computed["has_champion"] = any(p["attitude"] == "champion" and p["status"] == "active" for p in people)


def _health_at(account: Account, months: list[Row], as_of: date, talks: list[Row]) -> float:
    """Health score as of ``as_of`` with ``months[-1]`` as the latest month (§4.4)."""
    before = [t["date"][:10] for t in talks if t["date"][:10] < iso(as_of)]
    return health_score(
        revenue_recent=sum(m["revenue"] for m in months[-3:]),
        revenue_last_year=sum(m["revenue"] for m in months[-15:-12]),
        days_past_due=months[-1].get("max_days_past_due"),
        days_since_interaction=(as_of - date.fromisoformat(max(before))).days if before else None,
        cadence_days=CADENCE_DAYS[account.row["tier"]],
        has_champion=account.computed["has_champion"],
        active_contacts=account.computed["active_contacts"],
    )


def _health(account: Account, clock: Clock, talks: list[Row]) -> None:
    """Monthly health snapshots on the last two financial rows (the latest one is today's health).

    ``health_score_snapshot`` is written at month end (it is history, not a formula); the engine's
    ``health_trend`` compares the health score with last month's snapshot.
    """
    current = _health_at(account, account.months, clock.today, talks)
    previous = _health_at(account, account.months[:-1], clock.periods[-1], talks)
    account.months[-1]["health_score_snapshot"] = current
    account.months[-2]["health_score_snapshot"] = previous
    account.computed["health_score"] = current
