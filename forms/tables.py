"""How a form is stored: its table specs (main table, sub-tables, link tables)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from engine.storage.spec import ColumnSpec, TableSpec
from forms.definition import FormDefinition
from forms.fields.references import FORM_REFERENCE_PREFIX


def table_name(app_key: str, form_key: str) -> str:
    """Return the table of a form: the app's namespace, two underscores, the form key."""
    return f"{app_key}__{form_key}"


def _resolve(column: ColumnSpec, table_of: Callable[[str], str]) -> ColumnSpec:
    ref = column.references
    if ref is None or not ref.table.startswith(FORM_REFERENCE_PREFIX):
        return column
    target = table_of(ref.table[len(FORM_REFERENCE_PREFIX) :])
    return replace(column, references=replace(ref, table=target))


def form_table_specs(form: FormDefinition, table: str, table_of: Callable[[str], str]) -> list[TableSpec]:
    """Return the main table spec followed by the side tables of ``form``."""
    columns = tuple(_resolve(c, table_of) for f in form.fields for c in f.columns())
    # One index per declared list sort, in the sort's direction, with id as the tie-breaker (keyset order).
    sorts = tuple(
        (f"{s.field} desc" if s.desc else s.field, "id")
        for s in form.list_view.sort
        if form.field_map[s.field].storage == "column"
    )
    main = TableSpec(
        table,
        columns,
        unique_together=tuple(tuple(g) for g in form.unique_together),
        indexes=tuple(tuple(g) for g in form.indexes) + sorts,
    )
    sides = [side for f in form.fields if (side := f.side_table(table)) is not None]
    resolved = [replace(s, columns=tuple(_resolve(c, table_of) for c in s.columns)) for s in sides]
    return [main, *resolved]
