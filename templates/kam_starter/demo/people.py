"""contact (decision chain, org chart, senior network) and account_team_member (the standing 1+N team)."""

from __future__ import annotations

import random

from .organisation import TEAM_ROLE_OF_DEPARTMENT
from .wordlists import PREFERENCE_NOTES, person_name
from .world import Account, Clock, Row, Staff, iso, pick, sample

Position = tuple[str, str, str]  # title, department, seniority
CHAIRMAN: Position = ("董事长", "board", "chairman_owner")
GENERAL_MANAGER: Position = ("总经理", "ceo_office", "c_level")
CFO: Position = ("财务总监", "finance", "c_level")
CORE_POSITIONS: list[Position] = [CFO, ("技术总监", "it_rd", "director"), ("采购总监", "procurement", "director")]
OTHER_POSITIONS: list[Position] = [
    ("生产运营总监", "operations", "director"),
    ("海外业务总监", "international", "director"),
    ("市场总监", "sales_marketing", "director"),
    ("法务总监", "legal", "director"),
    ("采购经理", "procurement", "manager"),
    ("财务经理", "finance", "manager"),
    ("IT经理", "it_rd", "manager"),
    ("设备经理", "operations", "manager"),
    ("项目经理", "operations", "manager"),
    ("法务经理", "legal", "manager"),
    ("采购专员", "procurement", "staff"),
    ("设备工程师", "operations", "staff"),
    ("结算会计", "finance", "staff"),
    ("总经理助理", "ceo_office", "staff"),
]
SENIORITY = ("chairman_owner", "c_level", "director", "manager", "staff")
ROLE_ORDER = (
    "decision_maker",
    "economic_buyer",
    "technical_evaluator",
    "influencer",
    "end_user",
    "gatekeeper",
    "legal_compliance",
    "executive_sponsor",
    "other",
)
CONTACTS_PER_ACCOUNT = {"strategic": (7, 10), "core": (5, 7), "important": (3, 5), "general": (2, 2)}
CHAMPION_RATE = {"strategic": 0.8, "core": 0.6, "important": 0.4, "general": 0.2}
STRENGTH = {"strategic": (3, 5), "core": (2, 5), "important": (2, 4), "general": (1, 3)}
INFLUENCE = {"chairman_owner": (5, 5), "c_level": (4, 5), "director": (3, 4), "manager": (2, 3), "staff": (1, 2)}
AGE = {"chairman_owner": (45, 65), "c_level": (38, 58), "director": (32, 55), "manager": (28, 48), "staff": (23, 40)}
EXEC_INTERESTS = ("family_office", "education", "health")
OTHER_INTERESTS = ("golf", "tea", "reading", "health", "art", "charity")
INTEREST_ORDER = ("golf", "tea", "reading", "health", "education", "family_office", "art", "charity")
EXPERTS_PER_TIER = {"strategic": (3, 6), "core": (1, 3), "important": (0, 1), "general": (0, 0)}


def build_contacts(
    rng: random.Random,
    clock: Clock,
    accounts: list[Account],
    staff: Staff,
    taken_names: set[str],
    champion_departures: list[int],
) -> list[Row]:
    """Create every account's contacts, bosses first so ``reports_to`` points at earlier rows.

    Args:
        rng: Random stream.
        clock: Reference date.
        accounts: The accounts, in insert order.
        staff: Our users (senior-network counterparts).
        taken_names: Person names already used (users); new names are added.
        champion_departures: Account ids whose champion left recently (rule R07).

    Returns:
        contact rows with ids 1..n.
    """
    rows: list[Row] = []
    for account in accounts:
        people = _people(rng, account, taken_names, len(rows) + 1)
        _assign_roles(rng, people)
        _attitudes(rng, account, people, force_champion=account.id in champion_departures)
        for person in people:
            _personal(rng, clock, account, person, staff)
        rows += people
    _departures(rng, clock, rows, champion_departures)
    _mark_primary(rows)
    return rows


def _people(rng: random.Random, account: Account, taken: set[str], first_id: int) -> list[Row]:
    """The people of one account with their positions and bosses."""
    count = rng.randint(*CONTACTS_PER_ACCOUNT[account.tier])
    if count == 2:
        positions = [GENERAL_MANAGER, ("采购经理", "procurement", "manager")]
    else:
        top = CHAIRMAN if account.tier in ("strategic", "core") and rng.random() < 0.7 else GENERAL_MANAGER
        positions = [top, *([GENERAL_MANAGER] if top == CHAIRMAN and count >= 6 else []), *CORE_POSITIONS]
        positions = positions[:count] + rng.sample(OTHER_POSITIONS, max(0, count - len(positions)))
        positions.sort(key=lambda p: SENIORITY.index(p[2]))
    people: list[Row] = []
    for offset, (title, department, seniority) in enumerate(positions):
        name, surname_py, given_py = person_name(rng, taken)
        person: Row = {
            "id": first_id + offset,
            "account": account.id,
            "name": name,
            "title": title,
            "department": department,
            "seniority": seniority,
            "decision_role": [],
        }
        boss = _boss(people, department, seniority)
        if boss is not None:
            person["reports_to"] = boss["id"]
        person["_login"] = f"{given_py}.{surname_py}"
        people.append(person)
    return people


def _boss(earlier: list[Row], department: str, seniority: str) -> Row | None:
    """The nearest more senior person of the same department, else the general manager, else the top."""
    rank = SENIORITY.index(seniority)
    senior = [p for p in earlier if SENIORITY.index(p["seniority"]) < rank]
    if not senior:
        return None
    same = [p for p in senior if p["department"] == department]
    managers = [p for p in senior if p["title"] == GENERAL_MANAGER[0]]
    return (same or managers or senior)[-1 if same else 0]


def _assign_roles(rng: random.Random, people: list[Row]) -> None:
    """Decision maker, economic buyer (30 % the same person), evaluator, 1-2 influencers, the rest."""

    def give(person: Row, role: str) -> None:
        person["decision_role"] = [r for r in ROLE_ORDER if r in (*person["decision_role"], role)]

    top, rest = people[0], people[1:]
    give(top, "decision_maker")
    finance = next((p for p in rest if p["department"] == "finance"), None)
    give(finance if finance is not None and rng.random() >= 0.3 else top, "economic_buyer")
    evaluator = next((p for p in rest if p["department"] in ("it_rd", "operations")), rest[-1])
    give(evaluator, "technical_evaluator")
    free = [p for p in rest if not p["decision_role"]]
    for person in sorted(free, key=lambda p: p["department"] != "procurement")[: rng.randint(1, 2)]:
        give(person, "influencer")
    for person in rest:
        if person["department"] == "legal":
            give(person, "legal_compliance")
        elif person["title"] == "总经理助理":
            give(person, "gatekeeper")
        elif not person["decision_role"]:
            give(person, "end_user")
    if top["seniority"] == "chairman_owner" and rng.random() < 0.5:
        give(top, "executive_sponsor")
    step = {
        "decision_maker": "sign",
        "economic_buyer": "approve",
        "technical_evaluator": "evaluate",
        "influencer": "evaluate",
        "legal_compliance": "evaluate",
        "gatekeeper": "initiate",
        "end_user": "initiate",
    }
    for person in people:
        person["approval_step"] = step.get(person["decision_role"][0], "none")


def _attitudes(rng: random.Random, account: Account, people: list[Row], *, force_champion: bool) -> None:
    """A champion in 80/60/40 % of strategic/core/important accounts, a blocker in 15 %."""
    for person in people:
        person["attitude"] = pick(rng, {"supporter": 35, "neutral": 45, "unknown": 20})
    seniors = [p for p in people[1:] if p["seniority"] in ("c_level", "director")] or people[1:]
    if seniors and (force_champion or rng.random() < CHAMPION_RATE[account.tier]):
        rng.choice(seniors)["attitude"] = "champion"
    doubters = [p for p in people[1:] if p["attitude"] != "champion"]
    if doubters and rng.random() < 0.15:
        rng.choice(doubters)["attitude"] = "blocker"


def _personal(rng: random.Random, clock: Clock, account: Account, person: Row, staff: Staff) -> None:
    """Ratings, senior-network counterpart, interests, birthday and contact details of one person."""
    seniority, attitude = person["seniority"], person["attitude"]
    strength = rng.randint(*STRENGTH[account.tier]) + (1 if attitude == "champion" else 0)
    person["influence"] = rng.randint(*INFLUENCE[seniority])
    person["relationship_strength"] = rng.randint(1, 2) if attitude == "blocker" else min(5, strength)
    executive = seniority in ("chairman_owner", "c_level")
    if executive and rng.random() < 0.4:
        sponsor = account.row.get("exec_sponsor")
        person["our_counterpart"] = sponsor or rng.choice([*staff.sponsors, *staff.leads])
    interests: set[str] = set()
    if executive and rng.random() < 0.3:
        interests = {rng.choice(EXEC_INTERESTS), *rng.sample(OTHER_INTERESTS, rng.randint(0, 2))}
    elif rng.random() < 0.15:
        interests = set(rng.sample(OTHER_INTERESTS, rng.randint(1, 2)))
    if interests:
        person["personal_preferences"] = [i for i in INTEREST_ORDER if i in interests]
        if rng.random() < 0.5:
            person["preference_notes"] = PREFERENCE_NOTES[rng.choice(person["personal_preferences"])]
    if rng.random() < 0.5:
        age = rng.uniform(*AGE[seniority])
        person["birthday"] = iso(clock.days_ago(age * 365.25))
    login = person.pop("_login")
    if rng.random() < 0.9:
        person["phone"] = f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    if rng.random() < 0.85:
        person["email"] = f"{login}@{account.domain}"
    if rng.random() < 0.5:
        person["wechat"] = f"wx_{login.replace('.', '_')}{rng.randint(10, 99)}"
    person["status"] = "active"


def _departures(rng: random.Random, clock: Clock, rows: list[Row], champion_departures: list[int]) -> None:
    """~8 % left and ~3 % moved in the last 12 months; R07 accounts lose their champion recently."""
    for account_id in champion_departures:
        champion = next(p for p in rows if p["account"] == account_id and p["attitude"] == "champion")
        champion.update(status="left", status_changed_on=iso(clock.days_ago(rng.uniform(3, 40))))
    others = [p for p in rows if p["status"] == "active" and "reports_to" in p]
    planned = round(len(rows) * 0.08) - len(champion_departures)
    for person in sample(rng, others, planned + round(len(rows) * 0.03)):
        status = "left" if planned > 0 else "moved"
        planned -= 1
        person.update(status=status, status_changed_on=iso(clock.days_ago(rng.uniform(45, 360))))


def _mark_primary(rows: list[Row]) -> None:
    """One primary contact per account: the active economic buyer, else the first active person."""
    by_account: dict[int, list[Row]] = {}
    for person in rows:
        by_account.setdefault(person["account"], []).append(person)
        person["is_primary"] = False
    for people in by_account.values():
        active = [p for p in people if p["status"] == "active"] or people
        buyer = next((p for p in active if "economic_buyer" in p["decision_role"]), active[0])
        buyer["is_primary"] = True


def build_team(rng: random.Random, clock: Clock, accounts: list[Account], staff: Staff) -> list[Row]:
    """account_team_member rows: one active RM per account, sponsors, standing experts, a few projects."""
    rows: list[Row] = []
    for account in accounts:
        rows += _rm_members(rng, clock, account, staff)
        if "exec_sponsor" in account.row:
            start = max(account.row["customer_since"], iso(clock.days_ago(rng.uniform(200, 1500))))
            rows.append(
                _member(account, account.row["exec_sponsor"], "executive_sponsor", "management", "all", True, start)
            )
        rows += _experts(rng, clock, account, staff)
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return rows


def _member(
    account: Account,
    user: int,
    role: str,
    department: str,
    access: str,
    sensitive: bool,
    start: str,
    *,
    project: bool = False,
    end: str | None = None,
) -> Row:
    row: Row = {
        "id": 0,
        "account": account.id,
        "user": user,
        "team_role": role,
        "department": department,
        "membership_type": "project" if project else "standing",
        "access_level": access,
        "sensitive_access": sensitive,
        "start_date": start,
    }
    if end is not None:
        row["end_date"] = end
    return row


def _rm_members(rng: random.Random, clock: Clock, account: Account, staff: Staff) -> list[Row]:
    """The current RM (= primary_rm) and, for 12 % of key accounts, the RM they took over from."""
    since, rm = account.row["customer_since"], account.row["primary_rm"]
    rows = []
    if account.is_key and rng.random() < 0.12:
        handover = max(since, iso(clock.days_ago(rng.uniform(60, 600))))
        former = rng.choice([r for r in staff.rms if r != rm])
        rows.append(_member(account, former, "rm", "sales", "all", True, since, end=handover))
        since = handover
    rows.append(_member(account, rm, "rm", "sales", "all", True, since))
    return rows


def _experts(rng: random.Random, clock: Clock, account: Account, staff: Staff) -> list[Row]:
    """Standing experts by tier (3-6 / 1-3 / 0-1) and the occasional project member."""
    count = rng.randint(*EXPERTS_PER_TIER[account.tier])
    must = ["product", "risk"][:count] if account.tier != "important" else [rng.choice(["product", "risk"])]
    others = [d for d in staff.experts if d not in must]
    departments = (must + rng.sample(others, max(0, count - len(must))))[:count]
    rows = []
    for department in departments:
        start = max(account.row["customer_since"], iso(clock.days_ago(rng.uniform(90, 1500))))
        rows.append(
            _member(
                account,
                rng.choice(staff.experts[department]),
                TEAM_ROLE_OF_DEPARTMENT[department],
                department,
                "edit" if department in ("risk", "legal") else "read",
                department == "risk",
                start,
            )
        )
    if account.is_key and rng.random() < 0.15:
        department = rng.choice(["ib", "international", "legal", "research"])
        start_days = rng.uniform(30, 200)
        end = clock.days_ago(start_days - rng.uniform(20, 90)) if rng.random() < 0.5 else clock.days_ahead(60)
        rows.append(
            _member(
                account,
                rng.choice(staff.experts[department]),
                TEAM_ROLE_OF_DEPARTMENT[department],
                department,
                "read",
                False,
                iso(clock.days_ago(start_days)),
                project=True,
                end=iso(end),
            )
        )
    return rows
