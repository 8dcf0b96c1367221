"""The audit log: who changed what, when, and through which path.

Every record create/update/delete writes one entry in the same transaction as the change
(field-level before/after), and so do definition installs, user and role changes and sign-ins.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.storage import system

Via = Literal["ui", "api", "import", "flow", "rule", "cli", "system"]
VIAS: tuple[str, ...] = ("ui", "api", "import", "flow", "rule", "cli", "system")


def jsonable(value: Any) -> Any:
    """A stored value as JSON can hold it (dates as ISO text, decimals as text)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, keys: list[str]) -> dict[str, Any]:
    """``{field: [before, after]}`` for the ``keys`` whose value differs."""
    changes: dict[str, Any] = {}
    for key in keys:
        old = before.get(key) if before is not None else None
        new = after.get(key) if after is not None else None
        if old != new:
            changes[key] = [jsonable(old), jsonable(new)]
    return changes


def record(
    connection: Connection,
    *,
    user_id: int | None,
    via: str,
    action: str,
    target_kind: str,
    target_key: str,
    record_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Write one audit entry in the caller's transaction."""
    connection.execute(
        sa.insert(system.audit).values(
            at=at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
            user_id=user_id,
            via=via if via in VIAS else "system",
            action=action,
            target_kind=target_kind,
            target_key=target_key,
            record_id=record_id,
            changes=jsonable(dict(changes)) if changes is not None else None,
        )
    )


def history(
    connection: Connection,
    target_kind: str,
    target_key: str,
    record_id: int | None = None,
    *,
    limit: int = 200,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Entries about one target (newest first), with the acting user's login and name."""
    a, u = system.audit, system.users
    query = (
        sa.select(a, u.c.login, u.c.name.label("user_name"))
        .select_from(a.outerjoin(u, u.c.id == a.c.user_id))
        .where(a.c.target_kind == target_kind, a.c.target_key == target_key)
        .order_by(a.c.id.desc())
        .limit(limit)
    )
    if record_id is not None:
        query = query.where(a.c.record_id == record_id)
    if before_id is not None:
        query = query.where(a.c.id < before_id)
    return [
        {
            "id": row.id,
            "at": row.at.isoformat(),
            "user": {"id": row.user_id, "login": row.login, "name": row.user_name} if row.user_id else None,
            "via": row.via,
            "action": row.action,
            "record_id": row.record_id,
            "changes": row.changes,
        }
        for row in connection.execute(query)
    ]
