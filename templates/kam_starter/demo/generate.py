"""Reproducible demo data for the KAM starter (kam_domain §9), pure standard library.

Example::

    from datetime import UTC, date, datetime
    from templates.kam_starter.demo.generate import generate

    data = generate(seed=20240601, today=date(2024, 6, 15))
    for form_key, rows in data.records.items():  # dict order = a valid insert order
        ...

Or from the shell: ``python -m templates.kam_starter.demo.generate --today 2024-06-15 --out demo.json``.

The same ``(seed, today)`` always gives the same data: every entity draws from its own named
random stream (:class:`world.Streams`) and nothing iterates over an unordered set.

Rows hold inputs only: formula fields (scores, rollups, health...) are left out, the engine computes
them on insert. The generator reckons them itself (``Account.computed``) to choose inputs and tiers.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from .accounts import plan_accounts
from .activity import build_interactions, build_opportunities
from .ecosystem import build_relations, build_sentiment_events
from .financials import build_financials
from .organisation import add_risk_officer, build_catalog, build_organisation
from .people import build_contacts, build_team
from .rollups import financial_rollups, finish_accounts
from .scoring import fit_tiers, settings_row
from .world import COMPANY_REVENUE_12M, Clock, Row, Streams

DEFAULT_SEED = 20240601
DEMO_PASSWORD = "kam-demo-2024"
"""The one password of every demo user (``tessera demo`` prints it). For the demo only."""
INSERT_ORDER = (
    "kam_settings",
    "product_catalog",
    "account",
    "contact",
    "account_team_member",
    "account_financial_monthly",
    "opportunity",
    "interaction",
    "account_relation",
    "sentiment_event",
)
"""Settings first (every account formula reads them), then targets before the forms that reference them
(interaction -> opportunity is the only non-obvious one)."""

__all__ = ["COMPANY_REVENUE_12M", "DEFAULT_SEED", "DEMO_PASSWORD", "INSERT_ORDER", "DemoData", "generate"]


@dataclass(frozen=True)
class DemoData:
    """The generated demo data set.

    Attributes:
        users: ``{"id", "login", "name", "email", "department", "roles"}`` per user (``roles``: keys of
            the starter's roles in ``roles/``); login ``admin`` is the admin.
        departments: ``{"id", "name", "parent", "head"}`` per department, parents first (``head``: a user id).
        records: Form key -> rows in insert order; the dict order is a valid insert order. Each row has
            an integer ``id`` (1..n per form) and values keyed by field key; relations hold target ids.
        password: The password of every demo user (for the demo only).
    """

    users: list[Row]
    departments: list[Row]
    records: dict[str, list[Row]]
    password: str = DEMO_PASSWORD


def generate(*, seed: int = DEFAULT_SEED, today: date | None = None) -> DemoData:
    """Generate the KAM demo data set.

    Args:
        seed: Seed of every random stream.
        today: Reference date; all dates are relative to it. Defaults to today in UTC, the date the
            engine's ``TODAY()`` gives while the data is loaded.

    Returns:
        The users, departments and form records.
    """
    clock = Clock.at(today or datetime.now(UTC).date())
    streams = Streams(seed)
    names: set[str] = set()
    organisation = build_organisation(streams("organisation"), names)
    staff, catalog = organisation.staff, build_catalog()
    accounts, anomalies = plan_accounts(streams, clock, staff, catalog)
    build_financials(streams, clock, accounts, anomalies)
    for account in accounts:
        financial_rollups(account, clock)
    fit_tiers(streams("tier-fit"), clock, accounts, catalog)
    contacts = build_contacts(streams("contacts"), clock, accounts, staff, names, anomalies["R07"])
    add_risk_officer(streams("risk-officer"), organisation, names)
    team = build_team(streams("team"), clock, accounts, staff)
    opportunities = build_opportunities(streams("opportunities"), clock, accounts, contacts, catalog)
    interactions = build_interactions(
        streams("interactions"), clock, accounts, contacts, opportunities, staff, anomalies["R12"]
    )
    relations, defaulted = build_relations(streams("relations"), clock, accounts, anomalies)
    events = build_sentiment_events(streams("events"), clock, accounts, anomalies, defaulted)
    finish_accounts(clock, accounts, contacts, interactions)
    months = [month for account in accounts for month in account.months]
    for i, month in enumerate(months, start=1):
        month["id"] = i
    records = {
        "kam_settings": [settings_row(catalog)],
        "product_catalog": catalog,
        "account": [a.row for a in accounts],
        "contact": contacts,
        "account_team_member": team,
        "account_financial_monthly": months,
        "opportunity": opportunities,
        "interaction": interactions,
        "account_relation": relations,
        "sentiment_event": events,
    }
    ordered = {key: [_id_first(row) for row in records[key]] for key in INSERT_ORDER}
    return DemoData(users=organisation.users, departments=organisation.departments, records=ordered)


def _id_first(row: Row) -> Row:
    return {"id": row["id"], **{key: value for key, value in row.items() if key != "id"}}


def main(argv: list[str] | None = None) -> None:
    """Print row counts and the key-account revenue share, or write the whole data set as JSON."""
    parser = argparse.ArgumentParser(description="Generate the KAM starter demo data.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--out", help="write the data set to this JSON file")
    args = parser.parse_args(argv)
    data = generate(seed=args.seed, today=args.today)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(asdict(data), handle, ensure_ascii=False, indent=1)
    key = {a["id"] for a in data.records["account"] if a["tier"] != "general"}
    last_year = sorted({m["period"] for m in data.records["account_financial_monthly"]})[-12:]
    key_revenue = sum(
        m["revenue"]
        for m in data.records["account_financial_monthly"]
        if m["account"] in key and m["period"] in last_year
    )
    print(
        json.dumps(
            {
                "users": len(data.users),
                **{k: len(v) for k, v in data.records.items()},
                "key_revenue_share": round(key_revenue / COMPANY_REVENUE_12M, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
