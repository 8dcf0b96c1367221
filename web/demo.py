"""Loading the KAM starter's demo data (reproducible, from the template's generator)."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.identity import directory as identity
from engine.identity.passwords import hash_password
from engine.storage import directory, system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.records import SYSTEM_ACTOR, RecordsService

Say = Callable[[str], None]
SHOWN_PER_ROLE = 2  # logins printed per role after loading


def generate(bundle_root: Path, *, seed: int) -> Any:
    """Import the bundle's ``demo/generate.py`` and run it."""
    root = str(bundle_root.resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(f"{bundle_root.name}.demo.generate")
    return module.generate(seed=seed)


def load_demo(database: Database, bundle_root: Path, *, seed: int, progress: Say, out: Say) -> bool:
    """Insert users (with their roles and the demo password), departments and records in one
    transaction; skip if demo users exist. Prints the demo password and a few logins per role."""
    with database.read() as connection:
        existing = connection.execute(sa.select(sa.func.count()).select_from(system.users)).scalar_one()
    if existing:
        out("demo data already present; nothing added")
        return False
    progress(f"generating demo data (seed {seed})")
    data = generate(bundle_root, seed=seed)
    catalog = Catalog(database)
    service = RecordsService(database=database, catalog=catalog)
    with database.begin() as connection:
        directory.add_departments(connection, data.departments)
        directory.add_users(connection, data.users)
        directory.sync_sequences(connection, ["tessera_departments", "tessera_users"])
        _grant(connection, data.users, getattr(data, "password", None))
        for form_key, rows in data.records.items():
            progress(f"{form_key}: {len(rows)} records")
            service.insert_many(form_key, rows, actor=SYSTEM_ACTOR, connection=connection)
            runtime = catalog.form(form_key)
            directory.sync_sequences(connection, [runtime.table.name])
    total = sum(len(rows) for rows in data.records.values())
    out(f"demo data: {len(data.users)} users, {total} records in {len(data.records)} forms")
    _print_logins(data.users, getattr(data, "password", None), out)
    return True


def _grant(connection: Connection, users: list[dict[str, Any]], password: str | None) -> None:
    """Give each demo user their roles and, when the demo has one, the shared demo password.

    argon2 is slow on purpose (~50 ms a hash): the one password is hashed once and that hash
    stored for every user (the salt is shared too, acceptable for a public demo password only).
    """
    for user in users:
        if user.get("roles"):
            identity.set_roles(connection, user["id"], user["roles"])
    if password:
        secret = hash_password(password)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = [{"user_id": user["id"], "password_hash": secret, "changed_at": now} for user in users]
        connection.execute(sa.insert(system.credentials), rows)


def _print_logins(users: list[dict[str, Any]], password: str | None, out: Say) -> None:
    """The demo password and a few logins per role, to sign in at /login."""
    if not password:
        return
    by_role: dict[str, list[str]] = {}
    for user in users:
        for role in user.get("roles", []):
            by_role.setdefault(role, []).append(user["login"])
    out(f"demo logins (every demo user's password is {password!r}; for the demo only):")
    for role, logins in by_role.items():
        more = len(logins) - SHOWN_PER_ROLE
        shown = ", ".join(logins[:SHOWN_PER_ROLE]) + (f" (+{more} more)" if more > 0 else "")
        out(f"  {role:<16} {shown}")
