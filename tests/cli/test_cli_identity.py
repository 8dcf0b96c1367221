"""``tessera users``, ``tessera roles`` and ``tessera access explain`` on the CRM app of the web tests.

The commands run in-process (each start of the console script costs about a second); one test
runs the real script with a password on a pipe. Every run is checked for a traceback, and every
change is checked in the database: hashes verify, tokens work, disabled users cannot sign in,
and the audit log names the CLI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.identity import audit, directory
from engine.identity.auth import Authenticator, AuthError
from engine.identity.passwords import password_problem, verify_password
from engine.storage import system
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.catalog import Catalog
from forms.install import install_bundle
from forms.records import Actor, RecordsService
from web.cli import main

pytestmark = pytest.mark.pg

REPO = Path(__file__).resolve().parents[2]
TESSERA = str(Path(sys.executable).parent / "tessera")
RM_ROLE = {
    "kind": "role",
    "key": "crm_rm",
    "schema_version": 1,
    "label": {"zh": "客户经理", "en": "Relationship manager"},
    "permissions": [
        {
            "form": "account",
            "actions": ["create", "read", "update"],
            "rows": "owner = CURRENT_USER()",
            "fields": {"hidden": ["revenue"], "readonly": ["tier"]},
        },
        {"form": "contact", "actions": ["read"], "rows_via": "account"},
    ],
}
RM_SUMMARY = (
    "account: create, read, update where owner = CURRENT_USER(), hides revenue, read-only tier; "
    "contact: read where its account is readable"
)
ADMIN = "administrator: every action on every form, and users and roles"


def _crm_app() -> ModuleType:
    """``tests/web/crm_app.py``, which the web tests import as ``crm_app`` from their own folder."""
    if "crm_app" not in sys.modules:
        spec = importlib.util.spec_from_file_location("crm_app", REPO / "tests" / "web" / "crm_app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["crm_app"] = module
        spec.loader.exec_module(module)
    return sys.modules["crm_app"]


@dataclass(frozen=True)
class Run:
    """What one command did."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


Shell = Callable[..., Run]


@pytest.fixture
def database(db_url: str, tmp_path: Path) -> Iterator[Database]:
    """The CRM app (forms account and contact, roles crm_admin and crm_rm), no users yet."""
    root = _crm_app().write_bundle(tmp_path / "crm")
    (root / "roles" / "crm_rm.json").write_text(json.dumps(RM_ROLE, ensure_ascii=False), encoding="utf-8")
    bundle, issues = load_bundle(root)
    assert bundle is not None, [issue.render() for issue in issues]
    db = Database(db_url)
    ensure_current(db)
    assert install_bundle(db, bundle, apply=True).applied
    yield db
    db.dispose()


@pytest.fixture
def tessera(
    database: Database, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Shell:
    """Run ``tessera ARGS... --db URL`` in-process, with ``stdin`` as its standard input."""

    def run(*args: str, stdin: str = "") -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            code = main([*args, "--db", db_url])
        except SystemExit as stop:  # argparse: --help, usage errors
            code = int(stop.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, err
        return Run(code, out, err)

    return run


def _user(database: Database, login: str) -> dict[str, Any]:
    with database.read() as connection:
        found = directory.find_user(connection, login)
    assert found is not None
    return found


def _hash(database: Database, login: str) -> str | None:
    c = system.credentials
    with database.read() as connection:
        query = sa.select(c.c.password_hash).where(c.c.user_id == _user(database, login)["id"])
        value = connection.execute(query).scalar()
    return None if value is None else str(value)


def _cli_audit(database: Database, login: str) -> list[str]:
    """The actions the CLI took on a user, newest first; each must name no acting user."""
    with database.read() as connection:
        entries = audit.history(connection, "user", login)
    mine = [entry for entry in entries if entry["via"] == "cli"]
    assert all(entry["user"] is None for entry in mine), mine
    return [entry["action"] for entry in mine]


# --- users ----------------------------------------------------------------------------------------


def test_users_add_with_roles_department_and_passwords(tessera: Shell, database: Database) -> None:
    with database.begin() as connection:
        sales = directory.add_department(connection, "Sales 销售")
    alice = tessera("users", "add", "alice", "--name", "Alice 张", "--role", "crm_admin", "--random-password")
    assert (alice.code, alice.err) == (0, "")
    added, shown = alice.lines
    assert added == "added user 'alice' (id 1) with roles crm_admin"
    password = shown.removeprefix("password (shown only now): ")
    assert len(password) == 20 and password_problem(password, login="alice") is None

    bob = tessera(
        "users", "add", "bob", "--name", "Bob 李", "--email", "bob@example.com", "--role", "crm_rm",
        "--role", "crm_rm", "--department", str(sales), "--locale", "en", "--password-stdin",
        stdin="bob's secret 7\nnot read\n",
    )  # fmt: skip
    assert (bob.code, bob.out, bob.err) == (0, "added user 'bob' (id 2) with roles crm_rm\n", "")
    carol = tessera("users", "add", "carol", "--name", "Carol")
    assert (carol.code, carol.out) == (0, "added user 'carol' (id 3)\n")
    assert carol.err == "'carol' has no password yet: set one with `tessera users passwd carol --password-stdin`\n"

    stored = _user(database, "bob")
    assert (stored["email"], stored["department_id"], stored["locale"], stored["roles"], stored["active"]) == (
        "bob@example.com",
        sales,
        "en",
        ["crm_rm"],
        True,
    )
    alice_hash, bob_hash = _hash(database, "alice"), _hash(database, "bob")
    assert alice_hash is not None and alice_hash.startswith("$argon2id$") and password not in alice_hash
    assert verify_password(alice_hash, password)
    assert bob_hash is not None and verify_password(bob_hash, "bob's secret 7")
    assert _hash(database, "carol") is None
    auth = Authenticator(database)
    assert auth.login("alice", password).principal.roles == frozenset({"crm_admin"})
    with pytest.raises(AuthError):
        auth.login("carol", "any password at all")
    assert _cli_audit(database, "alice") == _cli_audit(database, "bob") == ["user_create"]

    listing = tessera("users", "list")
    assert listing.lines == [
        "LOGIN  NAME      ACTIVE  ROLES      DEPARTMENT",
        "alice  Alice 张  yes     crm_admin  -",
        f"bob    Bob 李    yes     crm_rm     Sales 销售 ({sales})",
        "carol  Carol     yes     -          -",
    ]
    with database.read() as connection:
        assert json.loads(tessera("users", "list", "--json").out) == directory.list_users(connection)


def test_disable_enable_passwd_and_roles_take_effect_and_are_audited(tessera: Shell, database: Database) -> None:
    assert (
        tessera(
            "users", "add", "bob", "--name", "Bob", "--role", "crm_rm", "--password-stdin", stdin="first secret 1"
        ).code
        == 0
    )
    bob = _user(database, "bob")
    auth = Authenticator(database)
    session = auth.login("bob", "first secret 1")
    secret, _token = auth.create_token(bob["id"], "ci")

    disabled = tessera("users", "disable", "bob")
    assert disabled.lines == ["disabled 'bob': signed out, and their API tokens stop working until they are enabled"]
    assert _user(database, "bob")["active"] is False
    with pytest.raises(AuthError) as refused:
        auth.login("bob", "first secret 1", locale="en")
    assert refused.value.code == "user_disabled"
    assert auth.session(session.cookie) is None and auth.token(secret) is None
    assert tessera("users", "disable", "BOB").lines == ["'bob' is already disabled"], "logins are case-insensitive"

    assert tessera("users", "enable", "bob").lines == ["enabled 'bob'"]
    token_user = auth.token(secret)
    assert token_user is not None and token_user.login == "bob"
    session = auth.login("bob", "first secret 1")

    changed = tessera("users", "passwd", "bob", "--password-stdin", stdin="second secret 2\n")
    assert changed.lines == ["password of 'bob' changed; their sessions were ended"]
    assert auth.session(session.cookie) is None
    with pytest.raises(AuthError):
        auth.login("bob", "first secret 1")
    assert auth.login("bob", "second secret 2").principal.login == "bob"
    generated = tessera("users", "passwd", "bob", "--random-password")
    new_password = generated.lines[1].removeprefix("password (shown only now): ")
    assert verify_password(_hash(database, "bob") or "", new_password)

    roles = tessera("users", "roles", "bob", "crm_rm", "crm_admin", "crm_rm")
    assert roles.lines == ["roles of 'bob': crm_rm -> crm_admin, crm_rm"]
    assert _user(database, "bob")["roles"] == ["crm_admin", "crm_rm"]
    assert _cli_audit(database, "bob") == [
        "roles_set",
        "password_set",
        "password_set",
        "user_enable",
        "user_disable",
        "user_create",
    ]


TOKEN_ROW = re.compile(
    r"(?P<id>\d+)\s+(?P<name>\S+)\s+tsr_\S{6}…\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+"
    r"(?P<expires>-|\S+ \S+)\s+(?:-|\S+ \S+)\s+(?P<status>\w+)"
)


def _token_rows(run: Run) -> list[tuple[str, str, str, str]]:
    header, *rows = run.lines
    assert header.split() == ["ID", "NAME", "STARTS", "CREATED", "EXPIRES", "LAST", "USED", "STATUS"]
    found = [TOKEN_ROW.fullmatch(row) for row in rows]
    assert all(found), rows
    return [(m["id"], m["name"], m["expires"], m["status"]) for m in found if m]


def test_api_tokens_are_shown_once_stored_hashed_listed_and_revoked(tessera: Shell, database: Database) -> None:
    assert tessera("users", "add", "bob", "--name", "Bob", "--role", "crm_rm").code == 0
    auth = Authenticator(database)
    made = tessera("users", "token", "bob", "--name", "ci")
    assert made.code == 0
    assert made.err == "token 1 'ci' of 'bob' does not expire; its secret is shown only now:\n"
    secret = made.out.strip()
    assert made.out == f"{secret}\n" and secret.startswith("tsr_")
    acting = auth.token(secret)
    assert acting is not None and acting.login == "bob"
    with database.read() as connection:
        stored = connection.execute(sa.select(system.api_tokens)).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in stored.values()}, "the secret itself is never stored"

    nightly = tessera("users", "token", "bob", "--name", "nightly", "--expires", "2999-01-01T08:00:00+08:00")
    assert nightly.err.startswith("token 2 'nightly' of 'bob' expires 2999-01-01T00:00:00 UTC;")
    assert _token_rows(tessera("users", "tokens", "bob")) == [
        ("2", "nightly", "2999-01-01 00:00", "active"),
        ("1", "ci", "-", "active"),
    ]
    assert json.loads(tessera("users", "tokens", "bob", "--json").out) == auth.tokens(_user(database, "bob")["id"])

    assert tessera("users", "revoke-token", "bob", "1").lines == ["revoked token 1 of 'bob'"]
    assert auth.token(secret) is None
    assert [row[3] for row in _token_rows(tessera("users", "tokens", "bob"))] == ["active", "revoked"]

    assert tessera("users", "disable", "bob").code == 0
    late = tessera("users", "token", "bob", "--name", "later")
    assert late.err.splitlines()[1] == "'bob' is disabled: the token works once they are enabled"
    assert auth.token(late.out.strip()) is None
    assert tessera("users", "enable", "bob").code == 0
    assert auth.token(late.out.strip()) is not None
    assert _cli_audit(database, "bob") == [
        "user_enable",
        "token_create",
        "user_disable",
        "token_revoke",
        "token_create",
        "token_create",
        "user_create",
    ]


# --- roles ----------------------------------------------------------------------------------------


def test_roles_list_and_show_name_permissions_and_holders(tessera: Shell, database: Database) -> None:
    tessera("users", "add", "alice", "--name", "Alice 张", "--role", "crm_admin")
    tessera("users", "add", "bob", "--name", "Bob 李", "--role", "crm_rm")
    tessera("users", "add", "carol", "--name", "Carol", "--role", "crm_rm")
    tessera("users", "disable", "carol")
    with database.begin() as connection:  # a role the app no longer installs (the directory does not check)
        directory.set_roles(connection, _user(database, "alice")["id"], ["crm_admin", "ghost"])

    listing = tessera("roles", "list")
    assert listing.lines == [
        "KEY        LABEL                            USERS  PERMISSIONS",
        f"crm_admin  Administrator / 管理员           1      {ADMIN}",
        f"crm_rm     Relationship manager / 客户经理  2      {RM_SUMMARY}",
        "assigned but not installed (they grant nothing): ghost (alice)",
    ]
    as_json = json.loads(tessera("roles", "list", "--json").out)
    assert as_json[0] == {
        "key": "crm_admin",
        "label": "Administrator",
        "admin": True,
        "permissions": [],
        "users": ["alice"],
    }
    assert as_json[1]["users"] == ["bob", "carol"]
    assert as_json[1]["permissions"][1] == {
        "form": "contact",
        "actions": ["read"],
        "rows_via": "account",
        "fields": {"hidden": [], "readonly": []},
    }

    assert tessera("roles", "show", "crm_rm").lines == [
        "role crm_rm: Relationship manager / 客户经理",
        "permissions:",
        "  #0 account: create, read, update",
        "       rows: owner = CURRENT_USER()",
        "       hidden: revenue",
        "       read-only: tier",
        "  #1 contact: read",
        "       rows: those whose account is readable",
        "held by: bob (Bob 李), carol (Carol, disabled)",
    ]
    assert tessera("roles", "show", "crm_admin").lines == [
        "role crm_admin: Administrator / 管理员",
        "permissions:",
        f"  {ADMIN}",
        "held by: alice (Alice 张)",
    ]
    assert json.loads(tessera("roles", "show", "crm_rm", "--json").out) == as_json[1]


# --- access explain -------------------------------------------------------------------------------


def _accounts(database: Database, **owners: int) -> dict[str, int]:
    records = RecordsService(database=database, catalog=Catalog(database))
    made = {
        name: records.create("account", {"name": name, "owner": owner}, actor=Actor()) for name, owner in owners.items()
    }
    return {name: int(record["id"]) for name, record in made.items()}


def test_access_explain_says_which_role_and_rule_decide(tessera: Shell, database: Database) -> None:
    tessera("users", "add", "alice", "--name", "Alice 张", "--role", "crm_admin")
    tessera("users", "add", "bob", "--name", "Bob 李", "--role", "crm_rm")
    ids = _accounts(database, Own=_user(database, "bob")["id"], Other=_user(database, "alice")["id"])
    scope = "role 'crm_rm', permission #0 on 'account'; rows: owner = CURRENT_USER()"

    own = tessera("access", "explain", "--user", "bob", "--form", "account", "--record", str(ids["Own"]))
    assert own.code == 0
    lines = own.lines
    assert lines[:4] == [
        f"access of bob (Bob 李) to form account, record {ids['Own']}",
        "roles: crm_rm",
        "",
        "actions:",
    ]
    assert lines[4:12] == [
        "  create  allowed  granted",
        "                   - role 'crm_rm', permission #0 on 'account'",
        "  read    allowed  a permission's row scope holds",
        f"                   - {scope}: holds for this record",
        "  update  allowed  a permission's row scope holds",
        f"                   - {scope}: holds for this record",
        "  delete  denied   no role grants this action",
        "  export  denied   no role grants this action",
    ]
    fields = {line.split()[0]: line for line in lines[lines.index("fields:") + 2 :]}
    assert fields["name"].split() == ["name", "visible", "writable"]
    assert fields["tier"].endswith("visible  read-only  read-only in role 'crm_rm', permission #0 on 'account'")
    assert fields["revenue"].endswith("hidden   read-only  hidden by role 'crm_rm', permission #0 on 'account'")

    other = tessera("access", "explain", "--user", "bob", "--form", "account", "--record", str(ids["Other"]))
    assert "  read    denied   no granting permission's row scope holds" in other.lines
    assert f"                   - {scope}: does not hold for this record" in other.lines
    assert other.lines[-1].split(maxsplit=3)[1:] == ["hidden", "read-only", "no permission lets the user read it"]

    contact = tessera("access", "explain", "--user", "bob", "--form", "contact")
    assert contact.lines[0] == "access of bob (Bob 李) to form contact, any record"
    assert "  read    allowed  granted (limited by row scopes)" in contact.lines
    assert (
        "                   - role 'crm_rm', permission #1 on 'contact'; rows whose account is readable"
        in contact.lines
    )
    assert "  create  denied   no role grants this action" in contact.lines

    missing = tessera("access", "explain", "--user", "alice", "--form", "account", "--record", "999")
    assert missing.lines[2] == "note: record 999 does not exist, so no action on it is allowed"
    assert "  read    denied   no granting permission's row scope holds" in missing.lines

    as_json = json.loads(tessera("access", "explain", "--user", "bob", "--form", "account", "--json").out)
    assert as_json["actions"]["create"] == {
        "allowed": True,
        "reason": "granted",  # not "limited by row scopes": create has no rows to limit
        "grants": [{"role": "crm_rm", "permission": 0, "why": "role 'crm_rm', permission #0 on 'account'",
                    "rows": "owner = CURRENT_USER()"}],
    }  # fmt: skip
    assert as_json["actions"]["read"]["reason"] == "granted (limited by row scopes)"

    tessera("users", "disable", "bob")
    disabled = tessera("access", "explain", "--user", "bob", "--form", "account")
    assert disabled.lines[1:3] == [
        "roles: (none)",
        "note: bob is disabled, so may do nothing until `tessera users enable bob`",
    ]
    assert "  read    denied   the user has no role" in disabled.lines


def test_access_explain_json_is_what_the_api_answers(
    tessera: Shell, database: Database, live_server: Callable[..., Any]
) -> None:
    tessera("users", "add", "alice", "--name", "Alice 张", "--role", "crm_admin")
    tessera("users", "add", "bob", "--name", "Bob 李", "--role", "crm_rm")
    ids = _accounts(database, Own=_user(database, "bob")["id"])
    secret = tessera("users", "token", "alice", "--name", "tests").out.strip()
    server = live_server()
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=15)
    try:
        for params in (
            {"user": "bob", "form": "account", "record": str(ids["Own"])},
            {"user": "bob", "form": "contact"},
        ):
            answer = client.get("/api/v1/access/explain", params=params)
            assert answer.status_code == 200, answer.text
            args = [arg for key, value in params.items() for arg in (f"--{key}", value)]
            assert json.loads(tessera("access", "explain", *args, "--json").out) == answer.json()
    finally:
        client.close()
        server.stop()
        server.server.config.app.state.services.database.dispose()  # before a PostgreSQL database is dropped


# --- bad input ------------------------------------------------------------------------------------

REFUSED = [  # command (split like a shell does), standard input, the error after "error: "
    ("users add bob --name 'Other Bob'", "", "the login 'bob' is taken"),
    ("users add BOB --name 'Other Bob'", "", "the login 'BOB' is taken"),
    ("users add dora --name D --role crm_rmm", "", "unknown role 'crm_rmm' (did you mean 'crm_rm'?)"),
    ("users add dora --name D --role boss", "", "unknown role 'boss' (known installed roles: crm_admin, crm_rm)"),
    ("users add dora --name D --department 99", "", "no department 99"),
    ("users add dora --name D --password-stdin", "short\n", "the password needs at least 8 characters"),
    ("users add dora --name D --password-stdin", "", "no password on standard input (give it as one line)"),
    ("users add dora --name D --password-stdin", "Dora\n", "the password needs at least 8 characters"),
    ("users add dora.wong --name D --password-stdin", "DORA.WONG\n", "the password must differ from the login"),
    ("users add 'no spaces' --name D", "", "the login may hold letters, digits and . _ @ - (at most 80 characters)"),
    ("users add dora --name ' '", "", "the name is required (at most 100 characters)"),
    ("users disable bbo", "", "no user 'bbo' (did you mean 'bob'?)"),
    ("users enable zed", "", "no user 'zed' (known users: alice, bob)"),
    ("users passwd bob --password-stdin", "aaaaaaaaaa\n", "the password is too simple"),
    ("users passwd zed --password-stdin", "a fine secret 1\n", "no user 'zed' (known users: alice, bob)"),
    ("users roles bob crm_rm nope", "", "unknown role 'nope' (known installed roles: crm_admin, crm_rm)"),
    ("users roles nobody crm_rm", "", "no user 'nobody' (known users: alice, bob)"),
    ("users token bob --name old --expires 2001-01-01", "", "the expiry must be in the future"),
    ("users token bob --name '  '", "", "give the token a name (at most 100 characters)"),
    ("users tokens bobby", "", "no user 'bobby' (did you mean 'bob'?)"),
    ("users revoke-token bob 99", "", "'bob' has no unrevoked token 99 (see `tessera users tokens bob`)"),
    ("roles show crm", "", "unknown role 'crm' (did you mean 'crm_rm'?)"),
    ("access explain --user bob --form acount", "", "unknown form 'acount' (did you mean 'account'?)"),
    ("access explain --user bbo --form account", "", "no user 'bbo' (did you mean 'bob'?)"),
]


def _state(database: Database) -> tuple[Any, ...]:
    with database.read() as connection:
        users = directory.list_users(connection)
        credentials = connection.execute(sa.select(system.credentials.c.password_hash)).scalars().all()
        tokens = connection.execute(sa.select(sa.func.count()).select_from(system.api_tokens)).scalar()
        entries = connection.execute(sa.select(sa.func.count()).select_from(system.audit)).scalar()
    return users, sorted(credentials), tokens, entries


def test_refused_input_is_one_error_line_exit_1_and_changes_nothing(tessera: Shell, database: Database) -> None:
    tessera(
        "users", "add", "alice", "--name", "Alice", "--role", "crm_admin", "--password-stdin", stdin="alice secret 1"
    )
    tessera("users", "add", "bob", "--name", "Bob", "--role", "crm_rm")
    before = _state(database)
    for command, stdin, error in REFUSED:
        run = tessera(*shlex.split(command), stdin=stdin)
        assert (run.code, run.out, run.err) == (1, "", f"error: {error}\n"), command
    assert _state(database) == before


USAGE = [  # command, part of argparse's (or the refusal's) message
    ("users frobnicate", "argument ACTION: invalid choice: 'frobnicate'"),
    ("users add dora", "the following arguments are required: --name"),
    ("users add dora --name D --password hunter22", "a password on the command line stays in the shell history"),
    ("users passwd bob", "one of the arguments --password-stdin --random-password is required"),
    ("users add dora --name D --password-stdin --random-password", "not allowed with argument"),
    ("users roles bob", "the following arguments are required: ROLE"),
    ("users token bob --name x --expires tomorrow", "not an ISO date or date-time: 'tomorrow'"),
    ("users revoke-token bob one", "argument ID: invalid int value: 'one'"),
    ("users add dora --name D --department sales", "argument --department: invalid int value"),
    ("access explain --user bob --form account --record 0", "not a record id: '0'"),
    ("access explain --user bob", "the following arguments are required: --form"),
]


def test_malformed_commands_exit_2_with_the_reason(tessera: Shell, database: Database) -> None:
    tessera("users", "add", "bob", "--name", "Bob")
    before = _state(database)
    for command, message in USAGE:
        run = tessera(*shlex.split(command))
        assert run.code == 2, command
        assert message in run.err and run.out == "", (command, run.err)
        assert "hunter22" not in run.err
    assert _state(database) == before


# --- help and the real console script -------------------------------------------------------------

ACTIONS = {
    ("users", "add"): ["login", "--name", "--email", "--role", "--department", "--password-stdin", "--random-password"],
    ("users", "list"): ["--json", "--db"],
    ("users", "disable"): ["login"],
    ("users", "enable"): ["login"],
    ("users", "passwd"): ["--password-stdin", "--random-password"],
    ("users", "roles"): ["login", "ROLE"],
    ("users", "token"): ["--name", "--expires"],
    ("users", "tokens"): ["login", "--json"],
    ("users", "revoke-token"): ["login", "ID"],
    ("roles", "list"): ["--json"],
    ("roles", "show"): ["key", "--json"],
    ("access", "explain"): ["--user", "--form", "--record", "--json"],
}


def test_every_action_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for (group, action), options in ACTIONS.items():
        with pytest.raises(SystemExit) as stop:
            main([group, action, "--help"])
        out = capsys.readouterr().out
        assert stop.value.code == 0
        assert out.startswith(f"usage: tessera {group} {action}"), out
        assert all(option in out for option in options), (group, action, out)
        assert "--password " not in out and "PASSWORD_ARGUMENT" not in out, "the refused option stays hidden"


def test_the_console_script_reads_the_password_from_a_pipe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    def script(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [TESSERA, *args, "--db", url], input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return done

    assert script("users", "list").stdout == "no users yet: add one with `tessera users add LOGIN --name NAME`\n"
    assert (
        script("roles", "list").stdout == "no roles installed: roles come with app bundles (`tessera install PATH`)\n"
    )
    added = script("users", "add", "dora", "--name", "Dora", "--password-stdin", stdin="dora's secret 9\n")
    assert (added.returncode, added.stdout) == (0, "added user 'dora' (id 1)\n")
    unknown = script("users", "disable", "ghost")
    assert (unknown.returncode, unknown.stderr) == (1, "error: no user 'ghost' (known users: dora)\n")
    database = Database(url)
    try:
        assert verify_password(_hash(database, "dora") or "", "dora's secret 9")
    finally:
        database.dispose()
