"""The KAV formula chain for one account: compiled Python closures vs a hand-written function.

Ours: the five formulas of kam_domain.md §4 (history, potential and strategic sub-scores with
score bands, the weighted KAV, the suggested tier) parsed, type-checked and compiled once, then
evaluated in dependency order over one account's values. Baseline: the same arithmetic written
by hand in Python. Target (issue #3): within 5x.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from _common import compare, emit, median, say, spread

from engine.expr import compile_expression, parse
from engine.expr.scope import DictContext

FORMULAS = {
    "score_history": "0.5 * BAND(revenue_12m, 50000000, 100, 20000000, 80, 10000000, 60, 3000000, 40, 0, 20)"
    " + 0.25 * BAND(gross_margin_12m, 0.35, 100, 0.25, 75, 0.15, 50, -1, 25)"
    " + 0.1 * BAND(cooperation_years, 5, 100, 3, 75, 1, 50, 0, 25)"
    " + 0.15 * MIN(100, products_held / MAX(1, catalog_size) * 200)",
    "score_potential": "0.35 * BAND(revenue_growth_yoy, 0.3, 100, 0.15, 75, 0, 50, -0.15, 30, -99, 10)"
    " + 0.3 * IF(ISBLANK(wallet_share), 50, BAND(1 - wallet_share, 0.8, 100, 0.6, 75, 0.4, 50, 0, 25))"
    " + 0.2 * BAND(annual_revenue, 1000000000, 100, 300000000, 75, 100000000, 50, 0, 30)"
    " + 0.15 * IF(has_expansion_plans, 100, 40)",
    "score_strategic": "(strat_industry_influence + strat_ecosystem_leverage + strat_fit + strat_relationship_depth)"
    " / 20 * 100",
    "kav_score": "w_history * score_history + w_potential * score_potential + w_strategic * score_strategic",
    "tier_suggested": 'IFS(kav_score >= 80, "strategic", kav_score >= 65, "core", kav_score >= 50, "important",'
    ' TRUE, "general")',
}
ACCOUNT: dict[str, Any] = {
    "revenue_12m": 23_500_000.0,
    "gross_margin_12m": 0.27,
    "cooperation_years": 4.2,
    "products_held": 6,
    "catalog_size": 21,
    "revenue_growth_yoy": 0.18,
    "wallet_share": 0.35,
    "annual_revenue": 420_000_000.0,
    "has_expansion_plans": True,
    "strat_industry_influence": 4,
    "strat_ecosystem_leverage": 3,
    "strat_fit": 5,
    "strat_relationship_depth": 4,
    "w_history": 0.40,
    "w_potential": 0.35,
    "w_strategic": 0.25,
}


def band(x: float, *pairs: float) -> float:
    """The first score whose threshold x reaches (thresholds descending)."""
    for threshold, score in zip(pairs[::2], pairs[1::2], strict=True):
        if x >= threshold:
            return score
    return 0.0


def by_hand(a: dict[str, Any]) -> str:
    """The same chain written directly in Python."""
    history = (
        0.5 * band(a["revenue_12m"], 50e6, 100, 20e6, 80, 10e6, 60, 3e6, 40, 0, 20)
        + 0.25 * band(a["gross_margin_12m"], 0.35, 100, 0.25, 75, 0.15, 50, -1, 25)
        + 0.1 * band(a["cooperation_years"], 5, 100, 3, 75, 1, 50, 0, 25)
        + 0.15 * min(100, a["products_held"] / max(1, a["catalog_size"]) * 200)
    )
    wallet = 50 if a["wallet_share"] is None else band(1 - a["wallet_share"], 0.8, 100, 0.6, 75, 0.4, 50, 0, 25)
    potential = (
        0.35 * band(a["revenue_growth_yoy"], 0.3, 100, 0.15, 75, 0, 50, -0.15, 30, -99, 10)
        + 0.3 * wallet
        + 0.2 * band(a["annual_revenue"], 1e9, 100, 3e8, 75, 1e8, 50, 0, 30)
        + 0.15 * (100 if a["has_expansion_plans"] else 40)
    )
    strategic = (
        (a["strat_industry_influence"] + a["strat_ecosystem_leverage"] + a["strat_fit"] + a["strat_relationship_depth"])
        / 20
        * 100
    )
    kav = a["w_history"] * history + a["w_potential"] * potential + a["w_strategic"] * strategic
    return "strategic" if kav >= 80 else "core" if kav >= 65 else "important" if kav >= 50 else "general"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    compiled = [(name, compile_expression(parse(text))) for name, text in FORMULAS.items()]
    clock = dt.datetime(2026, 6, 1, 9, 0)

    def ours() -> Any:
        values = dict(ACCOUNT)
        context = DictContext(values, clock=clock)
        for name, run in compiled:
            values[name] = run(context)
        return values["tier_suggested"]

    assert ours() == by_hand(dict(ACCOUNT)), (ours(), by_hand(dict(ACCOUNT)))
    say(f"both give {ours()!r}; timing")
    samples = compare({"ours": ours, "hand": lambda: by_hand(dict(ACCOUNT))}, repeats=5 if args.quick else 15)
    ours_us, hand_us = median(samples["ours"]), median(samples["hand"])
    ratio = ours_us / hand_us
    emit(
        {
            "bench": "formula_kav",
            "quick": args.quick,
            "ours_us": round(ours_us, 2),
            "baseline_us": round(hand_us, 2),
            "ratio": round(ratio, 2),
            "target": "<= 5x",
            "meets_target": ratio <= 5,
            "formulas": len(FORMULAS),
            "samples_us": {name: spread(values) for name, values in samples.items()},
        }
    )


if __name__ == "__main__":
    main()
