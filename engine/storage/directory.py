"""The minimal users and departments tables (extended by the identity layer later)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.storage import system


def add_departments(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert departments (``id``, ``name``, ``parent``); return how many."""
    values = [{"id": r["id"], "name": r["name"], "parent_id": r.get("parent"), "head_id": r.get("head")} for r in rows]
    if values:
        connection.execute(sa.insert(system.departments), values)
    return len(values)


def add_users(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert users (``id`` optional, ``login``, ``name``, ``email``, ``department``); return how many."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    values = [
        {
            **({"id": r["id"]} if r.get("id") is not None else {}),
            "login": r["login"],
            "name": r["name"],
            "email": r.get("email"),
            "phone": r.get("phone"),
            "active": r.get("active", True),
            "locale": r.get("locale", "zh"),
            "department_id": r.get("department"),
            "created_at": now,
        }
        for r in rows
    ]
    for value in values:
        connection.execute(sa.insert(system.users).values(value))
    return len(values)


def list_users(connection: Connection, *, limit: int = 500) -> list[dict[str, Any]]:
    """Return users ordered by id."""
    u = system.users
    rows = connection.execute(
        sa.select(u.c.id, u.c.login, u.c.name, u.c.email, u.c.active).order_by(u.c.id).limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def sync_sequences(connection: Connection, tables: Iterable[str]) -> None:
    """After inserting explicit ids on PostgreSQL, move each table's id sequence past them."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608 - names from definitions
            f'GREATEST((SELECT COALESCE(MAX(id), 0) FROM "{table}"), 1))'
        )
