"""account_financial_monthly: 24 months per account (kam_domain §9).

Each month is first described by a :class:`MonthDriver` (revenue, margin, target DSO, payment
behaviour...). Injected signals and the key-account revenue calibration change drivers only; the
rows are derived from the drivers at the end, so receivables, collections and DSO always agree
(``receivables = previous receivables + revenue - collections``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .world import COMPANY_REVENUE_12M, Account, Clock, Row, Streams, clip, fraction, iso, lognormal, money, pick

SEASONALITY = {2: 0.8, 12: 1.15}  # Spring Festival dip, year-end peak
MONTHLY_TREND = {"startup": 0.025, "growth": 0.015, "mature": 0.003, "decline": -0.015}
NET_MARGIN = {"startup": (0.0, 0.05), "growth": (0.08, 0.03), "mature": (0.07, 0.03), "decline": (-0.01, 0.03)}
DISCIPLINE = {"clean": 80, "occasional": 15, "sloppy": 5}
LATE_PAYMENT = {
    "clean": (0.0, (0, 0), (0.0, 0.0)),
    "occasional": (0.2, (3, 25), (0.02, 0.08)),
    "sloppy": (0.5, (5, 45), (0.05, 0.15)),
}
"""Discipline -> (probability of a late month, days-past-due range, overdue share of receivables)."""
PAYMENT_TERMS = (30, 45, 60, 90, 120)
KEY_SHARE_RANGE = (0.68, 0.72)


@dataclass
class MonthDriver:
    """What drives one month's figures for one account."""

    revenue: float
    margin: float
    dso: float
    cust_dso: int
    cust_dpo: int
    cross_border_ratio: float = 0.0
    balance_ratio: float = 0.0
    order_value: float = 1.0
    days_past_due: int = 0
    overdue_share: float = 0.0
    collection_factor: float | None = None
    """When set, collections = factor x average of the previous 3 months (cash stops)."""
    statements: dict[str, float] = field(default_factory=dict)


def build_financials(streams: Streams, clock: Clock, accounts: list[Account], anomalies: dict[str, list[int]]) -> None:
    """Generate ``account.months`` for every account and set its credit limit and payment terms."""
    for account_id in anomalies["R10"] + anomalies["O06"]:
        next(a for a in accounts if a.id == account_id).has_financial_statements = True
    drivers = {a.id: _drivers(streams(f"months/{a.id}"), clock, a) for a in accounts}
    _inject(streams("month-anomalies"), clock, accounts, drivers, anomalies)
    _calibrate_key_share(streams("calibration"), accounts, drivers)
    for account in accounts:
        account.months = _rows(account, clock, drivers[account.id])
        _credit_terms(streams(f"terms/{account.id}"), account, drivers[account.id])


def _season(month: int) -> float:
    return SEASONALITY.get(month, 1.0)


def _drivers(rng: random.Random, clock: Clock, account: Account) -> list[MonthDriver]:
    """Draw the 24 monthly drivers of one account."""
    if account.is_prospect:
        return [MonthDriver(revenue=0.0, margin=0.0, dso=0.0, cust_dso=0, cust_dpo=0) for _ in clock.periods]
    trend = -0.001 if account.held_at_core else MONTHLY_TREND[account.stage] + rng.gauss(0, 0.002)
    if account.tier == "strategic":  # big accounts are healthy: no shrinking trend, margin >= 17 %
        trend = max(trend, 0.002)
    last = len(clock.periods) - 1
    weights = [_season(p.month) * (1 + trend) ** (t - last) for t, p in enumerate(clock.periods)]
    level = account.target_revenue / sum(weights[-12:])
    margin = clip(rng.gauss(0.22, 0.06), 0.17 if account.tier == "strategic" else 0.05, 0.42)
    dso = clip(rng.gauss(60, 15), 20, 150)
    cust_dso, cust_dpo = clip(rng.gauss(70, 20), 15, 180), clip(rng.gauss(50, 12), 15, 150)
    late_probability, late_days, late_share = LATE_PAYMENT[pick(rng, DISCIPLINE)]
    balance_ratio, order_value = rng.uniform(0.05, 0.4), lognormal(rng, 120_000, 0.5)
    if not account.has_financial_statements:
        account.has_financial_statements = rng.random() < 0.7
    statements = _statement_base(rng, account.stage) if account.has_financial_statements else None
    months = []
    for t, period in enumerate(clock.periods):
        month = MonthDriver(
            revenue=max(0.0, level * weights[t] * rng.gauss(1, 0.08)),
            margin=margin + rng.gauss(0, 0.015),
            dso=clip(dso + rng.gauss(0, 3), 15, 160),
            cust_dso=round(cust_dso + rng.gauss(0, 3)),
            cust_dpo=round(cust_dpo + rng.gauss(0, 3)),
            cross_border_ratio=max(0.0, account.cross_border_share * rng.gauss(1, 0.1)),
            balance_ratio=balance_ratio,
            order_value=order_value,
        )
        if rng.random() < late_probability:
            month.days_past_due = rng.randint(*late_days)
            month.overdue_share = rng.uniform(*late_share)
        if statements is not None and period.month % 3 == 0:
            month.statements = _quarter_statements(rng, statements)
        months.append(month)
    return months


def _statement_base(rng: random.Random, stage: str) -> dict[str, float]:
    """The customer's typical financial ratios (kept below the R10 / O06 thresholds)."""
    return {
        "debt_to_asset": clip(rng.gauss(0.52, 0.12), 0.15, 0.66),
        "net_margin": rng.gauss(*NET_MARGIN[stage]),
        "dscr": clip(rng.gauss(2.2, 0.5), 1.3, 5.0),
        "cash_ratio": clip(rng.gauss(0.15, 0.06), 0.03, 0.26),
    }


def _quarter_statements(rng: random.Random, base: dict[str, float]) -> dict[str, float]:
    """One quarter's ratios around the customer's typical values."""
    debt = clip(base["debt_to_asset"] + rng.gauss(0, 0.02), 0.1, 0.69)
    return {
        "fin_debt_to_asset": fraction(debt),
        "fin_equity_ratio": fraction(1 - debt),
        "fin_net_margin": fraction(base["net_margin"] + rng.gauss(0, 0.01)),
        "fin_dscr": round(clip(base["dscr"] + rng.gauss(0, 0.15), 1.25, 6.0), 2),
        "fin_cash_ratio": fraction(clip(base["cash_ratio"] + rng.gauss(0, 0.02), 0.02, 0.29)),
    }


def _inject(
    rng: random.Random,
    clock: Clock,
    accounts: list[Account],
    drivers: dict[int, list[MonthDriver]],
    anomalies: dict[str, list[int]],
) -> None:
    """Change the drivers so that each financial rule fires for its planned accounts (m0 = last month)."""
    for account_id, ratio in zip(anomalies["R04"], (0.65, 0.45), strict=True):  # revenue -35 % / -55 % vs last year
        months = drivers[account_id]
        factor = ratio * sum(m.revenue for m in months[-15:-12]) / sum(m.revenue for m in months[-3:])
        for month in months[-3:]:
            month.revenue *= factor
    for account_id in anomalies["O02"]:  # cross-border +45 % YoY at >= 25 % share
        _boost_cross_border(drivers[account_id], next(a for a in accounts if a.id == account_id))
    for account_id in anomalies["R01"]:  # sales continue, cash stops
        drivers[account_id][-1].collection_factor = 0.45
    for account_id, days, share in zip(anomalies["R02"], (35, 70, 95), (0.12, 0.2, 0.35), strict=True):
        drivers[account_id][-1].days_past_due, drivers[account_id][-1].overdue_share = days, share
    for account_id in anomalies["R03"]:
        months = drivers[account_id]
        months[-1].dso = sum(m.dso for m in months[-7:-1]) / 6 + 20
    for account_id in anomalies["O01"]:
        for month in drivers[account_id][-3:]:
            month.cust_dso = month.cust_dpo + rng.randint(35, 50)
    for account_id in anomalies["R10"]:
        _latest_statements(clock, drivers[account_id]).update(
            fin_debt_to_asset=0.75, fin_equity_ratio=0.25, fin_dscr=1.05
        )
    for account_id in anomalies["O06"]:
        _latest_statements(clock, drivers[account_id])["fin_cash_ratio"] = fraction(rng.uniform(0.32, 0.45))


def _boost_cross_border(months: list[MonthDriver], account: Account) -> None:
    """Lift the cross-border share to >= 25 % and the last quarter to +45 % on the same quarter last year."""
    lift = max(1.0, 0.3 / account.cross_border_share)
    for month in months:
        month.cross_border_ratio *= lift
    last_year = sum(m.revenue * m.cross_border_ratio for m in months[-15:-12])
    recent = sum(m.revenue * m.cross_border_ratio for m in months[-3:])
    factor = 1.45 * last_year / recent
    for month in months[-3:]:
        month.cross_border_ratio = min(0.9, month.cross_border_ratio * factor)
    account.cross_border_share *= lift


def _latest_statements(clock: Clock, months: list[MonthDriver]) -> dict[str, float]:
    """The statements of the latest quarter-end month (they exist: the account was forced to report)."""
    index = max(t for t, period in enumerate(clock.periods) if period.month % 3 == 0)
    return months[index].statements


def _calibrate_key_share(rng: random.Random, accounts: list[Account], drivers: dict[int, list[MonthDriver]]) -> None:
    """Scale key-account revenue so that it is 68-72 % of the company's revenue (§9: 65-75 %)."""
    key = [a for a in accounts if a.is_key]
    current = sum(m.revenue for a in key for m in drivers[a.id][-12:])
    factor = COMPANY_REVENUE_12M * rng.uniform(*KEY_SHARE_RANGE) / current
    for account in key:
        account.target_revenue *= factor
        for month in drivers[account.id]:
            month.revenue *= factor


def _rows(account: Account, clock: Clock, drivers: list[MonthDriver]) -> list[Row]:
    """Derive the 24 rows of one account from its drivers."""
    rows: list[Row] = []
    previous: float | None = None
    for t, (period, month) in enumerate(zip(clock.periods, drivers, strict=True)):
        row: Row = {"id": 0, "account": account.id, "period": iso(period)}
        if account.is_prospect:
            row.update(revenue=0.0, gross_profit=0.0, orders_count=0, collections=0.0, receivables=0.0)
            rows.append(row)
            continue
        window = drivers[max(0, t - 2) : t + 1]
        average = sum(m.revenue for m in window) / len(window)
        if month.collection_factor is not None and previous is not None and t >= 3:
            collections = month.collection_factor * sum(r["collections"] for r in rows[-3:]) / 3
            receivables = previous + month.revenue - collections
        else:
            receivables = average * month.dso / 30
            start = receivables if previous is None else previous
            collections = month.revenue + start - receivables
            if collections < 0:
                collections, receivables = 0.0, start + month.revenue
        row.update(_amounts(month, collections, receivables, average))
        row.update(month.statements)
        previous = row["receivables"]
        rows.append(row)
    return rows


def _amounts(month: MonthDriver, collections: float, receivables: float, average: float) -> Row:
    """The money and day fields of one month."""
    revenue = money(month.revenue)
    values: Row = {
        "revenue": revenue,
        "gross_profit": money(revenue * month.margin),
        "orders_count": max(1, round(revenue / month.order_value)) if revenue else 0,
        "collections": money(collections),
        "receivables": money(receivables),
        "overdue_amount": money(receivables * month.overdue_share) if month.days_past_due else 0.0,
        "max_days_past_due": month.days_past_due,
    }
    if average > 0:
        values["dso"] = round(receivables / average * 30)
    values.update(
        cust_dso=month.cust_dso,
        cust_dpo=month.cust_dpo,
        cross_border_volume=money(revenue * month.cross_border_ratio),
        avg_balance=money(revenue * month.balance_ratio),
    )
    return values


def _credit_terms(rng: random.Random, account: Account, drivers: list[MonthDriver]) -> None:
    """Contract payment terms from the usual DSO; credit limit 1.2-1.8 x the peak receivables."""
    if account.is_prospect:
        return
    usual_dso = sum(m.dso for m in drivers[:-1]) / (len(drivers) - 1)
    account.row["contract_payment_days"] = next((d for d in PAYMENT_TERMS if d >= usual_dso - 5), PAYMENT_TERMS[-1])
    peak = max(row["receivables"] for row in account.months)
    limit = float(math.ceil(peak * rng.uniform(1.2, 1.8) / 100_000) * 100_000)
    account.row["credit_limit"] = limit
