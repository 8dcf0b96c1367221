"""``tessera users``, ``tessera roles`` and ``tessera access``: the directory and "explain access" from a shell.

Every change goes through :mod:`engine.identity`, so it is checked and audited exactly as in the
web UI, with ``via="cli"`` and no acting user (the operator at the shell is not a Tessera user).
Refused input (an unknown login or role, a weak password, a taken login) is one ``error:`` line
and exit code 1, as for every other command; exit code 2 stays argparse's, for malformed usage.
This module holds what the commands share, the ``roles`` and ``access`` commands and the parser
of all three; the ``users`` commands are in :mod:`web.cli_users`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from engine.i18n import localize
from engine.identity import directory
from engine.identity.principal import Principal
from engine.issues import EngineError, suggest
from web.cli import UserError, add_db_option, open_database
from web.cli_output import explanation_lines, label_text, role_lines, role_summary, table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from engine.storage.database import Database
    from forms.access import Policy
    from forms.roles import RoleDefinition

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

VIA = "cli"
EVERYONE = 1_000_000  # list_users' limit: a shell lists every user
Handler = Callable[[argparse.Namespace], int]


def note(text: str) -> None:
    """A message for the person at the shell (stderr: stdout stays the command's result)."""
    print(text, file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    """``--json`` output: indented, Chinese kept readable."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def identity_database(args: argparse.Namespace) -> Database:
    """The command's database, with the engine tables created (empty) or checked (current)."""
    from engine.storage.schema_version import ensure_current

    database = open_database(args)
    ensure_current(database)
    return database


def policy_of(database: Database) -> Policy:
    """The installed roles compiled against the installed forms."""
    from forms.access import Policy
    from forms.catalog import Catalog

    return Policy(database, Catalog(database))


def user_by_login(connection: Connection, login: str) -> dict[str, Any]:
    """The user with this login, or a refusal naming the closest login."""
    found = directory.find_user(connection, login)
    if found is None:
        logins = [user["login"] for user in directory.list_users(connection, limit=EVERYONE)]
        raise UserError(f"no user '{login}' ({suggest(login, logins, noun='users')})")
    return found


def known_roles(database: Database, keys: Sequence[str]) -> list[str]:
    """``keys`` without duplicates, each an installed role (else a refusal with a did-you-mean)."""
    installed = policy_of(database).roles()
    for key in keys:
        if key not in installed:
            raise UserError(f"unknown role '{key}' ({suggest(key, installed, noun='installed roles')})")
    return sorted(set(keys))


def _record_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 2**53:
        raise argparse.ArgumentTypeError(f"not a record id: '{value}'")
    return int(value)


# -- roles -------------------------------------------------------------------------------------


def _role_json(key: str, role: RoleDefinition, holders: list[str]) -> dict[str, Any]:
    permissions = [p.model_dump(mode="json", exclude_none=True) for p in role.permissions]
    label = localize(role.label, "en")
    return {"key": key, "label": label, "admin": role.admin, "permissions": permissions, "users": holders}


def _holders(database: Database) -> dict[str, list[dict[str, Any]]]:
    """The users holding each role key (installed or not)."""
    with database.read() as connection:
        users = directory.list_users(connection, limit=EVERYONE)
    holders: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        for key in user["roles"]:
            holders.setdefault(key, []).append(user)
    return holders


def cmd_roles_list(args: argparse.Namespace) -> int:
    """The installed roles with their label, holders and a one-line summary of their permissions."""
    database = identity_database(args)
    roles = policy_of(database).roles()
    holders = _holders(database)
    if args.json:
        print_json([_role_json(k, r, [u["login"] for u in holders.get(k, [])]) for k, r in sorted(roles.items())])
        return 0
    if not roles:
        print("no roles installed: roles come with app bundles (`tessera install PATH`)")
    else:
        rows = [
            [key, label_text(role.label), str(len(holders.get(key, []))), role_summary(role)]
            for key, role in sorted(roles.items())
        ]
        for line in table(["KEY", "LABEL", "USERS", "PERMISSIONS"], rows):
            print(line)
    stray = sorted(set(holders) - set(roles))
    if stray:
        names = "; ".join(f"{key} ({', '.join(u['login'] for u in holders[key])})" for key in stray)
        print(f"assigned but not installed (they grant nothing): {names}")
    return 0


def cmd_roles_show(args: argparse.Namespace) -> int:
    """One role: its permissions in full and the users who hold it."""
    database = identity_database(args)
    roles = policy_of(database).roles()
    role = roles.get(args.key)
    if role is None:
        raise UserError(f"unknown role '{args.key}' ({suggest(args.key, roles, noun='installed roles')})")
    holders = _holders(database).get(args.key, [])
    if args.json:
        print_json(_role_json(args.key, role, [u["login"] for u in holders]))
        return 0
    for line in role_lines(args.key, role, holders):
        print(line)
    return 0


# -- access ------------------------------------------------------------------------------------


def cmd_access_explain(args: argparse.Namespace) -> int:
    """Which role and permission grant or deny each action and field, for one user and form (and record)."""
    from forms.access import explain
    from forms.rows import utcnow

    database = identity_database(args)
    policy = policy_of(database)
    with database.read() as connection:
        user = user_by_login(connection, args.user)
        # As the API does: a disabled user is explained as the nobody they are until enabled.
        principal = directory.principal(connection, user["id"]) or Principal(
            user_id=user["id"], login=user["login"], name=user["name"]
        )
    forms = [runtime.key for runtime in policy.catalog.forms()]
    if args.form not in forms:
        raise UserError(f"unknown form '{args.form}' ({suggest(args.form, forms, noun='forms')})")
    result = {"ok": True, **explain(policy, principal, args.form, args.record, today=utcnow().date())}
    if args.json:
        print_json(result)
        return 0
    for line in explanation_lines(result, name=user["name"], active=user["active"]):
        print(line)
    return 0


# -- the parser --------------------------------------------------------------------------------


def _guarded(handler: Handler) -> Handler:
    """Run ``handler``, turning the engine's refusals into one ``error:`` line (exit 1)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except EngineError as error:
            raise UserError(error.message) from None

    run.__doc__ = handler.__doc__
    return run


def _group(commands: Commands, name: str, text: str) -> Commands:
    """A command with actions of its own (``tessera users add``); returns the actions' sub-parsers."""
    parser = commands.add_parser(name, help=text, description=text)
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def _action(actions: Commands, name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=text, description=text)
    add_db_option(parser)
    parser.set_defaults(handler=_guarded(handler))
    return parser


def _password_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--password", dest="password_argument", help=argparse.SUPPRESS)  # refused, with the fix
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--password-stdin", action="store_true", help="read the password as one line of stdin")
    source.add_argument("--random-password", action="store_true", help="generate a password and print it once")


def _users_commands(commands: Commands) -> None:
    from web.cli_users import (  # it imports this module's helpers
        cmd_users_add,
        cmd_users_disable,
        cmd_users_enable,
        cmd_users_list,
        cmd_users_passwd,
        cmd_users_revoke_token,
        cmd_users_roles,
        cmd_users_token,
        cmd_users_tokens,
        expiry,
    )

    users = _group(commands, "users", "add, list, disable or enable users; set passwords, roles and API tokens")
    add = _action(users, "add", cmd_users_add, "add a user")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="the name shown to other users")
    add.add_argument("--email")
    add.add_argument("--role", dest="roles", action="append", default=[], metavar="ROLE", help="repeatable")
    add.add_argument("--department", type=int, metavar="ID", help="a department id")
    add.add_argument("--locale", choices=("zh", "en"), default="zh", help="the user's language (default zh)")
    _password_options(add, required=False)
    _action(users, "list", cmd_users_list, "list every user").add_argument("--json", action="store_true")
    _action(users, "disable", cmd_users_disable, "disable a user (sessions and tokens stop)").add_argument("login")
    _action(users, "enable", cmd_users_enable, "enable a disabled user").add_argument("login")
    passwd = _action(users, "passwd", cmd_users_passwd, "set a user's password (their sessions end)")
    passwd.add_argument("login")
    _password_options(passwd, required=True)
    roles = _action(users, "roles", cmd_users_roles, "replace a user's roles")
    roles.add_argument("login")
    roles.add_argument("roles", nargs="+", metavar="ROLE")
    token = _action(users, "token", cmd_users_token, "make an API token acting as the user (secret shown once)")
    token.add_argument("login")
    token.add_argument("--name", required=True, help="what the token is for")
    token.add_argument("--expires", type=expiry, metavar="ISO", help="an ISO date or date-time (UTC unless offset)")
    tokens = _action(users, "tokens", cmd_users_tokens, "list a user's API tokens")
    tokens.add_argument("login")
    tokens.add_argument("--json", action="store_true")
    revoke = _action(users, "revoke-token", cmd_users_revoke_token, "revoke one of a user's API tokens")
    revoke.add_argument("login")
    revoke.add_argument("token_id", type=int, metavar="ID")


def add_identity_commands(commands: Commands) -> None:
    """Add ``users``, ``roles`` and ``access`` to the ``tessera`` parser's commands."""
    _users_commands(commands)
    roles = _group(commands, "roles", "list the installed roles, or show one with the users who hold it")
    _action(roles, "list", cmd_roles_list, "the installed roles").add_argument("--json", action="store_true")
    show = _action(roles, "show", cmd_roles_show, "one role's permissions and the users who hold it")
    show.add_argument("key")
    show.add_argument("--json", action="store_true")
    access = _group(commands, "access", "explain which role and rule grant or deny a user's access")
    explain = _action(access, "explain", cmd_access_explain, "per action and field: allowed or not, and why")
    explain.add_argument("--user", required=True, metavar="LOGIN")
    explain.add_argument("--form", required=True)
    explain.add_argument("--record", type=_record_id, metavar="ID")
    explain.add_argument("--json", action="store_true", help="the same document as GET /api/v1/access/explain")
