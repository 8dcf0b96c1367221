"""Converting between submitted values, stored rows and the record JSON shape."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forms.catalog import FormRuntime
from forms.fields import FieldBase
from forms.fields.references import SubtableField

SYSTEM_FIELDS = ("id", "version", "form_version", "created_at", "created_by", "updated_at", "updated_by")


def utcnow() -> dt.datetime:
    """The current UTC time without tzinfo (how timestamps are stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def column_values(fields: Iterable[FieldBase], values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the column values of the given fields found in ``values``."""
    return {f.key: f.to_db(values[f.key]) for f in fields if f.storage == "column" and f.key in values}


def record_json(runtime: FormRuntime, row: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    """Turn a main-table row into the record JSON shape (system fields first)."""
    record: dict[str, Any] = {}
    for name in SYSTEM_FIELDS:
        value = row.get(name)
        record[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    for field in runtime.definition.fields:
        if field.storage == "column":
            value = row.get(field.key)
            record[field.key] = None if value is None else field.to_json(value)
    return record


def write_side_rows(
    connection: Connection, runtime: FormRuntime, record_id: int, values: Mapping[str, Any], *, replace: bool
) -> None:
    """Write sub-table rows and links present in ``values`` for one record."""
    for field in runtime.definition.fields:
        if field.storage == "column" or field.key not in values:
            continue
        table = runtime.side_tables[field.key]
        if replace:
            connection.execute(sa.delete(table).where(table.c.parent_id == record_id))
        items = values[field.key] or []
        if not items:
            continue
        if isinstance(field, SubtableField):
            empty = dict.fromkeys(f.key for f in field.child_fields if f.storage == "column")  # one shape per row
            rows = [
                {"parent_id": record_id, "position": i, **empty, **column_values(field.child_fields, item)}
                for i, item in enumerate(items)
            ]
        else:
            rows = [{"parent_id": record_id, "target_id": target} for target in items]
        connection.execute(sa.insert(table), rows)


def load_side_rows(connection: Connection, runtime: FormRuntime, records: list[dict[str, Any]]) -> None:
    """Fill sub-table rows and link ids of ``records`` with one query per side table."""
    if not records or not runtime.side_tables:
        return
    ids = [r["id"] for r in records]
    by_id = {r["id"]: r for r in records}
    for key, table in runtime.side_tables.items():
        field = runtime.definition.field(key)
        grouped: dict[int, list[Any]] = defaultdict(list)
        query = sa.select(table).where(table.c.parent_id.in_(ids)).order_by(table.c.parent_id, table.c.id)
        for row in connection.execute(query).mappings():
            if isinstance(field, SubtableField):
                item = {"id": row["id"]}
                item.update(
                    {f.key: None if row.get(f.key) is None else f.to_json(row[f.key]) for f in field.child_fields}
                )
                grouped[row["parent_id"]].append(item)
            else:
                grouped[row["parent_id"]].append(row["target_id"])
        for record_id, record in by_id.items():
            record[key] = grouped.get(record_id, [])
