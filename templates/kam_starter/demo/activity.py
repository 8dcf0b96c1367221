"""opportunity (pipeline) and interaction (timeline of visits, calls, executive meetings...)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from .scoring import CADENCE_DAYS
from .wordlists import COMPETING_SELLERS
from .world import Account, Clock, Row, Staff, iso, iso_datetime, lognormal, pick, poisson, sample

OPPORTUNITY_RATE = {"strategic": 4.0, "core": 2.5, "important": 1.5}
STAGES = {"identify": 18, "qualify": 17, "solution": 15, "negotiate": 10, "commit": 5, "won": 22, "lost": 13}
PROBABILITY = {
    "identify": 0.1,
    "qualify": 0.2,
    "solution": 0.4,
    "negotiate": 0.6,
    "commit": 0.8,
    "won": 1.0,
    "lost": 0.0,
}
SOURCES = {"client_request": 35, "rule_alert": 25, "cross_sell": 20, "renewal": 12, "referral": 8}
LOST_REASONS = {"price": 35, "solution": 15, "relationship": 15, "competitor": 20, "timing": 10, "other": 5}
INTERACTIONS_PER_MONTH = {"strategic": 4.0, "core": 2.0, "important": 1.0}
TYPES = {"visit": 35, "call": 25, "video": 15, "exec_meeting": 8, "qbr": 5, "proposal": 7, "event": 5}
GENERAL_TYPES = {"visit": 40, "call": 35, "video": 10, "email": 15}
SENTIMENTS = {"positive": 70, "neutral": 25, "negative": 5}
EXECUTIVE = ("chairman_owner", "c_level")
TOPICS = {
    "visit": ["季度业务拜访", "现场运维巡检沟通", "新项目需求调研", "年度合作回顾拜访", "备件供应保障沟通"],
    "call": ["订单交付进度确认", "回款计划电话沟通", "服务问题跟进", "报价澄清"],
    "video": ["远程方案评审", "项目周例会", "数字化需求线上研讨"],
    "exec_meeting": ["高层战略会晤", "年度合作高层交流", "董事长互访"],
    "qbr": ["季度经营回顾（QBR）", "半年度业务评审"],
    "proposal": ["智能产线改造方案汇报", "供应链金融方案汇报", "能源管理优化方案汇报", "跨境结算方案汇报"],
    "event": ["客户俱乐部沙龙", "行业峰会", "新品发布会"],
    "email": ["合同条款邮件确认", "服务报告邮件发送"],
}
DETAILS = {
    "positive": [
        "客户认可近期交付质量，同意扩大合作范围",
        "双方确认下季度采购计划",
        "客户高层表示愿意共建年度经营计划",
        "客户对方案整体满意，进入内部审批",
    ],
    "neutral": ["客户关注交付周期与价格，需进一步测算", "客户内部仍在评估多家供应商", "双方同步了项目进展，无重大变化"],
    "negative": ["客户对近期服务响应速度不满，要求整改", "客户提出降价要求，合作面临压力", "客户反映回款审批流程变慢"],
}
NEXT_STEPS = [
    "发送正式报价",
    "安排技术交流",
    "提交方案修订稿",
    "约见财务总监",
    "跟进回款计划",
    "准备QBR材料",
    "组织现场考察",
]


def build_opportunities(
    rng: random.Random, clock: Clock, accounts: list[Account], contacts: list[Row], catalog: list[Row]
) -> list[Row]:
    """About 140 opportunities: 4 / 2.5 / 1.5 per strategic / core / important account on average.

    Each tier's total is fixed and dealt to random accounts of the tier (a multinomial split, so
    per-account counts look Poisson while the volume stays stable); every prospect has one open
    opportunity and three other general accounts have one.
    """
    counts = {a.id: 1 if a.is_prospect else 0 for a in accounts}
    for tier, rate in OPPORTUNITY_RATE.items():
        members = [a for a in accounts if a.tier == tier]
        for _ in range(round(rate * len(members))):
            counts[rng.choice(members).id] += 1
    for account in sample(rng, [a for a in accounts if a.tier == "general" and not a.is_prospect], 3):
        counts[account.id] += 1
    people = _by_account(contacts)
    rows: list[Row] = []
    for account in accounts:
        for _ in range(counts[account.id]):
            rows.append(_opportunity(rng, clock, account, people[account.id], catalog, len(rows) + 1))
    return rows


def _opportunity(
    rng: random.Random, clock: Clock, account: Account, people: list[Row], catalog: list[Row], row_id: int
) -> Row:
    """One opportunity of ``account``."""
    stage = rng.choice(["identify", "qualify"]) if account.is_prospect else pick(rng, STAGES)
    source = "client_request" if account.is_prospect else pick(rng, SOURCES)
    product = _product_for(rng, account, catalog, source)
    amount = round(min(30e6, max(0.1e6, lognormal(rng, 1.5e6, 0.9))) * (1.5 if account.tier == "strategic" else 1), -4)
    adjusted = None  # the stage's default probability is a formula; a quarter of open deals adjust it
    if stage not in ("won", "lost") and rng.random() < 0.25:
        adjusted = round(min(0.95, max(0.05, PROBABILITY[stage] + rng.choice([-0.1, -0.05, 0.05, 0.1]))), 2)
    closed = stage in ("won", "lost")
    close = clock.days_ago(rng.uniform(5, 330)) if closed else clock.days_ahead(rng.uniform(10, 180))
    row: Row = {
        "id": row_id,
        "account": account.id,
        "name": f"{account.row['short_name']} {product['name']}{'续约' if source == 'renewal' else ''}",
        "product": product["id"],
        "amount": float(amount),
        "stage": stage,
        "expected_close": iso(close),
        "owner": account.row["primary_rm"],
        "source": source,
    }
    deciders = [
        p
        for p in people
        if p["status"] == "active"
        and {"decision_maker", "economic_buyer", "technical_evaluator"} & set(p["decision_role"])
    ]
    if deciders:
        row["key_contacts"] = [p["id"] for p in sample(rng, deciders, rng.randint(1, 3))]
        row["primary_contact"] = deciders[0]["id"]
    if adjusted is not None:
        row["probability_override"] = adjusted
    if rng.random() < 0.5:
        row["competitors"] = "、".join(rng.sample(COMPETING_SELLERS, rng.randint(1, 2)))
    row["needs_1n"] = product["category"] in ("ib", "cross_border", "scf", "advisory") and amount >= 3e6
    if stage == "lost":
        row["lost_reason"] = pick(rng, LOST_REASONS)
    return row


def _product_for(rng: random.Random, account: Account, catalog: list[Row], source: str) -> Row:
    """Renewals sell what the account holds; otherwise mostly whitespace suitable for its stage."""
    held = set(account.row.get("products_held", []))
    active = [item for item in catalog if item["is_active"]]
    if source == "renewal" and held:
        return rng.choice([item for item in active if item["id"] in held])
    whitespace = [item for item in active if item["id"] not in held and account.stage in item["suitable_stages"]]
    if whitespace and (source == "cross_sell" or rng.random() < 0.6):
        return rng.choice(whitespace)
    return rng.choice(active)


def build_interactions(
    rng: random.Random,
    clock: Clock,
    accounts: list[Account],
    contacts: list[Row],
    opportunities: list[Row],
    staff: Staff,
    silent: list[int],
) -> list[Row]:
    """About 1,300 interactions over 12 months, in date order.

    Args:
        rng: Random stream.
        clock: Reference date.
        accounts: All accounts.
        contacts: All contacts (participants; executives for executive meetings).
        opportunities: All opportunities (``related_opportunity``).
        staff: Our users (internal participants).
        silent: Account ids with no contact for more than 1.5 x their cadence (rule R12).

    Returns:
        interaction rows with ids 1..n in chronological order.
    """
    people, deals = _by_account(contacts), _by_account(opportunities)
    rows: list[Row] = []
    for account in accounts:
        moments = _moments(rng, clock, account)
        if account.id in silent:
            quiet_since = clock.today - timedelta(days=int(CADENCE_DAYS[account.tier] * 1.5) + 10)
            moments = [m for m in moments if m.date() < quiet_since] or [
                datetime.combine(quiet_since - timedelta(days=7), time(10, 0))
            ]
        for moment in moments:
            rows.append(_interaction(rng, account, moment, people[account.id], deals.get(account.id, []), staff))
    rows.sort(key=lambda row: (row["date"], row["account"]))
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return rows


def _moments(rng: random.Random, clock: Clock, account: Account) -> list[datetime]:
    """Dates and times of one account's interactions over the last 12 months (weekdays, office hours)."""
    if account.is_key:
        counts = [poisson(rng, INTERACTIONS_PER_MONTH[account.tier]) for _ in range(12)]
    else:
        counts = [poisson(rng, 3.0 if account.is_prospect else 1.5)] + [0] * 11
    moments = []
    for month, count in enumerate(counts):
        for _ in range(count):
            window = (month * 30.4, month * 30.4 + 30.4) if account.is_key else (1, 180 if account.is_prospect else 365)
            day = clock.days_ago(max(1.0, rng.uniform(*window)))
            if day.weekday() >= 5:
                day -= timedelta(days=day.weekday() - 4)
            moments.append(datetime.combine(day, time(rng.randint(9, 17), rng.choice([0, 15, 30, 45]))))
    return sorted(moments)


def _interaction(
    rng: random.Random, account: Account, moment: datetime, people: list[Row], deals: list[Row], staff: Staff
) -> Row:
    """One interaction with its participants, notes and follow-up."""
    kind = pick(rng, TYPES if account.is_key else GENERAL_TYPES)
    present = [p for p in people if p["status"] == "active" or p.get("status_changed_on", "") > iso(moment.date())]
    clients = _client_participants(rng, kind, present or people)
    sentiment = pick(rng, SENTIMENTS)
    topic = rng.choice(TOPICS[kind])
    row: Row = {
        "id": 0,
        "account": account.id,
        "date": iso_datetime(moment),
        "type": kind,
        "participants_client": [p["id"] for p in clients],
        "participants_internal": _internal_participants(rng, kind, account, staff),
        "topic": topic,
        "summary": f"{topic}：{rng.choice(DETAILS[sentiment])}。",
        "sentiment": sentiment,
    }
    if rng.random() < 0.55:
        row["next_step"] = rng.choice(NEXT_STEPS)
        row["next_step_due"] = iso(moment.date() + timedelta(days=rng.randint(3, 30)))
    if deals and kind in ("visit", "call", "proposal", "video") and rng.random() < 0.25:
        row["related_opportunity"] = rng.choice(deals)["id"]
    return row


def _client_participants(rng: random.Random, kind: str, people: list[Row]) -> list[Row]:
    """Executives for exec meetings (and most QBRs), otherwise mostly working-level people."""
    executives = [p for p in people if p["seniority"] in EXECUTIVE]
    working = [p for p in people if p["seniority"] not in EXECUTIVE] or people
    if kind == "exec_meeting" or (kind == "qbr" and rng.random() < 0.6):
        chosen = sample(rng, executives or people, rng.randint(1, 2))
        chosen += sample(rng, [p for p in working if p not in chosen], rng.randint(0, 1))
    else:
        chosen = sample(rng, working, rng.randint(1, 2))
        if executives and rng.random() < 0.04:
            chosen += [p for p in [rng.choice(executives)] if p not in chosen]
    return sorted(chosen, key=lambda p: p["id"])


def _internal_participants(rng: random.Random, kind: str, account: Account, staff: Staff) -> list[int]:
    """The RM, plus the sponsor or team lead for executive meetings and QBRs, plus an expert for proposals."""
    rm = account.row["primary_rm"]
    users = [rm]
    if kind in ("exec_meeting", "qbr"):
        users.append(account.row.get("exec_sponsor") or staff.lead_of[rm])
    if kind in ("proposal", "qbr") and rng.random() < 0.7:
        users.append(rng.choice(staff.experts["product"]))
    return sorted(set(users))


def _by_account(rows: list[Row]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["account"], []).append(row)
    return grouped
