"""Our own side: departments, users (RMs, leads, experts, sponsors) and the product catalog."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .wordlists import person_name
from .world import Row, Staff

# (id, name, parent id, team-department option key of account_team_member.department)
DEPARTMENTS: list[tuple[int, str, int | None, str]] = [
    (1, "公司总部", None, "management"),
    (2, "管理层", 1, "management"),
    (3, "大客户部", 1, "sales"),
    (4, "大客户一组", 3, "sales"),
    (5, "大客户二组", 3, "sales"),
    (6, "大客户三组", 3, "sales"),
    (7, "KAM办公室", 3, "sales"),
    (8, "产品部", 1, "product"),
    (9, "投行部", 1, "ib"),
    (10, "研究部", 1, "research"),
    (11, "风控部", 1, "risk"),
    (12, "法务部", 1, "legal"),
    (13, "国际业务部", 1, "international"),
    (14, "财务部", 1, "finance"),
    (15, "交付中心", 1, "delivery"),
    (16, "客服中心", 1, "service"),
]
SALES_TEAMS = (4, 5, 6)
EXPERTS_PER_DEPARTMENT = {
    "product": 3,
    "ib": 2,
    "research": 2,
    "risk": 3,
    "legal": 2,
    "international": 2,
    "finance": 2,
    "delivery": 2,
    "service": 2,
}
TEAM_ROLE_OF_DEPARTMENT = {
    "product": "product_solution",
    "ib": "investment_banking",
    "research": "industry_research",
    "risk": "risk_control",
    "legal": "legal_compliance",
    "international": "cross_border",
    "finance": "finance_settlement",
    "delivery": "delivery",
    "service": "after_sales",
}

# (code, name, category, suitable stages, minimum tier, active)
CATALOG: list[tuple[str, str, str, list[str], str, bool]] = [
    ("PRD-001", "设备运维托管服务", "standard", ["growth", "mature"], "general", True),
    ("PRD-002", "工业备件供应与寄售", "standard", ["startup", "growth", "mature", "decline"], "general", True),
    ("PRD-003", "智能产线改造", "standard", ["growth", "mature"], "important", True),
    ("PRD-004", "能源管理优化服务", "standard", ["mature", "decline"], "important", True),
    ("PRD-005", "供应链协同平台", "standard", ["growth", "mature"], "important", True),
    ("PRD-006", "远程监控与预测性维护", "standard", ["growth", "mature"], "general", True),
    ("PRD-007", "旧版设备巡检套餐", "standard", ["mature"], "general", False),
    ("SVC-001", "统一结算与对账服务", "settlement", ["startup", "growth", "mature", "decline"], "general", True),
    ("SVC-002", "数字化工厂咨询", "advisory", ["growth", "mature"], "core", True),
    ("SVC-003", "重组与降本增效咨询", "advisory", ["decline"], "important", True),
    ("FIN-001", "设备融资租赁（合作方）", "financing", ["startup", "growth"], "important", True),
    ("FIN-002", "应收账款保理（合作银行）", "scf", ["growth", "mature"], "important", True),
    ("FIN-003", "供应链金融平台对接", "scf", ["growth", "mature"], "core", True),
    ("FIN-004", "跨境结算服务（合作银行）", "cross_border", ["growth", "mature"], "important", True),
    ("FIN-005", "跨境资金池（合作银行）", "cross_border", ["mature"], "core", True),
    ("FIN-006", "汇率避险方案", "fx_hedging", ["growth", "mature"], "important", True),
    ("FIN-007", "现金管理与结构性存款（合作银行）", "cash_mgmt", ["mature"], "core", True),
    ("ADV-001", "并购与投融资顾问", "ib", ["growth", "mature"], "core", True),
    ("ADV-002", "IPO辅导对接", "ib", ["startup", "growth"], "important", True),
    ("VAS-001", "税务与合规咨询", "value_added", ["startup", "growth", "mature", "decline"], "important", True),
    ("VAS-002", "家族办公室与传承讲座", "value_added", ["mature"], "strategic", True),
    ("VAS-003", "高管健康管理", "value_added", ["growth", "mature"], "core", True),
]
CATEGORY_BLURB = {
    "standard": "我司自有产品/服务",
    "settlement": "结算与对账",
    "advisory": "咨询服务",
    "financing": "合作方融资方案",
    "scf": "供应链金融（合作银行）",
    "cross_border": "跨境业务（合作银行）",
    "fx_hedging": "汇率风险管理",
    "cash_mgmt": "现金管理（合作银行）",
    "ib": "投融资顾问",
    "value_added": "增值服务",
}


@dataclass(frozen=True)
class Organisation:
    """Departments, users and who does what."""

    departments: list[Row]
    users: list[Row]
    staff: Staff


def build_organisation(rng: random.Random, taken_names: set[str]) -> Organisation:
    """Create the departments and the 37 users of the demo company, with their roles.

    Args:
        rng: Random stream for names.
        taken_names: Person names already used; new names are added to it.

    Returns:
        The organisation: 1 admin, 4 exec sponsors (role ``executive``), 3 team leads (``team_lead``,
        heads of the three sales teams), 1 KAM office coordinator (``kam_office``), 8 RMs (``rm``)
        and 20 experts (``expert``) in 9 departments, the first expert of each also its head
        (``department_head``). :func:`add_risk_officer` adds the 38th user.
    """
    users: list[Row] = [
        {
            "id": 1,
            "login": "admin",
            "name": "系统管理员",
            "email": "admin@example.com",
            "department": None,
            "roles": ["admin"],
        }
    ]
    logins = {"admin"}

    def add(department: int, *roles: str) -> int:
        users.append(_user(rng, len(users) + 1, department, roles, taken_names, logins))
        return len(users)

    sponsors = tuple(add(2, "executive") for _ in range(4))
    leads = tuple(add(team, "team_lead") for team in SALES_TEAMS)
    coordinator = add(7, "kam_office")
    rms = tuple(add(SALES_TEAMS[i % 3], "rm") for i in range(8))
    department_id = {key: i for i, _, _, key in DEPARTMENTS if i >= 8}
    experts = {
        key: tuple(add(department_id[key], "expert", *(("department_head",) if n == 0 else ())) for n in range(count))
        for key, count in EXPERTS_PER_DEPARTMENT.items()
    }
    heads = {1: sponsors[0], 2: sponsors[0], 7: coordinator} | dict(zip(SALES_TEAMS, leads, strict=True))
    heads |= {department_id[key]: members[0] for key, members in experts.items()}
    departments = [
        {"id": i, "name": name, "parent": parent, "head": heads.get(i)} for i, name, parent, _ in DEPARTMENTS
    ]
    lead_of = {rm: leads[i % 3] for i, rm in enumerate(rms)}
    staff = Staff(
        admin=1, sponsors=sponsors, leads=leads, coordinator=coordinator, rms=rms, experts=experts, lead_of=lead_of
    )
    return Organisation(departments=departments, users=users, staff=staff)


def add_risk_officer(rng: random.Random, organisation: Organisation, taken_names: set[str]) -> None:
    """Append the risk officer (风控部, role ``risk_officer``): not on any account team.

    Called after the contacts are drawn, so the extra name leaves the rest of the data as it was.
    """
    users = organisation.users
    logins = {u["login"] for u in users}
    risk = next(i for i, _, _, key in DEPARTMENTS if key == "risk")
    users.append(_user(rng, len(users) + 1, risk, ("risk_officer",), taken_names, logins))


def _user(
    rng: random.Random, user_id: int, department: int, roles: tuple[str, ...], taken_names: set[str], logins: set[str]
) -> Row:
    name, surname_py, given_py = person_name(rng, taken_names)
    login = f"{surname_py}.{given_py}"
    while login in logins:
        login += "1"
    logins.add(login)
    return {
        "id": user_id,
        "login": login,
        "name": name,
        "email": f"{login}@example.com",
        "department": department,
        "roles": list(roles),
    }


def build_catalog() -> list[Row]:
    """Return the product_catalog rows (ids 1..n in catalog order)."""
    rows: list[Row] = []
    for i, (code, name, category, stages, min_tier, active) in enumerate(CATALOG, start=1):
        rows.append(
            {
                "id": i,
                "code": code,
                "name": name,
                "category": category,
                "suitable_stages": stages,
                "min_tier": min_tier,
                "description": f"{CATEGORY_BLURB[category]}：{name}",
                "is_active": active,
            }
        )
    return rows
