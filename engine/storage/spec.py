"""Storage-neutral descriptions of tables and columns.

Field types describe their storage with these specs; :mod:`engine.storage.tables` turns
them into SQLAlchemy tables. Keeping the specs plain lets the form layer stay free of SQL
and lets the migration planner compare two versions of a form column by column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal[
    "string",
    "text",
    "integer",
    "bigint",
    "decimal",
    "float",
    "boolean",
    "date",
    "datetime",
    "time",
    "json",
]
OnDelete = Literal["restrict", "cascade", "set_null"]


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A reference from a column to ``table.id``."""

    table: str
    on_delete: OnDelete = "restrict"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One typed column."""

    name: str
    kind: ColumnKind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    unique: bool = False
    index: bool = False
    references: ForeignKey | None = None

    def type_signature(self) -> str:
        """Return a short type description used to detect type changes."""
        if self.kind == "string":
            return f"string({self.length})"
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.kind


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table: its name, its own columns and composite unique constraints.

    ``parent`` names the owning table for child rows (sub-tables and link tables); such
    tables get ``parent_id`` with a cascading foreign key and a ``position`` column.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    unique_together: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    parent: str | None = None
    system_columns: bool = True
    owner_field: str | None = field(default=None, compare=False)

    def column(self, name: str) -> ColumnSpec | None:
        """Return the column called ``name``, if any."""
        return next((c for c in self.columns if c.name == name), None)
