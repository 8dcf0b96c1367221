"""The KAM starter's roles, over the real API: every role x every form x every action x (own, other's record).

A small hand-made data set (two accounts, one record of every child form on each) is installed with
the starter into a fresh database per backend and served by a real uvicorn server. Every user calls
the API with their own token. What they may do is written out below in :data:`MATRIX`, by hand,
from the role design in ``templates/kam_starter/roles/`` and ``TODO.md`` -- never computed by the
code under test.

Legend of a :data:`MATRIX` cell: ``[C] own/other``. ``C``: may create records of the form. ``own``
and ``other``: what the user may do with the record on their own account (``A``: the account whose
primary RM is ``rm_a`` and whose team ``expert_s``, ``expert_n`` and, until 2020, ``rm_old`` are on)
and on the other account (``B``, ``rm_b``'s): ``R`` read, ``U`` update, ``D`` delete, ``X`` export,
``-`` nothing. For ``product_catalog`` the two records are two catalog items; ``kam_settings`` has
one record, both sides.

Expected answers: 200/201/204 when allowed; 404 ``unknown_record`` for a record the user may not read
(its existence does not leak); 403 for an action on a readable record the role may not take; lists
hold exactly the readable records; hidden fields are absent from records and list items. Exporting has
no API yet: it is checked through ``actions`` of ``GET /api/v1/forms`` and ``GET /api/v1/access/explain``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.identity import directory
from engine.identity.auth import Authenticator
from engine.issues import NotFoundError
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.catalog import Catalog
from forms.install import install_bundle
from forms.records import SYSTEM_ACTOR, RecordsService

pytestmark = pytest.mark.pg

STARTER = Path(__file__).parents[2] / "templates" / "kam_starter"
ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"

FORMS = (
    "account",
    "contact",
    "account_team_member",
    "interaction",
    "opportunity",
    "account_financial_monthly",
    "account_relation",
    "sentiment_event",
    "product_catalog",
    "kam_settings",
)
USERS: dict[str, list[str]] = {
    "rm_a": ["rm"],
    "rm_b": ["rm"],
    "rm_old": ["rm"],  # was on account A's team until 2020: no longer sees it
    "expert_s": ["expert"],  # on A's team with sensitive_access
    "expert_n": ["expert"],  # on A's team without it
    "lead": ["team_lead"],
    "dept_head": ["department_head"],
    "risk": ["risk_officer"],
    "office": ["kam_office"],
    "exec": ["executive"],
    "admin": ["admin"],
    "norole": [],
}
ROLE_USERS = ("rm_a", "rm_old", "expert_s", "expert_n", "lead", "dept_head", "risk", "office", "exec", "admin")

MATRIX_TEXT = """
form                       rm_a      rm_old   expert_s  expert_n  lead
account                    C:RU/-    C:-/-    R/-       R/-       R/R
contact                    C:RUD/-   C:-/-    R/-       R/-       R/R
account_team_member        R/-       -/-      R/-       R/-       C:RU/RU
interaction                C:RUD/-   C:-/-    C:R/-     C:R/-     R/R
opportunity                C:RUD/-   C:-/-    R/-       R/-       R/R
account_financial_monthly  R/-       -/-      R/-       -/-       R/R
account_relation           C:RUD/-   C:-/-    R/-       R/-       R/R
sentiment_event            C:RU/-    C:-/-    C:R/-     C:R/-     R/R
product_catalog            R/R       R/R      R/R       R/R       R/R
kam_settings               R/R       R/R      R/R       R/R       R/R

form                       dept_head  risk        office         exec   admin
account                    R/R        RUX/RUX     C:RUX/RUX      RX/RX  C:RUDX/RUDX
contact                    R/R        R/R         C:RUX/RUX      RX/RX  C:RUDX/RUDX
account_team_member        C:RU/RU    R/R         C:RUDX/RUDX    RX/RX  C:RUDX/RUDX
interaction                R/R        R/R         C:RUX/RUX      RX/RX  C:RUDX/RUDX
opportunity                R/R        R/R         C:RUX/RUX      RX/RX  C:RUDX/RUDX
account_financial_monthly  R/R        RX/RX       C:RUX/RUX      RX/RX  C:RUDX/RUDX
account_relation           R/R        RUX/RUX     C:RUX/RUX      RX/RX  C:RUDX/RUDX
sentiment_event            R/R        C:RUX/RUX   C:RUX/RUX      RX/RX  C:RUDX/RUDX
product_catalog            R/R        R/R         C:RUDX/RUDX    RX/RX  C:RUDX/RUDX
kam_settings               R/R        R/R         RU/RU          RX/RX  C:RUDX/RUDX
"""

SENSITIVE = frozenset({"personal_preferences", "preference_notes", "birthday"})
FINANCIALS = frozenset(
    {
        "revenue_12m", "revenue_prev_12m", "revenue_growth_yoy", "revenue_3m_yoy", "gross_profit_12m",
        "gross_margin_12m", "revenue_share_of_total", "wallet_share", "customer_category_spend", "latest_period",
        "receivables", "overdue_amount", "max_days_past_due", "dso_latest", "cust_ccc_gap", "cross_border_share",
        "credit_limit", "contract_payment_days", "contract_end_date",
    }
)  # fmt: skip
WATCHED = {"contact": SENSITIVE, "account": FINANCIALS}
"""Fields some roles do not see, per form; HIDDEN says which are absent for whom."""
NO_SENSITIVE = {"own": SENSITIVE, "other": SENSITIVE}
HIDDEN: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    # contact personal data: only active team members with sensitive_access (rm_a and expert_s on A), admin
    ("expert_n", "contact"): {"own": SENSITIVE},
    ("lead", "contact"): NO_SENSITIVE,
    ("dept_head", "contact"): NO_SENSITIVE,
    ("risk", "contact"): NO_SENSITIVE,
    ("office", "contact"): NO_SENSITIVE,
    ("exec", "contact"): NO_SENSITIVE,
    # account financials: experts only with sensitive_access
    ("expert_n", "account"): {"own": FINANCIALS},
}
UPDATES: dict[str, dict[str, Any]] = {
    "account": {"short_name": "简称"},
    "contact": {"title": "副总经理"},
    "account_team_member": {"access_level": "edit"},
    "interaction": {"next_step": "再次拜访"},
    "opportunity": {"competitors": "某竞争对手"},
    "account_financial_monthly": {"orders_count": 12},
    "account_relation": {"source": "工商信息"},
    "sentiment_event": {"summary": "已核实"},
    "product_catalog": {"description": "更新说明"},
    "kam_settings": {"service_standard_general": "季度回访"},
}
UPDATES_AS = {  # the risk officer changes risk fields only
    ("risk", "account"): {"credit_limit": 5_000_000},
    ("risk", "account_relation"): {"related_risk_status": "watch"},
}


@dataclass(frozen=True)
class Cell:
    create: bool
    own: str
    other: str

    def side(self, side: str) -> str:
        return self.own if side == "own" else self.other

    def actions(self) -> list[str]:
        """The form's actions as ``GET /api/v1/forms`` lists them for this user."""
        letters = self.own + self.other
        named = {"create": self.create, "read": "R" in letters, "update": "U" in letters}
        named |= {"delete": "D" in letters, "export": "X" in letters}
        return [action for action, allowed in named.items() if allowed]


def _matrix() -> dict[str, dict[str, Cell]]:
    table: dict[str, dict[str, Cell]] = {}
    for block in MATRIX_TEXT.strip().split("\n\n"):
        lines = [line.split() for line in block.splitlines()]
        header, rows = lines[0][1:], lines[1:]
        for form, *cells in rows:
            for user, text in zip(header, cells, strict=True):
                create, _, sides = text.rpartition(":")
                own, other = (s.replace("-", "") for s in sides.split("/"))
                table.setdefault(user, {})[form] = Cell(create == "C", own, other)
    return table


MATRIX = _matrix()


def test_the_matrix_covers_every_role_user_and_form() -> None:
    assert sorted(MATRIX) == sorted(ROLE_USERS)
    assert all(sorted(cells) == sorted(FORMS) for cells in MATRIX.values())
    roles = {role for user in ROLE_USERS for role in USERS[user]}
    assert roles == {p.stem for p in (STARTER / "roles").glob("*.json")}


# ---------------------------------------------------------------------------------------- the site


@dataclass
class Site:
    """The served starter, its records by form and side, and one API client per user."""

    url: str
    database: Database
    records: RecordsService
    users: dict[str, int]
    ids: dict[str, dict[str, list[int]]]  # form -> "own"/"other" -> ids (the first is *the* record)
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def main(self, form: str, side: str) -> int:
        return self.ids[form][side][0]

    def version(self, form: str, record_id: int) -> int:
        return int(self.records.get(form, record_id, actor=SYSTEM_ACTOR)["version"])

    def account(self, side: str) -> int:
        return self.main("account", side)


def _check(response: httpx.Response) -> None:
    """A response hook: no answer may be a 5xx or leak a traceback."""
    response.read()
    if response.status_code >= 500:
        time.sleep(0.5)  # let the server thread log its traceback first (see tests/web/api_checks.py)
    assert response.status_code < 500, f"{response.request.method} {response.request.url}: {response.text}"
    assert "Traceback" not in response.text


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}, event_hooks={"response": [_check]}
    )


SETTINGS = {
    "w_history": 0.4, "w_potential": 0.35, "w_strategic": 0.25, "cut_strategic": 80, "cut_core": 65,
    "cut_important": 50, "gate_strategic_revenue": 10_000_000, "gate_strategic_score": 70,
    "cadence_strategic_days": 30, "cadence_core_days": 45, "cadence_important_days": 60,
    "cadence_general_days": 90,
}  # fmt: skip


def sample(form: str, site: Site, side: str, n: str) -> dict[str, Any]:
    """A valid new record of ``form`` on the ``side`` account (``n`` keeps unique values apart)."""
    account = next(iter(site.ids.get("account", {}).get(side, [])), None)
    product = next(iter(site.ids.get("product_catalog", {}).get("own", [])), None)
    u = site.users
    return {
        "account": {
            "name": f"客户{n}", "industry": "it", "region": "east", "customer_since": "2020-01-01",
            "primary_rm": u["rm_a"] if side == "own" else u["rm_b"], "tier": "general", "status": "active",
            "tier_override_reason": "测试数据",
        },
        "contact": {
            "account": account, "name": f"联系人{n}", "title": "财务总监", "department": "finance",
            "seniority": "c_level", "decision_role": ["economic_buyer"], "attitude": "supporter", "status": "active",
        },
        "account_team_member": {
            "account": account, "user": u["norole"], "team_role": "delivery", "department": "delivery",
            "membership_type": "project", "access_level": "read",
        },
        "interaction": {
            "account": account, "date": "2024-05-06T10:00:00", "type": "visit", "topic": f"拜访{n}",
            "summary": "纪要",
        },
        "opportunity": {
            "account": account, "name": f"商机{n}", "product": product,
            "amount": 100_000, "stage": "identify", "expected_close": "2030-01-01", "owner": u["rm_a"],
            "source": "client_request",
        },
        "account_financial_monthly": {
            "account": account, "period": _next_period(), "revenue": 1000, "collections": 900,
        },
        "account_relation": {
            "account": account, "related_account": account, "relation_type": "partner", "source": n,
        },
        "sentiment_event": {
            "account": account, "title": f"事件{n}", "event_date": "2024-05-01", "event_type": "penalty",
            "sentiment": "negative",
        },
        "product_catalog": {"code": f"TST-{next(_CODES) % 1000:03d}", "name": f"产品{n}"},
        "kam_settings": dict(SETTINGS),
    }[form]  # fmt: skip


_MONTHS = itertools.count()
_CODES = itertools.count(1)


def _next_period() -> str:
    """A month no other monthly row of the account has (account + period is unique)."""
    months = next(_MONTHS)
    return dt.date(1990 + months // 12, 1 + months % 12, 1).isoformat()


def _root_conftest(config: pytest.Config) -> ModuleType:
    module = config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    assert isinstance(module, ModuleType)
    return module


def _install(url: str) -> Site:
    """The starter, the users with their roles and tokens, and the hand-made records."""
    database = Database(url)
    ensure_current(database)
    bundle, issues = load_bundle(STARTER)
    assert bundle is not None, [issue.render() for issue in issues]
    assert install_bundle(database, bundle, apply=True).applied
    with database.begin() as connection:
        users = {
            login: directory.create_user(connection, login=login, name=login, roles=roles)
            for login, roles in USERS.items()
        }
    records = RecordsService(database=database, catalog=Catalog(database))
    assert records.policy.scope_problems() == []  # every row scope of the starter compiles to SQL
    site = Site("", database, records, users, {})

    def add(form: str, side: str, values: dict[str, Any]) -> int:
        record_id = int(records.create(form, values, actor=SYSTEM_ACTOR)["id"])
        site.ids.setdefault(form, {"own": [], "other": []})[side].append(record_id)
        return record_id

    def member(side: str, user: str, sensitive: bool, **values: Any) -> None:
        role = {"team_role": "rm", "department": "sales"} if user.startswith("rm") else {}
        role = role or {"team_role": "risk_control", "department": "risk"}
        values |= {"membership_type": "standing", "access_level": "all", "sensitive_access": sensitive}
        add("account_team_member", side, {"account": site.account(side), "user": users[user], **role, **values})

    add("kam_settings", "own", SETTINGS)
    site.ids["kam_settings"]["other"] = site.ids["kam_settings"]["own"]
    add("product_catalog", "own", {"code": "SCF-001", "name": "供应链金融"})
    add("product_catalog", "other", {"code": "FIN-001", "name": "跨境结算"})
    for side, name, rm in (("own", "华东精密制造", "rm_a"), ("other", "华南新能源", "rm_b")):
        add("account", side, {**sample("account", site, side, name), "name": name, "primary_rm": users[rm]})
    member("own", "rm_a", True)
    member("other", "rm_b", True)
    member("own", "rm_old", True, start_date="2018-01-01", end_date="2020-06-30")
    member("own", "expert_s", True)
    member("own", "expert_n", False)
    personal = {"birthday": "1975-03-08", "personal_preferences": ["golf"], "preference_notes": "喜欢周末打高尔夫"}
    for side in ("own", "other"):
        add("contact", side, {**sample("contact", site, side, side), **personal})
        for form in ("interaction", "opportunity", "sentiment_event"):
            add(form, side, sample(form, site, side, side))
        monthly = sample("account_financial_monthly", site, side, side)
        add("account_financial_monthly", side, {**monthly, "period": "2024-04-01"})
    own, other = site.account("own"), site.account("other")
    add("account_relation", "own", {"account": own, "related_account": other, "relation_type": "supplier"})
    add("account_relation", "other", {"account": other, "related_account": own, "relation_type": "customer"})
    authenticator = Authenticator(database)
    site.clients = {login: _client("", authenticator.create_token(uid, "tests")[0]) for login, uid in users.items()}
    return site


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The starter with the hand-made records, served by uvicorn, on a fresh database per backend."""
    root = _root_conftest(request.config)
    folder = tmp_path_factory.mktemp(f"kam-perms-{request.param}")
    with root.fresh_database_url(request.param, folder) as url:
        built = _install(url)
        server = root.LiveServer(url, folder / "files").start()
        for client in built.clients.values():
            client.base_url = httpx.URL(server.url)
        built.url = server.url
        try:
            yield built
        finally:
            server.stop()
            server.server.config.app.state.services.database.dispose()
            for client in built.clients.values():
                client.close()
            built.database.dispose()


# ---------------------------------------------------------------------------------------- helpers


def _error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body: dict[str, Any] = response.json()
    assert body["ok"] is False and body["status"] == status, body
    if code is not None:
        assert body["code"] == code, body
    return body


def _hidden(user: str, form: str, side: str) -> frozenset[str]:
    return HIDDEN.get((user, form), {}).get(side, frozenset())


def _assert_fields(record: dict[str, Any], user: str, form: str, side: str, where: str) -> None:
    """The watched fields of ``form`` are all there except the ones hidden from ``user``."""
    watched = WATCHED.get(form, frozenset())
    absent = watched - set(record)
    assert absent == _hidden(user, form, side), f"{where}: hidden {sorted(absent)}"


def _cleanup(site: Site, form: str, record_id: int) -> None:
    with contextlib.suppress(NotFoundError):  # already deleted by the API call under test
        site.records.delete(form, record_id, version=None, actor=SYSTEM_ACTOR)


def _new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:8]


# ---------------------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("user", ROLE_USERS)
def test_forms_list_the_actions_of_the_role(site: Site, user: str) -> None:
    """GET /api/v1/forms: every form, with exactly the actions the role grants (export included)."""
    representative = {"rm_old": "rm_a", "expert_n": "expert_s"}.get(user, user)  # same role, other records
    answer = site.clients[user].get("/api/v1/forms")
    assert answer.status_code == 200, answer.text
    actions = {item["key"]: item["actions"] for item in answer.json()["items"]}
    assert sorted(actions) == sorted(FORMS)
    for form in FORMS:
        expected = MATRIX[representative][form].actions() + (["manage"] if user == "admin" else [])
        assert actions[form] == expected, (user, form)


@pytest.mark.parametrize("user", ROLE_USERS)
def test_reads_lists_and_explain_follow_the_matrix(site: Site, user: str) -> None:
    client, problems = site.clients[user], []
    for form in FORMS:
        cell = MATRIX[user][form]
        for side in ("own", "other"):
            record_id, letters = site.main(form, side), cell.side(side)
            answer = client.get(f"/api/v1/forms/{form}/records/{record_id}")
            if "R" in letters:
                if answer.status_code != 200:
                    problems.append(f"{form} {side}: read answered {answer.status_code}")
                else:
                    _assert_fields(answer.json()["record"], user, form, side, f"{user} {form} {side}")
            elif answer.status_code != 404 or answer.json()["code"] != "unknown_record":
                problems.append(f"{form} {side}: unreadable record answered {answer.status_code} {answer.text}")
            if side == "own" or "X" in cell.own + cell.other:  # explain is slow: the side that matters
                explained = client.get("/api/v1/access/explain", params={"form": form, "record": record_id}).json()
                for action, letter in (("read", "R"), ("update", "U"), ("delete", "D"), ("export", "X")):
                    if explained["actions"][action]["allowed"] != (letter in letters):
                        problems.append(f"{form} {side}: explain says {action} {explained['actions'][action]}")
        listed = client.get(f"/api/v1/forms/{form}/records", params={"limit": 500})
        assert listed.status_code == 200, listed.text
        items = {item["id"]: item for item in listed.json()["items"]}
        expected = {i for side in ("own", "other") if "R" in cell.side(side) for i in site.ids[form][side]}
        if set(items) != expected:
            problems.append(f"{form}: list holds {sorted(items)}, expected {sorted(expected)}")
        for side in ("own", "other"):
            if site.main(form, side) in items:
                _assert_fields(items[site.main(form, side)], user, form, side, f"{user} {form} list {side}")
    assert not problems, f"{user}: " + "; ".join(problems)


@pytest.mark.parametrize("user", ROLE_USERS)
def test_updates_follow_the_matrix(site: Site, user: str) -> None:
    client, problems = site.clients[user], []
    for form in FORMS:
        cell = MATRIX[user][form]
        body = UPDATES_AS.get((user, form), UPDATES[form])
        for side in ("own", "other"):
            record_id, letters = site.main(form, side), cell.side(side)
            if form == "kam_settings" and side == "other":
                continue  # one record
            version = site.version(form, record_id)
            answer = client.patch(
                f"/api/v1/forms/{form}/records/{record_id}", json=body, headers={"If-Match": f'"{version}"'}
            )
            expected = 200 if "U" in letters else 403 if "R" in letters else 404
            if answer.status_code != expected:
                problems.append(f"{form} {side}: update answered {answer.status_code}, expected {expected}")
            elif expected == 404 and answer.json()["code"] != "unknown_record":
                problems.append(f"{form} {side}: 404 with code {answer.json()['code']}")
            elif expected == 200:
                _assert_fields(answer.json()["record"], user, form, side, f"{user} {form} update {side}")
    assert not problems, f"{user}: " + "; ".join(problems)


@pytest.mark.parametrize("user", ROLE_USERS)
def test_deletes_follow_the_matrix(site: Site, user: str) -> None:
    """Allowed deletes remove a record made for the test; refused ones leave the record alone."""
    client, problems = site.clients[user], []
    for form in FORMS:
        cell = MATRIX[user][form]
        for side in ("own", "other"):
            letters = cell.side(side)
            if "D" in letters:
                target = int(site.records.create(form, sample(form, site, side, _new_id()), actor=SYSTEM_ACTOR)["id"])
            else:
                target = site.main(form, side)
            answer = client.delete(f"/api/v1/forms/{form}/records/{target}")
            expected = 204 if "D" in letters else 403 if "R" in letters else 404
            if answer.status_code != expected:
                problems.append(f"{form} {side}: delete answered {answer.status_code}, expected {expected}")
            if "D" in letters:
                _cleanup(site, form, target)
            else:
                site.records.get(form, target, actor=SYSTEM_ACTOR)  # still there
    assert not problems, f"{user}: " + "; ".join(problems)


@pytest.mark.parametrize("user", ROLE_USERS)
def test_creates_follow_the_matrix(site: Site, user: str) -> None:
    client, problems = site.clients[user], []
    for form in FORMS:
        cell = MATRIX[user][form]
        body = sample(form, site, "own", _new_id())
        if form == "account":
            body["primary_rm"] = site.users[user]
        answer = client.post(f"/api/v1/forms/{form}/records", json=body)
        expected = 201 if cell.create else 403
        if expected == 201 and "account" in body and form != "account" and "R" not in MATRIX[user]["account"].own:
            expected = 422  # rm_old may create, but not on an account they cannot read (not_found_reference)
        if answer.status_code != expected:
            problems.append(f"{form}: create answered {answer.status_code}, expected {expected}: {answer.text}")
        if answer.status_code == 201:
            _cleanup(site, form, answer.json()["record"]["id"])
    assert not problems, f"{user}: " + "; ".join(problems)


SCOPED_CREATORS = [
    (user, form)
    for user in ROLE_USERS
    for form in FORMS
    if MATRIX[user][form].create and "R" not in MATRIX[user]["account"].other and form != "account"
]


@pytest.mark.parametrize(("user", "form"), SCOPED_CREATORS)
def test_a_record_on_an_unreadable_account_fails_as_if_it_did_not_exist(site: Site, user: str, form: str) -> None:
    """The relation picker's rule on write: an account the user cannot read is a missing account."""
    client = site.clients[user]
    other = site.account("other")
    missing = 10**9
    answers = []
    for account in (other, missing):
        body = {**sample(form, site, "own", _new_id()), "account": account}
        if form == "account_relation":
            body["related_account"] = account
        answers.append(_error(client.post(f"/api/v1/forms/{form}/records", json=body), 422))
    hidden, absent = answers
    fields = {"account", "related_account"} if form == "account_relation" else {"account"}
    assert {i["field"]: i["code"] for i in hidden["issues"]} == dict.fromkeys(fields, "not_found_reference"), hidden
    assert hidden["error"].replace(str(other), "?") == absent["error"].replace(str(missing), "?")
    shown = [{**i, "message": i["message"].replace(str(other), "?")} for i in hidden["issues"]]
    assert shown == [{**i, "message": i["message"].replace(str(missing), "?")} for i in absent["issues"]]


# ---------------------------------------------------------------------------------------- details


def test_a_user_without_a_role_sees_no_form(site: Site) -> None:
    client = site.clients["norole"]
    assert client.get("/api/v1/forms").json()["items"] == []
    for form in FORMS:
        _error(client.get(f"/api/v1/forms/{form}/records"), 404, "no_role")
        _error(client.get(f"/api/v1/forms/{form}/records/{site.main(form, 'own')}"), 404, "no_role")
        _error(client.post(f"/api/v1/forms/{form}/records", json=sample(form, site, "own", _new_id())), 404, "no_role")


def test_relation_pickers_offer_only_readable_accounts(site: Site) -> None:
    """A picker lists the target form: the user's readable accounts, and expanded titles only of those."""
    own, other = site.account("own"), site.account("other")
    pickers = {"rm_a": {own}, "rm_b": {other}, "rm_old": set(), "expert_n": {own}, "lead": {own, other}}
    for user, accounts in pickers.items():
        picked = site.clients[user].get("/api/v1/forms/account/records", params={"limit": 500, "q": "华"})
        assert {item["id"] for item in picked.json()["items"]} == accounts, user
    relation = site.clients["rm_a"].get(
        "/api/v1/forms/account_relation/records", params={"expand": "account,related_account", "limit": 500}
    )
    (item,) = relation.json()["items"]
    assert item["account"] == {"id": own, "title": "华东精密制造"}
    assert item["related_account"] == {"id": other, "title": None}  # B exists, but rm_a may not read it


def test_sensitive_contact_fields_follow_the_team_membership(site: Site) -> None:
    contact = site.main("contact", "own")
    url = f"/api/v1/forms/contact/records/{contact}"
    assert site.clients["expert_s"].get(url).json()["record"]["birthday"] == "1975-03-08"
    assert SENSITIVE.isdisjoint(site.clients["expert_n"].get(url).json()["record"])
    for params in ({"filter": "birthday:is_empty:false"}, {"sort": "birthday"}):  # filtering would reveal them
        _error(site.clients["expert_n"].get("/api/v1/forms/contact/records", params=params), 422, "bad_filter")
    # refused too for expert_s, who sees them on A: their role hides them on other records they might read
    _error(site.clients["expert_s"].get("/api/v1/forms/contact/records", params={"sort": "birthday"}), 422)
    assert site.clients["admin"].get("/api/v1/forms/contact/records", params={"sort": "birthday"}).status_code == 200
    history = site.clients["expert_n"].get(f"{url}/history").json()["items"]
    assert history and all(SENSITIVE.isdisjoint(entry["changes"] or {}) for entry in history)
    # rm_a may change them on A (their membership has sensitive_access), the KAM office may not
    version = site.version("contact", contact)
    changed = site.clients["rm_a"].patch(url, json={"preference_notes": "喜欢茶"}, headers={"If-Match": str(version)})
    assert changed.status_code == 200, changed.text
    refused = site.clients["office"].patch(url, json={"birthday": "1970-01-01"}, headers={"If-Match": str(version + 1)})
    assert {i["field"] for i in _error(refused, 403, "field_forbidden")["issues"]} == {"birthday"}
    # creating is not row-scoped, so a new contact cannot carry them (set them afterwards, as a team member)
    body = {**sample("contact", site, "own", _new_id()), "birthday": "1980-01-01"}
    _error(site.clients["rm_a"].post("/api/v1/forms/contact/records", json=body), 403, "field_forbidden")


def test_read_only_fields_per_role(site: Site) -> None:
    account = site.account("own")
    url = f"/api/v1/forms/account/records/{account}"
    for user, body in (
        ("rm_a", {"tier": "core"}),
        ("rm_a", {"primary_rm": site.users["rm_b"]}),
        ("rm_a", {"credit_limit": 1}),
        ("risk", {"short_name": "风控改名"}),
        ("risk", {"tier": "core"}),
    ):
        answer = site.clients[user].patch(url, json=body, headers={"If-Match": str(site.version("account", account))})
        assert {i["field"] for i in _error(answer, 403, "field_forbidden")["issues"]} == set(body), (user, body)
    relation = site.main("account_relation", "own")
    answer = site.clients["risk"].patch(
        f"/api/v1/forms/account_relation/records/{relation}",
        json={"relation_type": "partner"},
        headers={"If-Match": str(site.version("account_relation", relation))},
    )
    _error(answer, 403, "field_forbidden")


def test_an_ended_membership_stops_granting_access(site: Site) -> None:
    """rm_old's membership of A ended in 2020; ending rm_b's membership changes nothing: rm_b is the primary RM."""
    assert site.clients["rm_old"].get("/api/v1/forms/account/records").json()["items"] == []
    member = site.ids["account_team_member"]["other"][0]
    today = dt.date.today()
    site.records.update(
        "account_team_member", member, {"end_date": (today - dt.timedelta(days=1)).isoformat()},
        version=site.version("account_team_member", member), actor=SYSTEM_ACTOR,
    )  # fmt: skip
    try:
        rm_b = site.clients["rm_b"]
        assert [i["id"] for i in rm_b.get("/api/v1/forms/account/records").json()["items"]] == [site.account("other")]
        contact = rm_b.get(f"/api/v1/forms/contact/records/{site.main('contact', 'other')}").json()["record"]
        assert SENSITIVE.isdisjoint(contact)  # personal data needs an *active* membership with sensitive_access
    finally:
        site.records.update(
            "account_team_member", member, {"end_date": None},
            version=site.version("account_team_member", member), actor=SYSTEM_ACTOR,
        )  # fmt: skip
