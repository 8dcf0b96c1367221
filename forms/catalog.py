"""The installed forms of one database, loaded from stored definitions and cached by version."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.issues import NotFoundError, did_you_mean
from engine.storage import system
from engine.storage.database import Database
from engine.storage.tables import TableRegistry
from forms.definition import FormDefinition
from forms.tables import form_table_specs

if TYPE_CHECKING:
    from forms.recompute import FormulaPlan

REFRESH_SECONDS = 1.0


@dataclass
class FormRuntime:
    """A form as served: its definition version, tables and side tables."""

    definition: FormDefinition
    version: int
    app_key: str
    table: sa.Table
    side_tables: dict[str, sa.Table] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The form key."""
        return self.definition.key


class Catalog:
    """Forms by key, rebuilt when another process or an install stores a new definition."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._forms: dict[str, FormRuntime] = {}
        self._apps: dict[str, dict[str, Any]] = {}
        self._marker: Any = None
        self._checked = 0.0
        self._plan: FormulaPlan | None = None

    def form(self, key: str) -> FormRuntime:
        """Return the installed form ``key``.

        Raises:
            NotFoundError: no such form (with a did-you-mean hint).
        """
        forms = self._current()
        runtime = forms.get(key)
        if runtime is None:
            hint = did_you_mean(key, forms)
            raise NotFoundError(f"unknown form '{key}'" + (f" ({hint})" if hint else ""), code="unknown_form")
        return runtime

    def forms(self) -> list[FormRuntime]:
        """Return all installed forms."""
        return list(self._current().values())

    def apps(self) -> list[dict[str, Any]]:
        """Return the installed apps with their forms."""
        self._current()
        return list(self._apps.values())

    def forms_version(self) -> object:
        """A value that changes whenever the installed definitions change (a cache key)."""
        self._current()
        return self._marker

    def formula_plan(self) -> FormulaPlan:
        """The compiled formulas of the installed forms (rebuilt when a definition changes)."""
        forms = self._current()
        if self._plan is None:
            from forms.recompute import FormulaPlan  # recompute imports this module

            self._plan = FormulaPlan({key: runtime.definition for key, runtime in forms.items()})
        return self._plan

    def invalidate(self) -> None:
        """Force a reload on next use (after an install in this process)."""
        self._checked = 0.0
        self._marker = None

    def _current(self) -> dict[str, FormRuntime]:
        now = time.monotonic()
        if now - self._checked < REFRESH_SECONDS and self._marker is not None:
            return self._forms
        with self._lock, self.database.engine.connect() as connection:
            marker = connection.execute(sa.select(sa.func.max(system.definitions.c.id))).scalar()
            if marker != self._marker or self._marker is None:
                self._forms, self._apps = _load(connection)
                self._plan = None
                self._marker = marker
            self._checked = now
        return self._forms


def _load(connection: Connection) -> tuple[dict[str, FormRuntime], dict[str, dict[str, Any]]]:
    f, d = system.forms, system.definitions
    query = (
        sa.select(f.c.key, f.c.app_key, f.c.table_name, f.c.version, d.c.content)
        .join(d, sa.and_(d.c.kind == "form", d.c.key == f.c.key, d.c.version == f.c.version))
        .order_by(f.c.key)
    )
    rows = connection.execute(query).all()
    tables_of = {row.key: row.table_name for row in rows}
    registry = TableRegistry()
    forms: dict[str, FormRuntime] = {}
    for row in rows:
        definition = FormDefinition.model_validate(row.content)
        specs = form_table_specs(definition, row.table_name, lambda key: tables_of.get(key, key))
        main = registry.build(specs[0])
        sides = {spec.owner_field: registry.build(spec) for spec in specs[1:] if spec.owner_field}
        forms[row.key] = FormRuntime(definition, row.version, row.app_key, main, sides)
    apps = {
        r.key: {
            "key": r.key,
            "version": r.version,
            "label": r.label,
            "forms": [k for k, rt in forms.items() if rt.app_key == r.key],
        }
        for r in connection.execute(sa.select(system.apps).order_by(system.apps.c.key))
    }
    return forms, apps
