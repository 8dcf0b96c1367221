"""Computed ("ƒ") account and contact fields, derived from the generated rows.

The engine has no formulas yet; these fill the read-only fields the way the formulas of
kam_domain §3.1, §4.4 and §5 will, so the demo looks consistent on day one.
"""

from __future__ import annotations

from datetime import date

from .scoring import (
    CADENCE_DAYS,
    cooperation_years,
    enterprise_stage_rule,
    health_color,
    health_score,
    relationship_stage_rule,
)
from .world import COMPANY_REVENUE_12M, Account, Clock, Row, fraction, iso, money

TREND_STEP = 3.0
"""Health change (points) that counts as up / down against last month's snapshot."""


def financial_rollups(account: Account, clock: Clock) -> None:
    """Section B fields from ``account.months`` (last 12 months vs months 13-24, latest month)."""
    row, months = account.row, account.months
    last, previous, latest = months[-12:], months[:-12], months[-1]
    revenue = money(sum(m["revenue"] for m in last))
    revenue_prev = money(sum(m["revenue"] for m in previous))
    gross_profit = money(sum(m["gross_profit"] for m in last))
    row.update(
        cooperation_years=cooperation_years(row["customer_since"], clock.today),
        revenue_12m=revenue,
        revenue_prev_12m=revenue_prev,
        gross_profit_12m=gross_profit,
        revenue_share_of_total=fraction(revenue / COMPANY_REVENUE_12M),
    )
    if revenue_prev > 0:
        row["revenue_growth_yoy"] = fraction(revenue / revenue_prev - 1)
    if revenue > 0:
        row["gross_margin_12m"] = fraction(gross_profit / revenue)
    if row.get("customer_category_spend"):
        row["wallet_share"] = fraction(revenue / row["customer_category_spend"])
    row.update(
        receivables=latest["receivables"],
        overdue_amount=latest.get("overdue_amount", 0.0),
        max_days_past_due=latest.get("max_days_past_due", 0),
    )
    if "dso" in latest:
        row["dso_latest"] = latest["dso"]
        row["cust_ccc_gap"] = latest["cust_dso"] - latest["cust_dpo"]
    recent_revenue = sum(m["revenue"] for m in months[-3:])
    if recent_revenue > 0:
        row["cross_border_share"] = fraction(sum(m["cross_border_volume"] for m in months[-3:]) / recent_revenue)


def finish_accounts(
    clock: Clock,
    accounts: list[Account],
    contacts: list[Row],
    interactions: list[Row],
    opportunities: list[Row],
    events: list[Row],
) -> None:
    """Fill the contact, interaction, health and lifecycle rollups of every account."""
    people, talks = _group(contacts), _group(interactions)
    deals, news = _group(opportunities), _group(events)
    _last_contacted(contacts, interactions)
    for account in accounts:
        _contact_rollups(account.row, people[account.id])
        _interaction_rollups(account.row, talks.get(account.id, []), clock)
        _health(account, clock, talks.get(account.id, []))
        _stages(account, clock, people[account.id], deals.get(account.id, []), news.get(account.id, []))


def _group(rows: list[Row]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["account"], []).append(row)
    return grouped


def _last_contacted(contacts: list[Row], interactions: list[Row]) -> None:
    """``contact.last_contacted`` = latest interaction the contact took part in."""
    latest: dict[int, str] = {}
    for talk in interactions:
        for contact_id in talk["participants_client"]:
            latest[contact_id] = max(latest.get(contact_id, ""), talk["date"][:10])
    for contact in contacts:
        if contact["id"] in latest:
            contact["last_contacted"] = latest[contact["id"]]


def _contact_rollups(row: Row, people: list[Row]) -> None:
    active = [p for p in people if p["status"] == "active" and p.get("relationship_strength", 0) >= 3]
    row["active_contacts"] = len(active)
    row["contact_departments"] = len({p["department"] for p in active})
    row["has_champion"] = any(p["attitude"] == "champion" and p["status"] == "active" for p in people)


def _interaction_rollups(row: Row, talks: list[Row], clock: Clock) -> None:
    year_ago = iso(clock.days_ago(365))
    row["exec_interactions_12m"] = sum(1 for t in talks if t["is_executive_level"] and t["date"] >= year_ago)
    if talks:
        last = max(t["date"] for t in talks)[:10]
        row["last_interaction_date"] = last
        row["days_since_interaction"] = (clock.today - date.fromisoformat(last)).days


def _health_at(account: Account, months: list[Row], as_of: date, talks: list[Row]) -> float:
    """Health score as of ``as_of`` with ``months[-1]`` as the latest month (§4.4)."""
    before = [t["date"][:10] for t in talks if t["date"][:10] < iso(as_of)]
    return health_score(
        revenue_recent=sum(m["revenue"] for m in months[-3:]),
        revenue_last_year=sum(m["revenue"] for m in months[-15:-12]),
        days_past_due=months[-1].get("max_days_past_due", 0),
        days_since_interaction=(as_of - date.fromisoformat(max(before))).days if before else None,
        cadence_days=CADENCE_DAYS[account.row["tier"]],
        has_champion=account.row["has_champion"],
        active_contacts=account.row["active_contacts"],
    )


def _health(account: Account, clock: Clock, talks: list[Row]) -> None:
    """Current health, colour and trend; monthly snapshots on the last two financial rows."""
    current = _health_at(account, account.months, clock.today, talks)
    previous = _health_at(account, account.months[:-1], clock.periods[-1], talks)
    account.months[-1]["health_score_snapshot"] = current
    account.months[-2]["health_score_snapshot"] = previous
    change = current - previous
    account.row.update(
        health_score=current,
        health_color=health_color(current),
        health_trend="up" if change >= TREND_STEP else "down" if change <= -TREND_STEP else "flat",
    )


def _stages(account: Account, clock: Clock, people: list[Row], deals: list[Row], news: list[Row]) -> None:
    """Suggested enterprise stage (§5.1) and relationship stage (§5.2)."""
    row = account.row
    founded = date.fromisoformat(row["founded_date"])
    suggested = enterprise_stage_rule(
        growth=row.get("revenue_growth_yoy"),
        annual_revenue=row.get("annual_revenue"),
        annual_revenue_prev=row.get("annual_revenue_prev"),
        age_years=(clock.today - founded).days / 365.25,
        expansion_plans=row["expansion_plans"],
        bankrupt=any(e["event_type"] == "bankruptcy" for e in news),
    )
    if suggested:
        row["enterprise_stage_suggested"] = suggested
    snapshots = [m.get("health_score_snapshot") for m in account.months[-2:]]
    stage = relationship_stage_rule(
        revenue_12m=row["revenue_12m"],
        growth=row.get("revenue_growth_yoy"),
        open_opportunities=sum(1 for d in deals if d["stage"] not in ("won", "lost")),
        active_contacts=row["active_contacts"],
        contact_departments=row["contact_departments"],
        products_held=len(row.get("products_held", [])),
        wallet_share=row.get("wallet_share"),
        exec_interactions_12m=row["exec_interactions_12m"],
        joint_plan=row["tier"] in ("strategic", "core"),  # stands in for an account_plan with status joint_agreed
        years=row["cooperation_years"],
        buy_sell_level=row.get("buy_sell_level"),
        health_red=all(s is not None and health_color(s) == "red" for s in snapshots),
        lost_last_champion=not row["has_champion"]
        and any(p["attitude"] == "champion" and p["status"] != "active" for p in people),
    )
    if stage:
        row["relationship_stage"] = stage
