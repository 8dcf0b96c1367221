"""``tessera users``: add, list, disable and enable users, set their passwords, roles and API tokens.

Passwords never come from the command line, where shell history and ``ps`` would show them:
``--password-stdin`` reads one line (a prompt without echo at a terminal), ``--random-password``
makes one and prints it once. The parser is declared in :mod:`web.cli_identity`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys
from typing import Any

from engine.identity import directory
from engine.identity.auth import Authenticator
from engine.identity.passwords import password_problem
from engine.issues import NotFoundError
from web.cli import UserError
from web.cli_identity import EVERYONE, VIA, identity_database, known_roles, note, print_json, user_by_login
from web.cli_output import table


def _new_password(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The password the command sets (None: none) and whether it was generated (then it is shown)."""
    if args.password_argument is not None:
        raise UserError("a password on the command line stays in the shell history: use --password-stdin", code=2)
    if args.random_password:
        while True:
            candidate = secrets.token_urlsafe(15)
            if password_problem(candidate, login=args.login, locale="en") is None:
                return candidate, True
    if args.password_stdin:
        return _read_password(), False
    return None, False


def _read_password() -> str:
    """One line of standard input (a prompt without echo on a terminal)."""
    if sys.stdin is None:
        raise UserError("--password-stdin needs a standard input")
    text = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise UserError("no password on standard input (give it as one line)")
    return text


def expiry(value: str) -> dt.datetime:
    """An ``--expires`` value: an ISO date or date-time, UTC unless it has an offset."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: '{value}'") from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def cmd_users_add(args: argparse.Namespace) -> int:
    """Add a user, with roles, a department and a password (from standard input, or generated)."""
    database = identity_database(args)
    roles = known_roles(database, args.roles)
    password, generated = _new_password(args)
    with database.begin() as connection:
        user_id = directory.create_user(
            connection,
            login=args.login,
            name=args.name,
            password=password,
            email=args.email,
            department_id=args.department,
            locale=args.locale,
            roles=roles,
            via=VIA,
            caller_locale="en",
        )
    print(f"added user '{args.login}' (id {user_id})" + (f" with roles {', '.join(roles)}" if roles else ""))
    if generated:
        print(f"password (shown only now): {password}")
    elif password is None:
        note(f"'{args.login}' has no password yet: set one with `tessera users passwd {args.login} --password-stdin`")
    return 0


def _department(department_id: int | None, names: dict[int, str]) -> str:
    return "-" if department_id is None else f"{names.get(department_id, '?')} ({department_id})"


def cmd_users_list(args: argparse.Namespace) -> int:
    """Every user: login, name, active, roles, department."""
    database = identity_database(args)
    with database.read() as connection:
        users = directory.list_users(connection, limit=EVERYONE)
        names = {row["id"]: row["name"] for row in directory.departments(connection)}
    if args.json:
        print_json(users)
        return 0
    if not users:
        print("no users yet: add one with `tessera users add LOGIN --name NAME`")
        return 0
    rows = [
        [
            user["login"],
            user["name"],
            "yes" if user["active"] else "no",
            ", ".join(user["roles"]) or "-",
            _department(user["department_id"], names),
        ]
        for user in users
    ]
    for line in table(["LOGIN", "NAME", "ACTIVE", "ROLES", "DEPARTMENT"], rows):
        print(line)
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    database = identity_database(args)
    with database.begin() as connection:
        user = user_by_login(connection, args.login)
        login = user["login"]
        if user["active"] == active:
            print(f"'{login}' is already {'enabled' if active else 'disabled'}")
            return 0
        directory.set_active(connection, user["id"], active, via=VIA)
    if active:
        print(f"enabled '{login}'")
    else:
        print(f"disabled '{login}': signed out, and their API tokens stop working until they are enabled")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    """Disable a user: no sign-in, no session, no API token until enabled again."""
    return _set_active(args, False)


def cmd_users_enable(args: argparse.Namespace) -> int:
    """Enable a disabled user again."""
    return _set_active(args, True)


def cmd_users_passwd(args: argparse.Namespace) -> int:
    """Set a user's password (their sessions end)."""
    database = identity_database(args)
    password, generated = _new_password(args)
    assert password is not None  # the option group is required
    with database.begin() as connection:
        user = user_by_login(connection, args.login)
        directory.set_password(connection, user["id"], password, via=VIA, locale="en")
    print(f"password of '{user['login']}' changed; their sessions were ended")
    if generated:
        print(f"password (shown only now): {password}")
    return 0


def cmd_users_roles(args: argparse.Namespace) -> int:
    """Replace a user's roles."""
    database = identity_database(args)
    roles = known_roles(database, args.roles)
    with database.begin() as connection:
        user = user_by_login(connection, args.login)
        directory.set_roles(connection, user["id"], roles, via=VIA)
    print(f"roles of '{user['login']}': {', '.join(user['roles']) or '(none)'} -> {', '.join(roles)}")
    return 0


def cmd_users_token(args: argparse.Namespace) -> int:
    """Make an API token acting as the user; print its secret (this once only)."""
    database = identity_database(args)
    with database.read() as connection:
        user = user_by_login(connection, args.login)
    secret, token = Authenticator(database).create_token(
        user["id"], args.name, expires_at=args.expires, locale="en", actor_id=None, via=VIA
    )
    expires = f"expires {token['expires_at']} UTC" if token["expires_at"] else "does not expire"
    note(f"token {token['id']} '{token['name']}' of '{user['login']}' {expires}; its secret is shown only now:")
    if not user["active"]:
        note(f"'{user['login']}' is disabled: the token works once they are enabled")
    print(secret)
    return 0


def _status(token: dict[str, Any], now: dt.datetime) -> str:
    if token["revoked"]:
        return "revoked"
    if token["expires_at"] is not None and dt.datetime.fromisoformat(token["expires_at"]) <= now:
        return "expired"
    return "active"


def cmd_users_tokens(args: argparse.Namespace) -> int:
    """A user's API tokens (never their secrets), newest first."""
    database = identity_database(args)
    with database.read() as connection:
        user = user_by_login(connection, args.login)
    tokens = Authenticator(database).tokens(user["id"])
    if args.json:
        print_json(tokens)
        return 0
    if not tokens:
        print(f"'{user['login']}' has no API tokens")
        return 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def moment(value: str | None) -> str:
        return value[:16].replace("T", " ") if value else "-"

    rows = [
        [str(t["id"]), t["name"], f"{t['prefix']}…", moment(t["created_at"]), moment(t["expires_at"]),
         moment(t["last_used_at"]), _status(t, now)]
        for t in tokens
    ]  # fmt: skip
    for line in table(["ID", "NAME", "STARTS", "CREATED", "EXPIRES", "LAST USED", "STATUS"], rows):
        print(line)
    return 0


def cmd_users_revoke_token(args: argparse.Namespace) -> int:
    """Revoke one of a user's API tokens."""
    database = identity_database(args)
    with database.read() as connection:
        user = user_by_login(connection, args.login)
    login = user["login"]
    try:
        Authenticator(database).revoke_token(user["id"], args.token_id, locale="en", actor_id=None, via=VIA)
    except NotFoundError:
        raise UserError(
            f"'{login}' has no unrevoked token {args.token_id} (see `tessera users tokens {login}`)"
        ) from None
    print(f"revoked token {args.token_id} of '{login}'")
    return 0
