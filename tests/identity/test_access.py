"""Row scopes, field rules and actions of roles, enforced by the records service and the lister."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tessera_testing import Services, install

from engine.definitions import load_bundle
from engine.identity import directory
from engine.identity.principal import Principal
from engine.issues import ForbiddenError, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.database import Database
from forms.access import explain
from forms.listing import FilterSpec, ListQuery
from forms.records import SYSTEM_ACTOR, Actor

pytestmark = pytest.mark.pg

ACCOUNT = {
    "title_field": "name",
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {"key": "owner", "type": "user", "label": "Owner"},
        {"key": "revenue", "type": "number", "label": "Revenue"},
        {"key": "secret_note", "type": "text", "label": "Secret"},
    ],
}
MEMBER = {
    "fields": [
        {"key": "account", "type": "relation", "target": "account", "label": "Account", "related_name": "members"},
        {"key": "user", "type": "user", "label": "User"},
    ]
}
CONTACT = {
    "title_field": "name",
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {"key": "account", "type": "relation", "target": "account", "label": "Account"},
        {"key": "birthday", "type": "date", "label": "Birthday"},
    ],
}
TEAM_SCOPE = "owner = CURRENT_USER() OR CURRENT_USER() IN (members.user)"
ROLES: dict[str, dict[str, Any]] = {
    "rm": {
        "permissions": [
            {
                "form": "account",
                "actions": ["read", "create", "update"],
                "rows": TEAM_SCOPE,
                "fields": {"readonly": ["revenue"], "hidden": ["secret_note"]},
            },
            {
                "form": "contact",
                "actions": ["read", "create", "update"],
                "rows_via": "account",
                "fields": {"hidden": ["birthday"]},
            },
            {"form": "member", "actions": ["read"], "rows_via": "account"},
        ]
    },
    "viewer": {
        "permissions": [
            {"form": "account", "actions": ["read"], "fields": {"hidden": ["secret_note"]}},
            {"form": "contact", "actions": ["read"], "fields": {"hidden": ["birthday"]}},
        ]
    },
    "close_contacts": {  # sees birthdays only on the contacts of their own accounts
        "permissions": [
            {"form": "contact", "actions": ["read"], "rows": "account.owner = CURRENT_USER()"},
            {"form": "contact", "actions": ["read"], "fields": {"hidden": ["birthday"]}},
        ]
    },
    "contacts_only": {"permissions": [{"form": "contact", "actions": ["read"]}]},
    "manager": {"permissions": [{"form": "*", "actions": ["read", "update", "delete", "create"]}]},
    "boss": {"admin": True},
}


def write_roles(root: Path, roles: dict[str, dict[str, Any]]) -> Path:
    (root / "roles").mkdir(exist_ok=True)
    for key, role in roles.items():
        document = {"kind": "role", "key": key, "schema_version": 1, "label": key, **role}
        (root / "roles" / f"{key}.json").write_text(json.dumps(document), encoding="utf-8")
    return root


class World:
    """The installed app, its users (one per role, by role key) and records."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.users: dict[str, Principal] = {}
        with svc.database.begin() as connection:
            for key in [*ROLES, "nobody"]:
                user_id = directory.create_user(
                    connection, login=key, name=key.title(), roles=[key] if key in ROLES else []
                )
                found = directory.principal(connection, user_id)
                assert found is not None
                self.users[key] = found
        create = svc.records.create
        rm, other = self.users["rm"].user_id, self.users["viewer"].user_id
        self.own = create(
            "account", {"name": "Own", "owner": rm, "revenue": 10, "secret_note": "s1"}, actor=SYSTEM_ACTOR
        )
        self.team = create("account", {"name": "Team", "owner": other, "revenue": 20}, actor=SYSTEM_ACTOR)
        self.other = create("account", {"name": "Other", "owner": other, "revenue": 30}, actor=SYSTEM_ACTOR)
        create("member", {"account": self.team["id"], "user": rm}, actor=SYSTEM_ACTOR)
        create("member", {"account": self.other["id"], "user": other}, actor=SYSTEM_ACTOR)
        day = "1990-05-01"
        self.own_contact = create(
            "contact", {"name": "C-own", "account": self.own["id"], "birthday": day}, actor=SYSTEM_ACTOR
        )
        self.other_contact = create(
            "contact", {"name": "C-other", "account": self.other["id"], "birthday": day}, actor=SYSTEM_ACTOR
        )
        self.close_owner_contact = create(
            "contact", {"name": "C-close", "account": self.team["id"], "birthday": day}, actor=SYSTEM_ACTOR
        )

    def actor(self, role: str) -> Actor:
        return Actor(locale="en", principal=self.users[role], via="api")

    def ids(self, role: str, form: str, **query: Any) -> list[int]:
        access = self.svc.records.policy.access(self.users[role], form)
        with self.svc.database.read() as connection:
            page = self.svc.lister.page(
                connection, self.svc.catalog.form(form), ListQuery(limit=100, **query), "en", access=access
            )
        return sorted(item["id"] for item in page.items)

    def page(self, role: str, form: str, **query: Any) -> list[dict[str, Any]]:
        access = self.svc.records.policy.access(self.users[role], form)
        with self.svc.database.read() as connection:
            page = self.svc.lister.page(
                connection, self.svc.catalog.form(form), ListQuery(limit=100, **query), "en", access=access
            )
        return page.items


@pytest.fixture
def world(database: Database, make_bundle: Callable[..., Path], services: Services) -> World:
    root = write_roles(make_bundle({"account": ACCOUNT, "member": MEMBER, "contact": CONTACT}), ROLES)
    assert install(database, root).applied
    return World(services)


def test_lists_hold_only_the_rows_in_scope(world: World) -> None:
    assert world.ids("rm", "account") == sorted([world.own["id"], world.team["id"]])
    assert world.ids("viewer", "account") == sorted([world.own["id"], world.team["id"], world.other["id"]])
    assert world.ids("rm", "contact") == sorted([world.own_contact["id"], world.close_owner_contact["id"]])
    assert len(world.ids("rm", "member")) == 1
    assert world.ids("manager", "account") == world.ids("boss", "account") == world.ids("viewer", "account")
    assert world.ids("contacts_only", "account") == []


def test_a_record_out_of_scope_is_not_found_and_one_without_the_action_is_forbidden(world: World) -> None:
    records = world.svc.records
    assert records.get("account", world.own["id"], actor=world.actor("rm"))["name"] == "Own"
    with pytest.raises(NotFoundError) as hidden:
        records.get("account", world.other["id"], actor=world.actor("rm"))
    with pytest.raises(NotFoundError) as missing:
        records.get("account", 987654, actor=world.actor("rm"))
    assert (hidden.value.code, hidden.value.message.replace(str(world.other["id"]), "N")) == (
        missing.value.code,
        missing.value.message.replace("987654", "N"),
    ), "a hidden record and a missing one answer alike"
    with pytest.raises(NotFoundError):
        records.update("account", world.other["id"], {"name": "x"}, version=1, actor=world.actor("rm"))
    with pytest.raises(ForbiddenError) as forbidden:
        records.update("account", world.other["id"], {"name": "x"}, version=1, actor=world.actor("viewer"))
    assert forbidden.value.code == "forbidden"
    with pytest.raises(ForbiddenError):
        records.delete("account", world.own["id"], version=1, actor=world.actor("rm"))
    with pytest.raises(NotFoundError):
        records.delete("account", world.other["id"], version=1, actor=world.actor("rm"))
    records.delete("contact", world.other_contact["id"], version=1, actor=world.actor("manager"))


def test_a_user_without_roles_sees_nothing_with_a_clear_message(world: World) -> None:
    with pytest.raises(NotFoundError) as caught:
        world.svc.records.get("account", world.own["id"], actor=world.actor("nobody"))
    assert caught.value.code == "no_role"
    assert "no role" in caught.value.message
    with pytest.raises(NotFoundError):
        world.svc.records.create("account", {"name": "x"}, actor=world.actor("nobody"))


def test_hidden_fields_are_left_out_of_reads_and_refused_in_writes(world: World) -> None:
    records = world.svc.records
    seen = records.get("account", world.own["id"], actor=world.actor("rm"))
    assert "secret_note" not in seen and seen["revenue"] == 10
    assert all("secret_note" not in item for item in world.page("rm", "account"))
    with pytest.raises(ForbiddenError) as caught:
        records.update("account", world.own["id"], {"revenue": 99, "name": "Own2"}, version=1, actor=world.actor("rm"))
    assert (caught.value.code, [i.field for i in caught.value.issues]) == ("field_forbidden", ["revenue"])
    changed = records.update("account", world.own["id"], {"name": "Own2"}, version=1, actor=world.actor("rm"))
    assert changed["name"] == "Own2" and "secret_note" not in changed
    with pytest.raises(ForbiddenError) as created:
        records.create("account", {"name": "New", "secret_note": "x"}, actor=world.actor("rm"))
    assert [i.field for i in created.value.issues] == ["secret_note"]
    made = records.create("account", {"name": "New", "owner": world.users["rm"].user_id}, actor=world.actor("rm"))
    assert made["name"] == "New" and "secret_note" not in made


def test_fields_hidden_on_some_rows_only(world: World) -> None:
    """close_contacts sees birthdays on contacts of the accounts it owns, not on the others."""
    with world.svc.database.begin() as connection:
        connection.execute(
            sa.update(world.svc.catalog.form("account").table)
            .where(world.svc.catalog.form("account").table.c.id == world.team["id"])
            .values(owner=world.users["close_contacts"].user_id)
        )
    items = {item["name"]: item for item in world.page("close_contacts", "contact")}
    assert items["C-close"]["birthday"] == "1990-05-01"
    assert "birthday" not in items["C-own"] and "birthday" not in items["C-other"]
    records, actor = world.svc.records, world.actor("close_contacts")
    assert records.get("contact", world.close_owner_contact["id"], actor=actor)["birthday"] == "1990-05-01"
    assert "birthday" not in records.get("contact", world.other_contact["id"], actor=actor)


def test_filtering_or_sorting_by_a_hidden_field_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        world.ids("rm", "account", filters=(FilterSpec("secret_note", "eq", "s1"),))
    assert [i.field for i in caught.value.issues] == ["filter[0]"]
    with pytest.raises(ValidationError):
        world.ids("rm", "account", sort=(("secret_note", False),))
    with pytest.raises(ValidationError):  # through a relation into a form the role cannot read
        world.ids("contacts_only", "contact", filters=(FilterSpec("account.name", "eq", "Own"),))
    assert world.ids("rm", "contact", filters=(FilterSpec("account.name", "eq", "Own"),)) == [world.own_contact["id"]]


def test_expanded_titles_only_for_readable_records(world: World) -> None:
    items = world.page("contacts_only", "contact", expand=("account",))
    assert {item["account"]["title"] for item in items} == {None}
    items = world.page("viewer", "contact", expand=("account",))
    assert {item["account"]["title"] for item in items} == {"Own", "Team", "Other"}


def test_a_reference_to_an_unreadable_record_looks_missing(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        world.svc.records.create("contact", {"name": "x", "account": world.other["id"]}, actor=world.actor("rm"))
    assert [(i.field, i.code) for i in caught.value.issues] == [("account", "not_found_reference")]
    made = world.svc.records.create("contact", {"name": "x", "account": world.own["id"]}, actor=world.actor("rm"))
    assert made["account"] == world.own["id"]


def test_explain_says_which_role_and_rule_decide(world: World) -> None:
    today = dt.date.today()
    found = explain(world.svc.records.policy, world.users["rm"], "account", world.own["id"], today=today)
    assert found["actions"]["read"]["allowed"] is True
    assert found["actions"]["read"]["grants"][0] | {"why": ""} == {
        "role": "rm",
        "permission": 0,
        "why": "",
        "rows": TEAM_SCOPE,
        "holds": True,
    }
    assert found["actions"]["delete"] == {"allowed": False, "reason": "no role grants this action", "grants": []}
    assert found["fields"]["revenue"]["writable"] is False
    assert found["fields"]["revenue"]["readonly_by"] == ["role 'rm', permission #0 on 'account'"]
    assert found["fields"]["secret_note"]["visible"] is False
    assert found["fields"]["name"] == {"visible": True, "writable": True, "hidden_by": [], "readonly_by": []}
    other = explain(world.svc.records.policy, world.users["rm"], "account", world.other["id"], today=today)
    assert other["actions"]["read"]["allowed"] is False
    assert other["actions"]["read"]["reason"] == "no granting permission's row scope holds"
    nobody = explain(world.svc.records.policy, world.users["nobody"], "account", None, today=today)
    assert nobody["actions"]["read"]["reason"] == "the user has no role"


def test_every_write_is_audited_with_field_changes_and_history_respects_hidden_fields(world: World) -> None:
    records, rm = world.svc.records, world.actor("rm")
    made = records.create("account", {"name": "Audited", "owner": rm.who}, actor=rm)
    records.update("account", made["id"], {"name": "Audited 2"}, version=1, actor=rm)
    records.update(
        "account", made["id"], {"revenue": 5, "secret_note": "hush"}, version=2, actor=world.actor("manager")
    )
    history = records.history("account", made["id"], actor=rm)
    assert [(h["action"], h["via"], h["user"]["login"]) for h in history] == [
        ("update", "api", "manager"),
        ("update", "api", "rm"),
        ("create", "api", "rm"),
    ]
    assert history[1]["changes"] == {"name": ["Audited", "Audited 2"]}
    assert history[2]["changes"]["name"] == [None, "Audited"]
    assert "secret_note" not in history[0]["changes"], "the hidden field's change is not shown to the rm"
    full = records.history("account", made["id"], actor=world.actor("manager"))
    assert full[0]["changes"]["secret_note"] == [None, "hush"] and full[0]["changes"]["revenue"] == [None, 5]
    with pytest.raises(NotFoundError):
        records.history("account", world.other["id"], actor=rm)
    records.delete("account", made["id"], version=3, actor=world.actor("manager"))
    with world.svc.database.read() as connection:
        last = connection.execute(sa.select(system.audit).order_by(system.audit.c.id.desc()).limit(1)).mappings().one()
    assert (last["action"], last["record_id"]) == ("delete", made["id"])
    assert last["changes"]["name"] == ["Audited 2", None]


# -- role definitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("permission", "code", "pointer"),
    [
        ({"form": "acount", "actions": ["read"]}, "unknown_form", "/permissions/0/form"),
        (
            {"form": "account", "actions": ["read"], "rows": "revenue + 1"},
            "expr_wrong_result_type",
            "/permissions/0/rows",
        ),
        ({"form": "account", "actions": ["read"], "rows": "ownr = CURRENT_USER()"}, "expr_unknown_name", None),
        ({"form": "account", "actions": ["read"], "fields": {"hidden": ["secret"]}}, "unknown_field", None),
        ({"form": "contact", "actions": ["read"], "rows_via": "name"}, "not_a_relation", "/permissions/0/rows_via"),
        ({"form": "contact", "actions": ["read"], "rows": "TRUE", "rows_via": "account"}, "rows_twice", None),
        ({"form": "*", "actions": ["read"], "rows": "TRUE"}, "scope_on_every_form", "/permissions/0/form"),
        ({"form": "account", "actions": ["peek"]}, "literal_error", "/permissions/0/actions/0"),
        ({"form": "account", "actions": ["read"], "rows": "(owner ="}, None, "/permissions/0/rows"),
    ],
)
def test_bad_roles_are_reported_at_load_with_their_place(
    make_bundle: Callable[..., Path], permission: dict[str, Any], code: str | None, pointer: str | None
) -> None:
    root = write_roles(
        make_bundle({"account": ACCOUNT, "member": MEMBER, "contact": CONTACT}), {"bad": {"permissions": [permission]}}
    )
    bundle, issues = load_bundle(root)
    assert bundle is None and issues, "the bundle must not load"
    found = issues[0]
    assert found.file is not None and found.file.endswith("bad.json")
    if code is not None:
        assert found.code == code, [i.render() for i in issues]
    if pointer is not None:
        assert found.pointer == pointer, [i.render() for i in issues]
    assert found.line is not None


def test_a_scope_sql_cannot_express_grants_nothing_and_is_reported(
    database: Database, make_bundle: Callable[..., Path], services: Services
) -> None:
    roles = {"counter": {"permissions": [{"form": "account", "actions": ["read"], "rows": "COUNT(members) > 0"}]}}
    assert install(database, write_roles(make_bundle({"account": ACCOUNT, "member": MEMBER}), roles)).applied
    problems = services.records.policy.scope_problems()
    assert [(p.code, p.pointer) for p in problems] == [("expr_not_in_sql", "/permissions/0/rows")]
    services.records.create("account", {"name": "A"}, actor=SYSTEM_ACTOR)
    with database.begin() as connection:
        user = directory.principal(
            connection, directory.create_user(connection, login="c", name="C", roles=["counter"])
        )
    assert user is not None
    access = services.records.policy.access(user, "account")
    with database.read() as connection:
        page = services.lister.page(connection, services.catalog.form("account"), ListQuery(), "en", access=access)
    assert page.items == []
