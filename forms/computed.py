"""Formula values at run time: a record's context for the evaluator, and recomputation.

:class:`RecordContext` implements :class:`engine.expr.scope.Context` over stored rows: the
record's own values, paths through relations, sub-table rows, the records of other forms
that point here, and singleton (settings) records. Rows are read through one
:class:`RowLoader` per transaction, which caches what it read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.expr.scope import Context
from engine.issues import NotFoundError
from forms.catalog import Catalog, FormRuntime
from forms.definition import FormDefinition
from forms.expressions import FormScope
from forms.fields import FieldBase
from forms.fields.references import MultiRelationField, RelationField, SubtableField

_REVERSE: dict[tuple[object, str, str], tuple[FormDefinition, RelationField] | None] = {}


def _reverse_links(
    version: object, form: str, name: str, catalog: Catalog
) -> tuple[FormDefinition, RelationField] | None:
    key = (version, form, name)
    if key not in _REVERSE:
        forms = {rt.key: rt.definition for rt in catalog.forms()}
        _REVERSE[key] = FormScope(forms[form], forms).reverse_link(name)
    return _REVERSE[key]


class RowLoader:
    """Reads related rows for formulas inside one transaction, caching each query's answer."""

    def __init__(self, connection: Connection, catalog: Catalog) -> None:
        self.connection = connection
        self.catalog = catalog
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _cached(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def reverse_link(self, form: FormDefinition, name: str) -> tuple[FormDefinition, RelationField] | None:
        """The form and relation behind a reverse name, looked up once per catalog version."""
        return _reverse_links(self.catalog.forms_version(), form.key, name, self.catalog)

    def forget(self) -> None:
        """Drop cached rows (after a write in the same transaction)."""
        self._cache.clear()

    def record(self, form: str, record_id: Any) -> Mapping[str, Any] | None:
        """One record's main row."""
        table = self.catalog.form(form).table

        def load() -> Mapping[str, Any] | None:
            row = self.connection.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
            return dict(row) if row is not None else None

        return self._cached(("record", form, record_id), load)  # type: ignore[no-any-return]

    def pointing(self, form: str, link: str, record_id: Any) -> list[Mapping[str, Any]]:
        """The rows of ``form`` whose relation ``link`` points at ``record_id``."""
        table = self.catalog.form(form).table

        def load() -> list[Mapping[str, Any]]:
            query = sa.select(table).where(table.c[link] == record_id).order_by(table.c.id)
            return [dict(r) for r in self.connection.execute(query).mappings()]

        return self._cached(("pointing", form, link, record_id), load)  # type: ignore[no-any-return]

    def children(self, form: str, field: str, record_id: Any) -> list[Mapping[str, Any]]:
        """The sub-table rows (or link-table rows) of one record's field."""
        table = self.catalog.form(form).side_tables[field]

        def load() -> list[Mapping[str, Any]]:
            query = sa.select(table).where(table.c.parent_id == record_id).order_by(table.c.id)
            return [dict(r) for r in self.connection.execute(query).mappings()]

        return self._cached(("children", form, field, record_id), load)  # type: ignore[no-any-return]

    def singleton(self, form: str) -> Mapping[str, Any] | None:
        """The settings record of a singleton form (the first one)."""
        table = self.catalog.form(form).table

        def load() -> Mapping[str, Any] | None:
            row = self.connection.execute(sa.select(table).order_by(table.c.id).limit(1)).mappings().first()
            return dict(row) if row is not None else None

        return self._cached(("singleton", form), load)  # type: ignore[no-any-return]


class RecordContext:
    """The values a formula of one record (or one sub-table row) reads."""

    def __init__(
        self,
        runtime: FormRuntime,
        values: Mapping[str, Any],
        loader: RowLoader,
        *,
        user: Any = None,
        clock: dt.datetime,
        fields: Sequence[FieldBase] | None = None,
        parent: RecordContext | None = None,
    ) -> None:
        self.runtime = runtime
        self.values = values
        self.loader = loader
        self.user = user
        self.clock = clock
        self.fields = {f.key: f for f in (runtime.definition.fields if fields is None else fields)}
        self.parent = parent

    # -- Context protocol ---------------------------------------------------------------------
    @property
    def current_user(self) -> Any:
        return self.user

    @property
    def today(self) -> dt.date:
        return self.clock.date()

    @property
    def now(self) -> dt.datetime:
        return self.clock

    def value(self, path: Sequence[str]) -> Any:
        """The value at ``path``; a list where the path crosses to many rows; ``()`` is the record id."""
        if not path:
            return self.values.get("id") if self.parent is None else self.parent.value(path)
        field = self.fields.get(path[0])
        if field is None:
            if self.parent is not None:
                return self.parent.value(path)
            return self._other(path)
        rest = path[1:]
        if isinstance(field, SubtableField | MultiRelationField):
            return [row.value(rest) if rest else row.values.get("id") for row in self._field_rows(field)]
        if isinstance(field, RelationField) and rest:
            target = self._target(field)
            return None if target is None else target.value(rest)
        return self.values.get(field.key)

    def rows(self, path: Sequence[str]) -> list[Context]:
        """The rows ``path`` leads to (sub-table rows, related records, records pointing here)."""
        if not path:
            return []
        field = self.fields.get(path[0])
        if field is None:
            if self.parent is not None:
                return self.parent.rows(path)
            return list(self._pointing(path[0]))
        if isinstance(field, SubtableField | MultiRelationField):
            return list(self._field_rows(field))
        if isinstance(field, RelationField) and len(path) > 1:
            target = self._target(field)
            return [] if target is None else target.rows(path[1:])
        return []

    # -- navigation ---------------------------------------------------------------------------
    def _context(self, runtime: FormRuntime, values: Mapping[str, Any]) -> RecordContext:
        return RecordContext(runtime, values, self.loader, user=self.user, clock=self.clock)

    def _target(self, field: RelationField) -> RecordContext | None:
        target_id = self.values.get(field.key)
        if target_id is None:
            return None
        row = self.loader.record(field.target, target_id)
        return None if row is None else self._context(self.loader.catalog.form(field.target), row)

    def _field_rows(self, field: SubtableField | MultiRelationField) -> list[RecordContext]:
        submitted = self.values.get(field.key)
        record_id = self.values.get("id")
        rows: list[Mapping[str, Any]]
        if isinstance(submitted, list):
            # the rows being saved (rules and formulas checked before the write see these, not the stored ones)
            if isinstance(field, SubtableField):
                rows = [row for row in submitted if isinstance(row, dict)]
            else:
                rows = [{"target_id": target} for target in submitted if isinstance(target, int)]
        elif record_id is None:
            return []
        else:
            rows = self.loader.children(self.runtime.key, field.key, record_id)
        if isinstance(field, SubtableField):
            return [
                RecordContext(
                    self.runtime,
                    row,
                    self.loader,
                    user=self.user,
                    clock=self.clock,
                    fields=field.child_fields,
                    parent=self,
                )
                for row in rows
            ]
        target = self.loader.catalog.form(field.target)
        found = [self.loader.record(field.target, row["target_id"]) for row in rows]
        return [self._context(target, row) for row in found if row is not None]

    def _pointing(self, name: str) -> list[RecordContext]:
        link = self.loader.reverse_link(self.runtime.definition, name)
        record_id = self.values.get("id")
        if link is None or record_id is None:
            return []
        form, field = link
        runtime = self.loader.catalog.form(form.key)
        return [self._context(runtime, row) for row in self.loader.pointing(form.key, field.key, record_id)]

    def _other(self, path: Sequence[str]) -> Any:
        """A path that starts with a reverse-relation name or a singleton form key."""
        name, rest = path[0], path[1:]
        rows = self._pointing(name)
        if rows or self._is_reverse(name):
            return [row.value(rest) if rest else row.values.get("id") for row in rows]
        try:
            runtime = self.loader.catalog.form(name)
        except NotFoundError:
            return None
        if not runtime.definition.singleton or not rest:
            return None
        row = self.loader.singleton(name)
        return None if row is None else self._context(runtime, row).value(rest)

    def _is_reverse(self, name: str) -> bool:
        return self.loader.reverse_link(self.runtime.definition, name) is not None
