"""account_relation (groups, supply chain, guarantors...) and sentiment_event (news and legal signals)."""

from __future__ import annotations

import random
from itertools import pairwise

from .wordlists import OVERSEAS_COUNTRY
from .world import Account, Clock, Row, clip, iso, pick, sample

RELATION_TARGET = 250
SUPPLY_PAIRS = {"strategic": 2, "core": 1, "important": 0}
"""Minimum supplier/customer pairs per key account; more are added (strategic 4x, core 2x) up to the target."""
SUPPLY_WEIGHT = {"strategic": 4, "core": 2, "important": 1}
RISK_STATUS = {"normal": 88, "watch": 8, "overdue": 4}
SOURCES = ["工商信息", "客户访谈", "年报披露", "客户经理录入", "供应链平台数据"]
# event type -> planned count (kam_domain §9: 60 % neutral/positive news, 25 % negative news, 15 % legal/registry)
EVENT_MIX = {
    "positive_news": 60,
    "ma_announcement": 12,
    "management_change": 15,
    "other": 33,
    "negative_news": 38,
    "rating_downgrade": 4,
    "litigation": 10,
    "penalty": 7,
    "enforcement": 3,
    "equity_freeze": 2,
    "owner_change": 3,
    "bankruptcy": 1,
    "dishonest_debtor": 1,
}
TITLES = {
    "positive_news": ["{s}获评省级专精特新企业", "{s}荣获年度优秀供应商", "{s}入选国家级绿色工厂", "{s}签约重大项目"],
    "ma_announcement": ["{s}宣布并购同业企业", "{s}公告投资建设新生产基地", "{s}引入战略投资者"],
    "management_change": ["{s}任命新任总经理", "{s}财务总监变更", "{s}董事会换届"],
    "other": ["{s}发布年度社会责任报告", "{s}参加行业博览会", "{s}举办客户开放日"],
    "negative_news": ["{s}被曝拖欠供应商货款", "{s}被曝产品质量问题", "{s}裁员传闻引关注", "{s}环保检查不达标"],
    "rating_downgrade": ["{s}主体信用评级被下调"],
    "litigation": ["{s}涉及买卖合同纠纷诉讼", "{s}被供应商起诉索赔"],
    "penalty": ["{s}收到市场监管部门行政处罚", "{s}收到生态环境部门行政处罚", "{s}收到税务行政处罚"],
    "enforcement": ["{s}被列为被执行人"],
    "equity_freeze": ["{s}股东所持股权被冻结"],
    "owner_change": ["{s}实际控制人变更"],
    "bankruptcy": ["{s}申请破产重整"],
    "dishonest_debtor": ["{s}被列入失信被执行人名单"],
}
COURT = ("litigation", "enforcement", "dishonest_debtor", "bankruptcy")
REGISTRY = ("penalty", "equity_freeze", "owner_change", "management_change")
AMOUNTS = {
    "litigation": (0.3e6, 4.5e6),
    "penalty": (0.05e6, 2e6),
    "enforcement": (0.2e6, 3e6),
    "equity_freeze": (5e6, 50e6),
    "ma_announcement": (50e6, 2e9),
}


class _Edges:
    """Collects relation rows, skipping self-edges and duplicates of (account, related, type)."""

    def __init__(self, rng: random.Random, clock: Clock, accounts: list[Account]) -> None:
        self.rng, self.clock = rng, clock
        self.rows: list[Row] = []
        self.by_id = {a.id: a for a in accounts}
        self.seen: set[tuple[int, int, str]] = set()
        self.risk: dict[int, tuple[str, str | None]] = {}

    def pair(self, first: Account, second: Account, kind: str, reverse: str) -> None:
        """Add ``first -> second`` of ``kind`` and the reciprocal edge of type ``reverse``."""
        self.add(first, second, kind)
        self.add(second, first, reverse)

    def add(self, account: Account, related: Account, kind: str) -> Row | None:
        key = (account.id, related.id, kind)
        if account.id == related.id or key in self.seen:
            return None
        self.seen.add(key)
        status, since = self.status_of(related)
        row: Row = {
            "id": 0,
            "account": account.id,
            "related_account": related.id,
            "relation_type": kind,
            "is_our_customer": related.row["status"] in ("active", "suspended"),
            "country": _country(related),
            "related_risk_status": status,
            "source": "工商信息" if kind in ("parent", "subsidiary") else self.rng.choice(SOURCES),
        }
        if since:
            row["risk_status_date"] = since
        if kind in ("supplier", "customer"):
            mean, spread = (75, 20) if kind == "customer" else (45, 15)
            row["settlement_days"] = round(clip(self.rng.gauss(mean, spread), 7, 180))
        self.rows.append(row)
        return row

    def status_of(self, related: Account) -> tuple[str, str | None]:
        """One risk status per related company, shared by every edge pointing at it."""
        if related.id not in self.risk:
            status = pick(self.rng, RISK_STATUS)
            self.risk[related.id] = (
                status,
                None if status == "normal" else iso(self.clock.days_ago(self.rng.uniform(5, 120))),
            )
        return self.risk[related.id]

    def default(self, related: Account) -> None:
        self.risk[related.id] = ("default", iso(self.clock.days_ago(self.rng.uniform(5, 30))))


def build_relations(
    rng: random.Random, clock: Clock, accounts: list[Account], anomalies: dict[str, list[int]]
) -> tuple[list[Row], list[int]]:
    """About 250 edges: group structure, guarantors, partners, competitors, then supply chain up to 250.

    Returns:
        The account_relation rows (ids 1..n) and the ids of the related companies planted in default
        (rules R08 and R09).
    """
    edges = _Edges(rng, clock, accounts)
    by_id = edges.by_id
    key = [a for a in accounts if a.is_key]
    buyers = [a for a in accounts if a.tier == "general" and a.row["status"] == "active"]
    prospects = [a for a in accounts if a.is_prospect]
    defaulted = sample(rng, buyers, 2)
    for account in defaulted:
        edges.default(account)
    _groups(edges, accounts)
    for account_id in anomalies["R08"]:  # planted first: a downstream customer buying 25 % of its output
        planted = edges.add(by_id[account_id], defaulted[0], "customer")
        if planted is not None:
            planted["_share"] = 0.25
        edges.add(defaulted[0], by_id[account_id], "supplier")
    for account_id in anomalies["O05"]:  # >= 6 suppliers that are not our customers yet
        for prospect in sample(rng, prospects, 6):
            edges.pair(by_id[account_id], prospect, "supplier", "customer")
    guaranteed = [by_id[i] for i in anomalies["R09"]] + sample(rng, [a for a in key if a.id not in anomalies["R09"]], 5)
    guarantors = [defaulted[1], *sample(rng, [a for a in buyers + key if a not in defaulted], 5)]
    for account, guarantor in zip(guaranteed, guarantors, strict=True):
        edges.add(account, guarantor, "guarantor")
    for kind, count in (("partner", 4), ("competitor", 3)):
        for _ in range(count):
            first = rng.choice(key)
            peers = [a for a in accounts if a.row["industry"] == first.row["industry"]] if kind == "competitor" else key
            edges.pair(first, rng.choice(peers), kind, kind)
    for account in key:
        for _ in range(SUPPLY_PAIRS[account.tier]):
            _supply_pair(rng, edges, account, accounts, prospects)
    weights = [SUPPLY_WEIGHT[a.tier] for a in key]
    for _ in range(10 * RELATION_TARGET):
        if len(edges.rows) >= RELATION_TARGET:
            break
        _supply_pair(rng, edges, rng.choices(key, weights=weights)[0], accounts, prospects)
    _shares(rng, edges.rows)
    for i, row in enumerate(edges.rows, start=1):
        row["id"] = i
    return edges.rows, [a.id for a in defaulted]


def _supply_pair(
    rng: random.Random, edges: _Edges, account: Account, accounts: list[Account], prospects: list[Account]
) -> None:
    """A supplier <-> customer pair with another company (35 % of them not our customers yet)."""
    other = rng.choice(prospects if rng.random() < 0.35 else accounts)
    kind, reverse = ("supplier", "customer") if rng.random() < 0.5 else ("customer", "supplier")
    edges.pair(account, other, kind, reverse)


def _groups(edges: _Edges, accounts: list[Account]) -> None:
    """Parent <-> subsidiary edges for every ``parent_account``, affiliates between siblings."""
    children: dict[int, list[Account]] = {}
    for account in accounts:
        if "parent_account" in account.row:
            parent = edges.by_id[account.row["parent_account"]]
            edges.pair(parent, account, "subsidiary", "parent")
            children.setdefault(parent.id, []).append(account)
    for siblings in children.values():
        for first, second in pairwise(siblings):
            edges.pair(first, second, "affiliate", "affiliate")


def _shares(rng: random.Random, rows: list[Row]) -> None:
    """Split a share of each account's sales (customers) or purchases (suppliers) over its edges (Dirichlet)."""
    groups: dict[tuple[int, str], list[Row]] = {}
    for row in rows:
        if row["relation_type"] in ("supplier", "customer"):
            groups.setdefault((row["account"], row["relation_type"]), []).append(row)
    for (_, kind), group in groups.items():
        coverage = rng.uniform(0.35, 0.8) if kind == "customer" else rng.uniform(0.2, 0.6)
        fixed = sum(row.get("_share", 0.0) for row in group)
        free = [row for row in group if "_share" not in row]
        weights = [rng.gammavariate(1.0, 1.0) for _ in free]
        for row, weight in zip(free, weights, strict=True):
            row["revenue_share_pct"] = round((coverage - fixed) * weight / sum(weights), 4)
        for row in group:
            if "_share" in row:
                row["revenue_share_pct"] = row.pop("_share")


def _country(account: Account) -> str:
    if account.row["region"] != "overseas":
        return "中国"
    return next(
        (country for city, country in OVERSEAS_COUNTRY.items() if account.row["name"].startswith(city)), "新加坡"
    )


def build_sentiment_events(
    rng: random.Random, clock: Clock, accounts: list[Account], anomalies: dict[str, list[int]], defaulted: list[int]
) -> list[Row]:
    """200 events over 12 months, including the planted R05 / R06 signals, in date order."""
    by_id = {a.id: a for a in accounts}
    rows = [
        _event(rng, clock, by_id[account_id], "negative_news", rng.uniform(0, 6), planted=True)
        for account_id in anomalies["R05"]
        for _ in range(4)
    ]
    litigation, enforcement = anomalies["R06"]
    rows += [
        _event(rng, clock, by_id[litigation], "litigation", rng.uniform(1, 20), planted=True, amount=8_000_000.0),
        _event(rng, clock, by_id[enforcement], "enforcement", rng.uniform(1, 20), planted=True),
        _event(rng, clock, by_id[defaulted[0]], "dishonest_debtor", rng.uniform(5, 30), planted=True),
    ]
    weights = {
        a.id: 0.5 if a.is_prospect else {"strategic": 5, "core": 3, "important": 2}.get(a.tier, 1) for a in accounts
    }
    small = [a for a in accounts if a.tier == "general" and not a.is_prospect]
    for kind, count in EVENT_MIX.items():
        pool = small if kind == "bankruptcy" else accounts
        for _ in range(count):
            account = rng.choices(pool, weights=[weights[a.id] for a in pool])[0]
            rows.append(_event(rng, clock, account, kind, rng.uniform(0, 365)))
    rows.sort(key=lambda row: (row["event_date"], row["account"]))
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return rows


def _event(
    rng: random.Random,
    clock: Clock,
    account: Account,
    kind: str,
    days_ago: float,
    *,
    planted: bool = False,
    amount: float | None = None,
) -> Row:
    """One event of ``kind`` on ``account``; planted events are verified."""
    when = clock.days_ago(days_ago)
    title = rng.choice(TITLES[kind]).format(s=account.row["short_name"])
    if kind == "positive_news" or (kind in ("ma_announcement", "other") and rng.random() < 0.5):
        sentiment = "positive"
    elif kind in ("ma_announcement", "management_change", "other"):
        sentiment = "neutral"
    else:
        sentiment = "negative"
    if kind in COURT:
        source = "court"
    else:
        source = pick(rng, {"registry": 60, "news": 40} if kind in REGISTRY else {"news": 80, "social": 20})
    host = {"court": "court-records", "registry": "registry"}.get(source, "news")
    row: Row = {
        "id": 0,
        "account": account.id,
        "title": title,
        "event_date": iso(when),
        "event_type": kind,
        "sentiment": sentiment,
        "source": source,
        "url": f"https://{host}.example.com/{when:%Y%m}/{rng.randint(10000, 99999)}",
        "summary": f"{title}。{'已与客户核实情况并评估影响。' if planted else '待客户经理跟进核实。'}",
        "verified": planted or rng.random() < 0.65,
    }
    if amount is None and kind in AMOUNTS:
        amount = float(round(rng.uniform(*AMOUNTS[kind]), -4))
    if amount is not None:
        row["amount"] = amount
    return row
