"""The shared KAM demo database (see ``conftest.py``) and reading its stored rows in tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.storage.database import Database
from forms.catalog import Catalog

Row = dict[str, Any]


@dataclass(frozen=True)
class DemoDatabase:
    """A database holding the KAM starter and its demo data."""

    url: str
    backend: str
    output: str
    """What ``tessera demo`` printed."""
    seconds: float
    """How long ``tessera demo`` took."""
    today: date
    """The UTC date the data was generated and its formulas computed for (``TODAY()``)."""


def plain(value: Any) -> Any:
    """A stored value as the tests compare it (decimals as floats)."""
    return float(value) if isinstance(value, Decimal) else value


def stored_rows(database: Database, form: str) -> list[Row]:
    """Every stored row of ``form`` (main table only), by id, with decimals as floats."""
    table = Catalog(database).form(form).table
    with database.read() as connection:
        rows = connection.execute(sa.select(table).order_by(table.c.id)).mappings()
        return [{key: plain(value) for key, value in row.items()} for row in rows]


def links(database: Database, form: str, field: str) -> dict[int, list[int]]:
    """Record id -> target ids of a multi-relation field (its link table)."""
    table = Catalog(database).form(form).side_tables[field]
    found: dict[int, list[int]] = {}
    with database.read() as connection:
        for row in connection.execute(sa.select(table).order_by(table.c.id)).mappings():
            found.setdefault(row["parent_id"], []).append(row["target_id"])
    return found
