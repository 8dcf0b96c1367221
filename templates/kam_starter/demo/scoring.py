"""The kam_domain §4 scores as the starter's formula fields compute them, the kam_settings row, and
fitting the strategic ratings so that tiers land 8/20/32/40.

The engine computes every score from the stored rows (``forms/account.json``); the functions here
mirror those formulas exactly (same bands, a blank counts as 0, Excel's rounding) so that the
generator can choose inputs whose *computed* KAV puts each account in its planned tier. They take
the values as the engine stores them (rounded), so both arrive at the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date

from .world import COMPANY_REVENUE_12M, Account, Clock, Row, clip, excel_round

Bands = Sequence[tuple[float, float]]
H_REVENUE: Bands = ((50e6, 100), (20e6, 80), (10e6, 60), (3e6, 40), (0, 20))
H_MARGIN: Bands = ((0.35, 100), (0.25, 75), (0.15, 50), (-1, 25))
H_TENURE: Bands = ((5, 100), (3, 75), (1, 50), (0, 25))
P_GROWTH: Bands = ((0.30, 100), (0.15, 75), (0.0, 50), (-0.15, 30), (-99, 10))
P_HEADROOM: Bands = ((0.80, 100), (0.60, 75), (0.40, 50), (0, 25))
P_SCALE: Bands = ((1e9, 100), (300e6, 75), (100e6, 50), (0, 30))
GROWTH_PLANS = ("new_capacity", "new_region", "overseas_ma", "domestic_ma", "ipo", "bond")
WEIGHTS = (0.40, 0.35, 0.25)
CUT_OFFS = {"strategic": 80.0, "core": 65.0, "important": 50.0}
STRATEGIC_GATE = (10e6, 80.0)
"""A strategic suggestion also needs revenue_12m >= 10 M or S >= 80 (§4.3)."""
TIER_BANDS = {"strategic": (80.0, 101.0), "core": (65.0, 80.0), "important": (50.0, 65.0), "general": (0.0, 50.0)}
OVERRIDE_BAND = (74.0, 80.0)
USUAL_RATING_SUMS = {"strategic": (16, 21), "core": (12, 18), "important": (9, 15), "general": (4, 12)}
"""Rating sums (S = 5 x sum) typical of each tier; inputs are nudged before leaving this range."""
KAV_TARGETS = {
    "override": (74.5, 79.5),
    "strategic": (80.5, 88.0),
    "core": (65.5, 78.0),
    "important": (50.5, 63.0),
    "general": (33.0, 49.0),
}
"""Each account's KAV is aimed at a uniform draw from its tier's range, so scores spread over the bands."""
TARGET_TOLERANCE = 2.5
NUDGE_ROUNDS = 6
NUDGE_LIMITS = {
    "strategic": (16, 0.2, 5e9),
    "core": (12, 0.12, 3e9),
    "important": (8, 0.06, 1.5e9),
    "general": (4, 0.03, 0.5e9),
}
"""Tier -> (most products held, lowest wallet share, largest own revenue) that nudges may reach."""
HEALTH_TREND: Bands = ((0.10, 100), (0.0, 80), (-0.10, 60), (-0.30, 30), (-99, 0))
PAYMENT_BANDS = ((0, 100.0), (30, 70.0), (60, 40.0), (90, 15.0), (10**6, 0.0))
"""Maximum days past due -> payment score."""
CADENCE_DAYS = {"strategic": 14, "core": 30, "important": 60, "general": 90}
SERVICE_STANDARD = {
    "strategic": "每14天联系；每年≥4次高层互动（高管赞助人必配）；季度QBR并共建经营计划；常设专家3–6人；"
    "首次响应2小时、复杂方案7个工作日；特殊定价快速审批；私董会、峰会及家族/税务/法律/健康咨询",
    "core": "每30天联系；每年≥2次高层互动；半年度经营回顾；常设专家1–3人；首次响应4小时、复杂方案10个工作日；"
    "销售总监可批10%以内折扣；客户俱乐部与行业沙龙",
    "important": "每60天联系；每年≥1次高层互动；年度经营回顾；按需调用专家池；首次响应8个工作小时、复杂方案15个工作日；"
    "标准价格；资讯与线上研讨会",
    "general": "一般客户：标准服务，无专属服务标准",
}


def settings_row(catalog: list[Row]) -> Row:
    """The one ``kam_settings`` record: the §3.10 defaults this generator scores with."""
    return {
        "id": 1,
        "w_history": WEIGHTS[0],
        "w_potential": WEIGHTS[1],
        "w_strategic": WEIGHTS[2],
        "cut_strategic": CUT_OFFS["strategic"],
        "cut_core": CUT_OFFS["core"],
        "cut_important": CUT_OFFS["important"],
        "gate_strategic_revenue": STRATEGIC_GATE[0],
        "gate_strategic_score": STRATEGIC_GATE[1],
        "tier_hysteresis": 5.0,
        "tier_cap_strategic_per_rm": 3,
        "tier_max_quarterly_change_pct": 0.2,
        "company_revenue_12m": float(COMPANY_REVENUE_12M),
        "active_catalog_items": sum(1 for item in catalog if item["is_active"]),
        **{f"cadence_{tier}_days": days for tier, days in CADENCE_DAYS.items()},
        **{f"service_standard_{tier}": text for tier, text in SERVICE_STANDARD.items()},
    }


def band(value: float | None, bands: Bands) -> float:
    """``BAND(x, t1, s1, ..., default)``: the score of the first threshold ``x`` reaches.

    As in the formulas, a blank counts as 0 and the last pair's score is the default; numbers
    compare to 15 significant digits, as the engine compares them.
    """
    x = float(f"{0.0 if value is None else value:.15g}")
    return next((score for threshold, score in bands if x >= threshold), bands[-1][1])


def history_score(
    *,
    revenue_12m: float,
    gross_margin: float | None,
    cooperation_years: float,
    products_held: int,
    active_products: int,
) -> float:
    """Historical value H (§4.2), rounded to 1 decimal."""
    breadth = min(100.0, products_held / max(1, active_products) * 200)
    score = (
        0.5 * band(revenue_12m, H_REVENUE)
        + 0.25 * band(gross_margin, H_MARGIN)
        + 0.1 * band(cooperation_years, H_TENURE)
        + 0.15 * breadth
    )
    return excel_round(score, 1)


def potential_score(
    *, growth: float | None, wallet_share: float | None, annual_revenue: float | None, expansion_plans: Sequence[str]
) -> float:
    """Potential value P (§4.2), rounded to 1 decimal (unknown wallet share scores 50, unknown growth counts as 0)."""
    headroom = 50.0 if wallet_share is None else band(1 - wallet_share, P_HEADROOM)
    plans = 100.0 if any(plan in GROWTH_PLANS for plan in expansion_plans) else 40.0
    score = 0.35 * band(growth, P_GROWTH) + 0.3 * headroom + 0.2 * band(annual_revenue, P_SCALE) + 0.15 * plans
    return excel_round(score, 1)


def strategic_score(ratings: Sequence[int]) -> float:
    """Strategic value S: the four 1-5 ratings scaled to 0-100."""
    return excel_round(sum(ratings) / 20 * 100, 1)


def kav_score(history: float, potential: float, strategic: float) -> float:
    """KAV with the default weights 0.40 / 0.35 / 0.25, rounded to 1 decimal."""
    return excel_round(WEIGHTS[0] * history + WEIGHTS[1] * potential + WEIGHTS[2] * strategic, 1)


def tier_for(kav: float, revenue_12m: float, strategic: float) -> str:
    """The suggested tier: cut-offs 80 / 65 / 50, and the strategic gate (§4.3)."""
    if kav >= CUT_OFFS["strategic"] and (revenue_12m >= STRATEGIC_GATE[0] or strategic >= STRATEGIC_GATE[1]):
        return "strategic"
    return next((tier for tier in ("core", "important") if kav >= CUT_OFFS[tier]), "general")


def cooperation_years(customer_since: str, today: date) -> float:
    """``ROUND(DAYS(TODAY(), customer_since) / 365, 1)``."""
    return excel_round((today - date.fromisoformat(customer_since)).days / 365, 1)


def fit_tiers(rng: random.Random, clock: Clock, accounts: list[Account], catalog: list[Row]) -> None:
    """Set the strategic ratings and tiers so every account's computed KAV lands in its planned tier.

    Each account aims at a random KAV inside its tier's band. While no rating sum typical of the tier
    reaches that aim, the account's soft inputs (expansion plans, products held, category-spend
    estimate, own revenue) are nudged one step towards it; after the last nudge the rating sum that fits
    the band and comes closest to the aim is taken.

    Raises:
        RuntimeError: When an account cannot be fitted (a generator bug, not bad luck).
    """
    active = sum(1 for item in catalog if item["is_active"])
    for account in accounts:
        history, potential, rating_sum = _fit(rng, clock, account, catalog, active)
        _set_tier_fields(rng, clock, account, history, potential, rating_sum)


def _fit(
    rng: random.Random, clock: Clock, account: Account, catalog: list[Row], active: int
) -> tuple[float, float, int]:
    """Nudge one account's inputs until a rating sum puts its KAV near its aim; return H, P and that sum."""
    usual = range(18, 21) if account.override else range(*USUAL_RATING_SUMS[account.tier])
    target = rng.uniform(*KAV_TARGETS["override" if account.override else account.tier])
    steps = _nudges(rng, account, catalog)
    while True:
        history, potential = _inputs_scores(account, clock, active)
        wanted = _closest(_rating_sums(account, history, potential, usual), history, potential, target)
        if wanted is not None and abs(kav_score(history, potential, wanted * 5.0) - target) <= TARGET_TOLERANCE:
            return history, potential, wanted
        step = next(steps, None)
        if step is None:
            break
        step(kav_score(history, potential, usual[-1] * 5.0) < target)
    wanted = _closest(_rating_sums(account, history, potential, range(4, 21)), history, potential, target)
    if wanted is None:
        raise RuntimeError(f"cannot fit account {account.id} into tier {account.tier}")
    return history, potential, wanted


def _closest(sums: list[int], history: float, potential: float, target: float) -> int | None:
    """The rating sum whose KAV comes closest to ``target`` (None when ``sums`` is empty)."""
    return min(sums, key=lambda s: abs(kav_score(history, potential, s * 5.0) - target), default=None)


def _rating_sums(account: Account, history: float, potential: float, sums: range) -> list[int]:
    """The sums of the four strategic ratings that make the suggested tier the planned one.

    An override account must instead land at KAV 74-79 (suggested core), to be set to strategic by hand.
    """
    found = []
    for total in sums:
        kav = kav_score(history, potential, total * 5.0)
        if account.override:
            fits = OVERRIDE_BAND[0] <= kav < OVERRIDE_BAND[1]
        else:
            fits = tier_for(kav, account.computed["revenue_12m"], total * 5.0) == account.tier
        if fits:
            found.append(total)
    return found


def _inputs_scores(account: Account, clock: Clock, active_products: int) -> tuple[float, float]:
    row, computed = account.row, account.computed
    history = history_score(
        revenue_12m=computed["revenue_12m"],
        gross_margin=computed["gross_margin_12m"],
        cooperation_years=cooperation_years(row["customer_since"], clock.today),
        products_held=len(row.get("products_held", [])),
        active_products=active_products,
    )
    potential = potential_score(
        growth=computed["revenue_growth_yoy"],
        wallet_share=computed["wallet_share"],
        annual_revenue=row.get("annual_revenue"),
        expansion_plans=row["expansion_plans"],
    )
    return history, potential


def _nudges(rng: random.Random, account: Account, catalog: list[Row]) -> Iterator[Callable[[bool], None]]:
    """Yield the nudge functions (4 per round); each moves the inputs up (True) or down (False) one step.

    Every nudge stays within plausible limits for the tier (:data:`NUDGE_LIMITS`) and leaves
    prospects' products and spend alone, so a nudge can be a no-op.
    """
    row = account.row
    active = [item["id"] for item in catalog if item["is_active"]]
    max_products, min_wallet, max_size = NUDGE_LIMITS[account.tier]

    def plans(up: bool) -> None:
        current = [p for p in row["expansion_plans"] if p != "none"]
        if up and not current:
            row["expansion_plans"] = ["new_capacity"] if account.stage in ("growth", "startup") else ["bond"]
        elif not up:  # M&A / IPO plans planted for rule O03 stay
            kept = [p for p in current if p in ("overseas_ma", "ipo")] if "O03" in account.signals else []
            row["expansion_plans"] = kept or ["none"]

    def products(up: bool) -> None:
        held = row.get("products_held", [])
        if account.is_prospect:
            return
        if up:
            free = [i for i in active if i not in held]
            row["products_held"] = sorted([*held, *rng.sample(free, min(2, len(free), max_products - len(held)))])
        elif len(held) > 1:
            row["products_held"] = held[:-1]

    def spend(up: bool) -> None:
        revenue = account.computed["revenue_12m"]
        if account.is_prospect:
            return
        wanted = row["customer_category_spend"] * (1.6 if up else 1 / 1.6)
        row["customer_category_spend"] = round(clip(wanted, revenue / 0.95, revenue / min_wallet), -4)
        account.computed["wallet_share"] = excel_round(revenue / row["customer_category_spend"], 4)

    def size(up: bool) -> None:
        if account.stage == "startup":
            return
        factor = 1.6 if up else 1 / 1.6
        factor = min(factor, max_size / row["annual_revenue"])
        for key in ("annual_revenue", "annual_revenue_prev"):
            row[key] = round(max(row[key] * factor, row["customer_category_spend"] * 1.5), -5)

    for _ in range(NUDGE_ROUNDS):
        yield from (plans, products, spend, size)


def _set_tier_fields(
    rng: random.Random, clock: Clock, account: Account, history: float, potential: float, rating_sum: int
) -> None:
    """Write the ratings, the tier and its effective date (and reason); note the scores they give."""
    ratings = [1, 1, 1, 1]
    for _ in range(rating_sum - 4):
        slot = rng.choice([i for i in range(4) if ratings[i] < 5])
        ratings[slot] += 1
    strategic = strategic_score(ratings)
    kav = kav_score(history, potential, strategic)
    tier = "strategic" if account.override else account.tier
    row = account.row
    row.update(
        strat_industry_influence=ratings[0],
        strat_ecosystem_leverage=ratings[1],
        strat_fit=ratings[2],
        strat_relationship_depth=ratings[3],
        tier=tier,
    )
    account.computed.update(
        score_history=history,
        score_potential=potential,
        score_strategic=strategic,
        kav_score=kav,
        tier_suggested=tier_for(kav, account.computed["revenue_12m"], strategic),
    )
    quarter_start = date(clock.today.year, (clock.today.month - 1) // 3 * 3 + 1, 1)
    row["tier_effective_date"] = quarter_start.isoformat()
    if account.override:
        row["tier_override_reason"] = (
            f"行业标杆客户，生态带动价值高；经分管副总审批人工上调为战略客户（KAV {kav}，建议层级：核心客户）"
        )


def health_score(
    *,
    revenue_recent: float,
    revenue_last_year: float,
    days_past_due: int | None,
    days_since_interaction: int | None,
    cadence_days: int,
    has_champion: bool,
    active_contacts: int,
) -> float:
    """Health score (§4.4) with no service requests (80), surveys (60) or open risk alerts (100) yet."""
    if revenue_last_year > 0:
        trend = band(excel_round(revenue_recent / revenue_last_year - 1, 4), HEALTH_TREND)
    else:
        trend = 60.0
    payment = next(score for limit, score in PAYMENT_BANDS if (days_past_due or 0) <= limit)
    recent = days_since_interaction is not None and days_since_interaction <= cadence_days
    engagement = 50 * recent + 25 * has_champion + 25 * (active_contacts >= 3)
    service, satisfaction, risk = 80.0, 60.0, 100.0
    score = 0.25 * trend + 0.2 * payment + 0.2 * engagement + 0.15 * service + 0.1 * satisfaction + 0.1 * risk
    return excel_round(score, 1)


def health_color(score: float) -> str:
    """76-100 green, 51-75 yellow, 0-50 red."""
    return "green" if score > 75 else "yellow" if score > 50 else "red"
