"""The 100 accounts: tier plan, firmographics, group structure, owners and the anomaly plan.

Scores and tiers are not set here: the plan only says which tier each account should end up in;
``scoring.fit_tiers`` later sets the strategic ratings so that the KAV formula agrees.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .wordlists import BRANDS, CITIES, CITY_CODES, COMPETING_SELLERS, STRATEGY_BY_STAGE, SUFFIXES, company_name
from .world import (
    COMPANY_REVENUE_12M,
    PROSPECT_COUNT,
    TIER_COUNTS,
    Account,
    Clock,
    Row,
    Staff,
    Streams,
    clip,
    iso,
    lognormal,
    pick,
    quota,
    sample,
)

TIER_RANK = {"general": 0, "important": 1, "core": 2, "strategic": 3}
INDUSTRY_COUNTS = {
    "manufacturing": 25,
    "wholesale_retail": 12,
    "it": 12,
    "healthcare": 10,
    "new_energy": 10,
    "construction_realestate": 8,
    "logistics": 10,
    "consumer": 8,
    "other": 5,
}
REGION_COUNTS = {
    "east": 35,
    "south": 22,
    "north": 18,
    "central": 8,
    "southwest": 10,
    "northwest": 3,
    "northeast": 3,
    "overseas": 1,
}
STAGE_COUNTS = {"startup": 12, "growth": 35, "mature": 43, "decline": 10}
AGE_YEARS = {"startup": (1.5, 4.8), "growth": (5, 15), "mature": (12, 35), "decline": (10, 30)}
CUSTOMER_YEARS = {"strategic": (5, 14), "core": (2.5, 12), "important": (1, 9), "general": (0.5, 6)}
WALLET_SHARE = {"strategic": (0.35, 0.7), "core": (0.25, 0.6), "important": (0.1, 0.5), "general": (0.05, 0.35)}
OWN_GROWTH = {"startup": (0.3, 0.8), "growth": (0.12, 0.35), "mature": (-0.03, 0.08), "decline": (-0.3, -0.08)}
PRODUCTS_HELD = {"strategic": (9, 13), "core": (5, 9), "important": (2, 6), "general": (1, 3)}
GROWTH_PLANS = ["new_capacity", "new_region", "overseas_ma", "domestic_ma", "ipo"]
PAIN_POINTS = ["funding_cost", "slow_collection", "fx_volatility", "supply_chain", "talent", "compliance", "digital"]
BUY_SELL = {
    "strategic": {"good_service": 2, "business_issues": 5, "organisational_issues": 3},
    "core": {"good_product": 3, "good_service": 5, "business_issues": 2},
    "important": {"commodity": 3, "good_product": 5, "good_service": 2},
    "general": {"commodity": 6, "good_product": 4},
}
QBR_DAYS_AHEAD = {"strategic": (7, 90), "core": (20, 180), "important": (30, 365)}
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

Eligible = Callable[[Account], bool]
ANOMALIES: list[tuple[str, int, Eligible]] = [
    ("R01", 4, lambda a: True),  # collections -55 % in m0
    ("R02", 3, lambda a: True),  # 35 / 70 / 95 days past due
    ("R03", 2, lambda a: True),  # DSO +20 days
    ("R04", 2, lambda a: a.tier != "strategic" and not a.held_at_core),  # revenue -35 % / -55 % YoY
    ("R05", 2, lambda a: True),  # 4 negative news within 7 days
    ("R06", 2, lambda a: True),  # litigation 8 M, enforcement
    ("R07", 2, lambda a: True),  # champion / decision maker left
    ("R08", 1, lambda a: True),  # downstream customer (25 %) in default
    ("R09", 1, lambda a: True),  # guarantor in default
    ("R10", 2, lambda a: True),  # debt/asset 75 %, DSCR 1.05
    ("R12", 5, lambda a: a.tier != "strategic"),  # silent > 1.5 x cadence
    ("O01", 3, lambda a: a.target_revenue >= 12e6),  # cust_dso - cust_dpo >= 35
    ("O02", 3, lambda a: a.cross_border_share > 0),  # cross-border +45 % YoY at >= 25 % share
    ("O03", 2, lambda a: a.stage == "growth"),  # overseas M&A / IPO plans
    ("O05", 2, lambda a: a.tier == "strategic"),  # >= 6 non-customer suppliers
    ("O06", 3, lambda a: a.stage == "mature"),  # cash ratio >= 30 %
    ("O07", 4, lambda a: True),  # contract ends within 90 days
]


def plan_accounts(
    streams: Streams, clock: Clock, staff: Staff, catalog: list[Row]
) -> tuple[list[Account], dict[str, list[int]]]:
    """Create the 100 accounts with their inputs (no computed fields yet).

    Args:
        streams: Random stream factory.
        clock: Reference date and history months.
        staff: Our users by role (RM and sponsor assignment).
        catalog: product_catalog rows (products held).

    Returns:
        The accounts in insert order (group parents before their subsidiaries) and the anomaly
        plan: rule code -> ids of the accounts that must trigger it.
    """
    accounts = _plan_tiers(streams("tiers"))
    streams("order").shuffle(accounts)
    for i, account in enumerate(accounts, start=1):
        account.row["id"] = i
    _assign_stages(streams("stages"), accounts)
    parents = _plan_groups(streams("groups"), accounts)
    _describe(streams("firmographics"), clock, accounts, parents, catalog)
    _assign_owners(streams("owners"), accounts, staff)
    anomalies = _plan_anomalies(streams("anomalies"), accounts)
    _apply_profile_anomalies(streams("profile-anomalies"), clock, accounts, anomalies)
    return accounts, anomalies


def _plan_tiers(rng: random.Random) -> list[Account]:
    """Draw revenue targets and decide each account's tier (§9: strategic ~ top by revenue, 3 exceptions).

    sigma is 1.3 rather than §9's 1.1: after clipping to 0.5-200 M and rescaling to ~70 % of company
    revenue, 1.1 leaves the top 20 % of key accounts with ~58 % of key revenue, below the 60-70 %
    Pareto target; 1.3 gives ~64 %.
    """
    revenue = sorted((clip(lognormal(rng, 7e6, 1.3), 0.5e6, 200e6) for _ in range(60)), reverse=True)
    for _ in range(5):  # rescale to ~70 % of company revenue, re-clipping the tails
        factor = COMPANY_REVENUE_12M * 0.70 / sum(revenue)
        revenue = [clip(value * factor, 0.5e6, 200e6) for value in revenue]
    overrides = rng.sample(range(12, 30), 2)
    strategic = [0, 1, 3, 4, 5, 6, *overrides]
    for rank in strategic:  # strategic: >= 20 M (H revenue band 80); overrides: mid revenue, band 60
        revenue[rank] = clip(revenue[rank], 11e6, 18e6) if rank in overrides else max(revenue[rank], 22e6)
    others = [rank for rank in range(60) if rank not in strategic]
    tier_of = {rank: "strategic" for rank in strategic}
    tier_of.update({rank: "core" for rank in others[: TIER_COUNTS["core"]]})
    tier_of.update({rank: "important" for rank in others[TIER_COUNTS["core"] :]})
    accounts = [
        Account(
            row={"status": "active"},
            tier=tier_of[rank],
            target_revenue=value,
            override=rank in overrides,
            held_at_core=rank == 2,
        )
        for rank, value in enumerate(revenue)
    ]
    for i in range(TIER_COUNTS["general"]):
        prospect = i < PROSPECT_COUNT
        status = "prospect" if prospect else "suspended" if i < PROSPECT_COUNT + 2 else "active"
        value = 0.0 if prospect else clip(lognormal(rng, 1.5e6, 0.5), 0.3e6, 4e6)
        accounts.append(Account(row={"status": status}, tier="general", target_revenue=value))
    return accounts


def _assign_stages(rng: random.Random, accounts: list[Account]) -> None:
    """Deal the enterprise stages (12/35/43/10 %) so that big accounts are not start-ups."""

    def allowed(account: Account) -> tuple[str, ...]:
        if account.held_at_core:
            return ("mature",)
        if account.override:
            return ("growth",)
        if account.tier == "strategic":
            return ("growth", "mature")
        if account.tier == "core":
            return ("growth", "mature", "decline")
        return ("startup", "growth", "mature", "decline")

    pool = quota(rng, STAGE_COUNTS)
    for account in sorted(accounts, key=lambda a: len(allowed(a))):
        index = next(i for i, stage in enumerate(pool) if stage in allowed(account))
        account.stage = pool.pop(index)


def _plan_groups(rng: random.Random, accounts: list[Account]) -> dict[int, Account]:
    """Pick 15 group parents among key accounts and 1-2 later accounts as their subsidiaries.

    Returns:
        Subsidiary account id -> parent account.
    """
    candidates = [a for a in accounts if a.is_key and a.id <= 75]
    parents: dict[int, Account] = {}
    for parent in sorted(sample(rng, candidates, 15), key=lambda a: a.id):
        free = [
            a
            for a in accounts
            if a.id > parent.id and a.id not in parents and all(p.id != a.id for p in parents.values())
        ]
        for child in sample(rng, free, 1 if rng.random() < 0.6 else 2):
            parents[child.id] = parent
    return parents


def _describe(
    rng: random.Random, clock: Clock, accounts: list[Account], parents: dict[int, Account], catalog: list[Row]
) -> None:
    """Fill identity, history, size, products and strategy fields of every account."""
    industries = quota(rng, INDUSTRY_COUNTS)
    regions = quota(rng, REGION_COUNTS)
    _choose_cross_border(rng, accounts, industries, regions)
    used_names: set[tuple[str, str]] = set()
    used_codes: set[str] = set()
    for account, industry, region in zip(accounts, industries, regions, strict=True):
        row = account.row
        row.update(industry=industry, region=region, enterprise_stage=account.stage)
        parent = parents.get(account.id)
        brand = parent.keyword if parent else rng.choice(BRANDS)
        _identity(rng, account, brand, used_names, used_codes)
        if parent:
            row["parent_account"] = parent.id
        _history_dates(rng, clock, account)
        _size(rng, account)
        _products(rng, account, catalog)
        _strategy(rng, clock, account)


def _choose_cross_border(
    rng: random.Random, accounts: list[Account], industries: list[str], regions: list[str]
) -> None:
    """Give 18 buying accounts a cross-border share of 10-50 % (overseas, coastal and exporters first)."""
    exporters = ("manufacturing", "new_energy", "logistics", "it")
    scored = []
    for account, industry, region in zip(accounts, industries, regions, strict=True):
        if account.is_prospect:
            continue
        weight = 3.0 if region == "overseas" else 1.5 if region in ("east", "south") else 1.0
        weight *= 1.5 if industry in exporters else 1.0
        scored.append((-rng.random() * weight, account.id, account))
    for _, _, account in sorted(scored, key=lambda item: item[:2])[:18]:
        account.cross_border_share = rng.uniform(0.1, 0.5)


def _identity(
    rng: random.Random, account: Account, brand: tuple[str, str], used_names: set[tuple[str, str]], used_codes: set[str]
) -> None:
    """Name, short name, web site and credit code."""
    row = account.row
    cities = CITIES[row["region"]]
    city = rng.choice(cities)
    while (city[0], brand[0]) in used_names:
        city = rng.choice(cities if rng.random() < 0.8 else [c for cs in CITIES.values() for c in cs])
    used_names.add((city[0], brand[0]))
    suffix, short = rng.choice(SUFFIXES[row["industry"]])
    account.keyword = brand
    account.domain = f"{brand[1]}-{city[1]}.example.com"
    row.update(
        name=company_name(city[0], brand[0], suffix),
        short_name=brand[0] + short,
        website=f"https://www.{account.domain}",
    )
    if row["region"] != "overseas":
        code = _credit_code(rng, CITY_CODES.get(city[1], "1101"))
        while code in used_codes:
            code = _credit_code(rng, CITY_CODES.get(city[1], "1101"))
        used_codes.add(code)
        row["unified_credit_code"] = code
    owner = {"strategic": {"soe": 35, "listed": 35, "private": 20, "foreign": 10}}.get(
        account.tier, {"private": 50, "soe": 15, "listed": 12, "foreign": 13, "jv": 10}
    )
    row["ownership_type"] = "foreign" if row["region"] == "overseas" else pick(rng, owner)


def _credit_code(rng: random.Random, city_code: str) -> str:
    """Return a well-formed (GB 32100-2015 check character) but fictional unified social credit code."""
    body = "91" + city_code + f"{rng.randint(1, 9):02d}" + "".join(rng.choice(CREDIT_CODE_CHARS) for _ in range(9))
    total = sum(CREDIT_CODE_CHARS.index(char) * weight for char, weight in zip(body, CREDIT_CODE_WEIGHTS, strict=True))
    return body + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def _history_dates(rng: random.Random, clock: Clock, account: Account) -> None:
    """Founded date (from the stage) and customer-since date (from the tier)."""
    age = rng.uniform(*AGE_YEARS[account.stage])
    years = rng.uniform(0.1, 0.8) if account.is_prospect else rng.uniform(*CUSTOMER_YEARS[account.tier])
    years = min(years, age - 0.3)
    account.row["founded_date"] = iso(clock.days_ago(age * 365.25))
    account.row["customer_since"] = iso(clock.days_ago(years * 365.25))


def _size(rng: random.Random, account: Account) -> None:
    """Category spend (hence wallet share), the customer's own revenue and head count."""
    row = account.row
    if account.is_prospect:
        spend = round(rng.uniform(2e6, 15e6), -4)
    else:
        spend = round(account.target_revenue / rng.uniform(*WALLET_SHARE[account.tier]), -4)
    annual = spend / rng.uniform(0.04, 0.25)
    if account.stage == "startup":
        annual = max(spend * 1.5, min(annual, rng.uniform(40e6, 95e6)))
    annual = round(annual, -5)
    growth = rng.uniform(*OWN_GROWTH[account.stage])
    row.update(
        customer_category_spend=spend,
        annual_revenue=annual,
        annual_revenue_prev=round(annual / (1 + growth), -5),
        employees=max(15, int(annual / rng.uniform(0.6e6, 2.0e6))),
    )


def _products(rng: random.Random, account: Account, catalog: list[Row]) -> None:
    """Products held: more for higher tiers, preferring items suitable for the stage and tier."""
    if account.is_prospect:
        return
    count = rng.randint(*PRODUCTS_HELD[account.tier])
    active = [item for item in catalog if item["is_active"]]
    fitting = [
        item["id"]
        for item in active
        if account.stage in item["suitable_stages"] and TIER_RANK[account.tier] >= TIER_RANK[item["min_tier"]]
    ]
    chosen = sample(rng, fitting, count)
    rest = [item["id"] for item in active if item["id"] not in chosen]
    chosen += sample(rng, rest, count - len(chosen))
    account.row["products_held"] = sorted(chosen)


def _strategy(rng: random.Random, clock: Clock, account: Account) -> None:
    """Strategy section, buy-sell level and the next business review."""
    row, stage = account.row, account.stage
    if account.is_key or rng.random() < 0.5:
        row["annual_strategy"] = rng.choice(STRATEGY_BY_STAGE[stage])
    row["expansion_plans"] = _expansion_plans(rng, stage)
    pains = set(rng.sample(PAIN_POINTS, rng.randint(1, 3)))
    pains |= {"fx_volatility"} if account.cross_border_share else set()
    pains |= {"funding_cost", "slow_collection"} if stage == "decline" else set()
    row["pain_points"] = [p for p in PAIN_POINTS if p in pains]
    if account.is_prospect:
        return
    row["buy_sell_level"] = pick(rng, BUY_SELL[account.tier])
    row["contract_end_date"] = iso(clock.days_ahead(rng.uniform(100, 720)))
    if not account.is_key:
        return
    rivals = rng.sample(BRANDS, 2)
    tags = [short for _, short in SUFFIXES[row["industry"]]]
    row["main_competitors"] = "、".join(brand + rng.choice(tags) for brand, _ in rivals)
    if rng.random() < 0.6:
        row["our_competitors_in_account"] = "、".join(rng.sample(COMPETING_SELLERS, rng.randint(1, 2)))
    abroad = account.cross_border_share > 0 or "overseas_ma" in row["expansion_plans"]
    row["overseas_subsidiaries"] = rng.randint(1, 6) if abroad else int(rng.random() < 0.2)
    row["next_qbr_date"] = iso(clock.days_ahead(rng.uniform(*QBR_DAYS_AHEAD[account.tier])))


def _expansion_plans(rng: random.Random, stage: str) -> list[str]:
    """Expansion plans consistent with the enterprise stage (§5.1 growth rule)."""
    if stage == "growth":
        plans = set(rng.sample(GROWTH_PLANS, rng.randint(1, 2))) | ({"bond"} if rng.random() < 0.2 else set())
        return [p for p in [*GROWTH_PLANS, "bond"] if p in plans]
    if stage == "startup" and rng.random() < 0.5:
        return [rng.choice(["ipo", "new_region"])]
    if stage == "mature" and rng.random() < 0.4:
        return ["bond"]
    return ["none"]


def _assign_owners(rng: random.Random, accounts: list[Account], staff: Staff) -> None:
    """One RM per account (5-10 key accounts each, one strategic each) and exec sponsors."""
    rms = list(staff.rms)
    rng.shuffle(rms)
    load = {rm: 0 for rm in rms}
    strategic = [a for a in accounts if a.tier == "strategic"]
    for rm, account in zip(rms, strategic, strict=True):
        account.row["primary_rm"] = rm
        load[rm] += 1
    for account in (a for a in accounts if a.tier in ("core", "important")):
        rm = min(rms, key=lambda r: load[r])
        account.row["primary_rm"] = rm
        load[rm] += 1
    for i, account in enumerate(a for a in accounts if a.tier == "general"):
        account.row["primary_rm"] = rms[i % len(rms)]
    sponsors = list(staff.sponsors)
    rng.shuffle(sponsors)
    core = [a for a in accounts if a.tier == "core"]
    for i, account in enumerate([*strategic, *sample(rng, core, 4)]):
        account.row["exec_sponsor"] = sponsors[i % len(sponsors)]


def _plan_anomalies(rng: random.Random, accounts: list[Account]) -> dict[str, list[int]]:
    """Choose which key accounts carry which injected signal, spreading them over ~45 accounts."""
    plan: dict[str, list[int]] = {}
    by_id = {a.id: a for a in accounts}
    for code, count, eligible in ANOMALIES:
        candidates = [(len(a.signals), rng.random(), a.id) for a in accounts if a.is_key and eligible(a)]
        plan[code] = [account_id for _, _, account_id in sorted(candidates)[:count]]
        for account_id in plan[code]:
            by_id[account_id].signals.append(code)
    crisis = by_id[plan["R04"][-1]]  # revenue -55 % also gets 95 days past due and goes silent: health red
    for code, index in (("R02", -1), ("R12", 0)):
        if crisis.id not in plan[code]:
            by_id[plan[code][index]].signals.remove(code)
            plan[code][index] = crisis.id
            crisis.signals.append(code)
    return plan


def _apply_profile_anomalies(
    rng: random.Random, clock: Clock, accounts: list[Account], anomalies: dict[str, list[int]]
) -> None:
    """Signals that live on the account itself: O03 (M&A / IPO plans) and O07 (contract renewal)."""
    by_id = {a.id: a for a in accounts}
    for account_id in anomalies["O03"]:
        plans = [p for p in by_id[account_id].row["expansion_plans"] if p != "none"]
        plans.append(rng.choice(["overseas_ma", "ipo"]))
        by_id[account_id].row["expansion_plans"] = [p for p in [*GROWTH_PLANS, "bond"] if p in plans]
    for account_id in anomalies["O07"]:
        by_id[account_id].row["contract_end_date"] = iso(clock.days_ahead(rng.uniform(15, 85)))
