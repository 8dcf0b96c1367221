"""Safe storage migrations: compare wanted table specs with what the database holds.

Nothing is dropped here. A removed field's column is *retired* (hidden, data kept, restored
when the field comes back); a rename must be declared; a type change is tried on every stored
value first and refused while any value would not convert; a new unique constraint is refused
while duplicates exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.issues import Issue
from engine.storage import system, tables
from engine.storage.spec import ColumnSpec, TableSpec

Converter = Callable[[Any], Any]
SAMPLE = 10


@dataclass(frozen=True)
class Step:
    """One change to the database, printable before it runs."""

    action: str
    table: str
    detail: str
    run: Callable[[Connection], None] = field(compare=False, repr=False)

    def describe(self) -> str:
        """Return a one-line description for ``tessera migrate --plan``."""
        return f"{self.action:<15} {self.table}: {self.detail}"


@dataclass
class MigrationPlan:
    """The steps for one form, and the issues that block it."""

    steps: list[Step] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the plan can be applied."""
        return not self.issues

    def describe(self) -> list[str]:
        """Return the plan as lines of text."""
        return [step.describe() for step in self.steps] + [f"BLOCKED {i.message}" for i in self.issues]

    def apply(self, connection: Connection) -> None:
        """Run every step on ``connection`` (the caller owns the transaction)."""
        if self.issues:
            raise ValueError("a blocked plan cannot be applied")
        for step in self.steps:
            step.run(connection)


@dataclass(frozen=True)
class StoredColumn:
    """A column as recorded in ``tessera_form_columns``."""

    table: str
    column: str
    field_key: str
    signature: str
    state: str


@dataclass
class Planner:
    """Builds a :class:`MigrationPlan` for the tables of one form."""

    connection: Connection
    form_version: int
    converters: dict[tuple[str, str], Converter] = field(default_factory=dict)
    renames: dict[tuple[str, str], str] = field(default_factory=dict)
    plan: MigrationPlan = field(default_factory=MigrationPlan)
    sequence: list[Step] | None = None
    moved: set[tuple[str, str]] = field(default_factory=set)

    def table_specs(self, specs: list[TableSpec]) -> MigrationPlan:
        """Plan all ``specs``: create missing tables, reconcile the columns of existing ones."""
        for spec in specs:
            if not table_exists(self.connection, spec.name):
                self.create_table(spec)
            else:
                self.reconcile(spec)
        return self.plan

    def _add(self, action: str, table: str, detail: str, run: Callable[[Connection], None]) -> None:
        step = Step(action, table, detail, run)
        self.plan.steps.append(step)
        if self.sequence is not None:
            self.sequence.append(step)

    def create_table(self, spec: TableSpec) -> None:
        """Plan the creation of a table that does not exist yet."""

        def run(connection: Connection) -> None:
            registry = tables.TableRegistry()
            referenced = {c.references.table for c in spec.columns if c.references} | {spec.parent or spec.name}
            for other in referenced - {spec.name} - set(registry.metadata.tables):
                sa.Table(other, registry.metadata, autoload_with=connection)
            registry.build(spec).create(connection)
            for columns, unique in tables.spec_indexes(spec):
                tables.create_index(connection, spec.name, columns, unique=unique)
            for column in spec.columns:
                record_column(connection, spec.name, column, column.name, self.form_version)

        self._add("create_table", spec.name, f"{len(spec.columns)} columns", run)

    def reconcile(self, spec: TableSpec) -> None:
        """Plan the changes that bring an existing table to ``spec``."""
        stored = load_columns(self.connection, spec.name)
        wanted = {c.name for c in spec.columns}
        renamed_sources = {
            self.renames[(spec.name, c.name)] for c in spec.columns if (spec.name, c.name) in self.renames
        }
        for column in spec.columns:
            self._column(spec, column, stored)
        for name, old in stored.items():
            if old.state == "active" and name not in wanted and name not in renamed_sources:
                self._retire(spec.name, old)
        self._indexes(spec, stored)

    def _column(self, spec: TableSpec, column: ColumnSpec, stored: dict[str, StoredColumn]) -> None:
        current = stored.get(column.name)
        source = self.renames.get((spec.name, column.name))
        if current is None and source and source in stored and stored[source].state == "active":
            self._rename(spec.name, stored[source], column)
            current = StoredColumn(spec.name, column.name, column.name, stored[source].signature, "active")
        if current is None:
            self.add_column(spec.name, column)
        elif current.state == "retired" and current.signature == column.type_signature():
            self._restore(spec.name, column)
        elif current.state == "retired":
            self._set_aside(spec.name, current)
            self.add_column(spec.name, column)
        elif current.signature != column.type_signature():
            self._change_type(spec.name, current, column)

    def add_column(self, table: str, column: ColumnSpec) -> None:
        """Plan a new nullable column."""

        def run(connection: Connection) -> None:
            tables.add_column(connection, table, column)
            record_column(connection, table, column, column.name, self.form_version)

        self._add("add_column", table, f"{column.name} {column.type_signature()}", run)

    def _retire(self, table: str, old: StoredColumn) -> None:
        def run(connection: Connection) -> None:
            set_state(connection, table, old.column, "retired")

        self._add("retire_column", table, f"{old.column} (hidden; data kept, restorable)", run)

    def _restore(self, table: str, column: ColumnSpec) -> None:
        def run(connection: Connection) -> None:
            set_state(connection, table, column.name, "active")

        self._add("restore_column", table, f"{column.name} (data from before it was removed)", run)

    def _set_aside(self, table: str, old: StoredColumn) -> None:
        new_name = f"{old.column}__v{self.form_version}"
        self.moved.add((table, old.column))

        def run(connection: Connection) -> None:
            tables.rename_column(connection, table, old.column, new_name)
            rename_record(connection, table, old.column, new_name)

        self._add("keep_column", table, f"retired {old.column} ({old.signature}) kept as {new_name}", run)

    def _rename(self, table: str, old: StoredColumn, column: ColumnSpec) -> None:
        def run(connection: Connection) -> None:
            tables.rename_column(connection, table, old.column, column.name)
            rename_record(connection, table, old.column, column.name)

        self._add("rename_column", table, f"{old.column} -> {column.name}", run)

    def _change_type(self, table: str, old: StoredColumn, column: ColumnSpec) -> None:
        converter = self.converters.get((table, column.name))
        if converter is None:
            self.plan.issues.append(
                Issue(
                    "type_change_unsupported",
                    f"{table}.{column.name}: no conversion from {old.signature} to {column.type_signature()}",
                    field=column.name,
                )
            )
            return
        failures = dry_run(self.connection, table, column.name, converter)
        if failures:
            sample = ", ".join(f"id {row_id}: {value!r}" for row_id, value in failures[:SAMPLE])
            self.plan.issues.append(
                Issue(
                    "type_change_loses_data",
                    f"{table}.{column.name}: {len(failures)} row(s) would not convert from {old.signature} to "
                    f"{column.type_signature()} ({sample})",
                    field=column.name,
                    hint="fix or clear those values first, or add a new field instead of changing the type",
                )
            )
            return
        kept = f"{column.name}__v{self.form_version - 1}"
        self.moved.add((table, column.name))

        def run(connection: Connection) -> None:
            convert_column(connection, table, column, kept, converter)
            rename_record(connection, table, column.name, kept)
            set_state(connection, table, kept, "retired")
            record_column(connection, table, column, column.name, self.form_version)

        self._add(
            "change_type",
            table,
            f"{column.name} {old.signature} -> {column.type_signature()} (old values kept in {kept})",
            run,
        )

    def _indexes(self, spec: TableSpec, stored: dict[str, StoredColumn]) -> None:
        for columns, unique in tables.spec_indexes(spec):
            # A type change or set-aside renames the old column, and its indexes go with it.
            names = [tables.index_column(c)[0] for c in columns]
            moved = any((spec.name, c) in self.moved for c in names)
            existing = all(c in stored for c in names) and not moved
            if unique and existing:
                duplicates = count_duplicates(self.connection, spec.name, columns)
                if duplicates:
                    self.plan.issues.append(
                        Issue(
                            "unique_violation_in_data",
                            f"{spec.name}({', '.join(columns)}): {duplicates} value(s) occur more than once; "
                            "cannot make it unique",
                            field=columns[0],
                            hint="remove the duplicates first",
                        )
                    )
                    continue
            if moved or not _index_exists(self.connection, spec.name, columns, unique):
                self._add_index(spec.name, columns, unique, replace=moved)
        wanted = {tables.index_name(spec.name, c, unique=u) for c, u in tables.spec_indexes(spec)}
        for index in sa.inspect(self.connection).get_indexes(spec.name):
            name = str(index["name"])
            if index["unique"] and name.startswith("uq_") and name not in wanted:
                self._drop_index(spec.name, name)

    def add_indexes(self, spec: TableSpec, columns: set[str]) -> None:
        """Plan the indexes of ``spec`` that involve ``columns`` (columns added after the table)."""
        for group, unique in tables.spec_indexes(spec):
            if columns & {tables.index_column(token)[0] for token in group}:
                self._add_index(spec.name, group, unique, replace=False)

    def _add_index(self, table: str, columns: tuple[str, ...], unique: bool, *, replace: bool) -> None:
        def run(connection: Connection) -> None:
            if replace:
                tables.drop_index(connection, table, columns, unique=unique)
            tables.create_index(connection, table, columns, unique=unique)

        self._add("add_index", table, f"{'unique ' if unique else ''}({', '.join(columns)})", run)

    def _drop_index(self, table: str, name: str) -> None:
        def run(connection: Connection) -> None:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {tables.quote(connection, name)}")

        self._add("drop_index", table, f"{name} (no longer unique)", run)


def table_exists(connection: Connection, table: str) -> bool:
    """Return whether ``table`` exists."""
    return bool(sa.inspect(connection).has_table(table))


def _index_exists(connection: Connection, table: str, columns: tuple[str, ...], unique: bool) -> bool:
    name = tables.index_name(table, columns, unique=unique)
    return any(ix["name"] == name for ix in sa.inspect(connection).get_indexes(table))


def load_columns(connection: Connection, table: str) -> dict[str, StoredColumn]:
    """Return the recorded columns of ``table`` by column name."""
    t = system.form_columns
    rows = connection.execute(sa.select(t).where(t.c.table_name == table)).mappings()
    return {
        r["column_name"]: StoredColumn(table, r["column_name"], r["field_key"], r["type_signature"], r["state"])
        for r in rows
    }


def record_column(connection: Connection, table: str, column: ColumnSpec, name: str, version: int) -> None:
    """Record a new active column."""
    connection.execute(
        sa.insert(system.form_columns).values(
            table_name=table,
            column_name=name,
            field_key=column.name,
            type_signature=column.type_signature(),
            state="active",
            form_version=version,
        )
    )


def set_state(connection: Connection, table: str, column: str, state: str) -> None:
    """Mark a recorded column active or retired."""
    t = system.form_columns
    connection.execute(sa.update(t).where(t.c.table_name == table, t.c.column_name == column).values(state=state))


def rename_record(connection: Connection, table: str, old: str, new: str) -> None:
    """Follow a column rename in the records of columns."""
    t = system.form_columns
    connection.execute(
        sa.update(t).where(t.c.table_name == table, t.c.column_name == old).values(column_name=new, field_key=new)
    )


def dry_run(connection: Connection, table: str, column: str, converter: Converter) -> list[tuple[int, Any]]:
    """Return (id, value) of every stored value that ``converter`` rejects."""
    t = sa.table(table, sa.column("id"), sa.column(column))
    failures: list[tuple[int, Any]] = []
    rows = connection.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None)))
    for row_id, value in rows:
        try:
            converter(value)
        except (ValueError, TypeError, ArithmeticError):
            failures.append((row_id, value))
    return failures


def convert_column(connection: Connection, table: str, column: ColumnSpec, kept: str, converter: Converter) -> None:
    """Keep the old column as ``kept`` and fill a new one with converted values."""
    tables.rename_column(connection, table, column.name, kept)
    tables.add_column(connection, table, column)
    t = sa.table(table, sa.column("id"), sa.column(kept), sa.column(column.name, tables.sql_type(column)))
    rows = connection.execute(sa.select(t.c.id, t.c[kept]).where(t.c[kept].is_not(None))).all()
    updates = [{"row_id": row_id, "value": converter(value)} for row_id, value in rows]
    if updates:
        statement = sa.update(t).where(t.c.id == sa.bindparam("row_id")).values({column.name: sa.bindparam("value")})
        connection.execute(statement, updates)


def count_duplicates(connection: Connection, table: str, columns: tuple[str, ...]) -> int:
    """Return how many non-null value combinations occur more than once."""
    t = sa.table(table, *(sa.column(c) for c in columns))
    cols = [t.c[c] for c in columns]
    grouped = (
        sa.select(*cols).where(*(c.is_not(None) for c in cols)).group_by(*cols).having(sa.func.count() > 1).subquery()
    )
    return int(connection.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one())
