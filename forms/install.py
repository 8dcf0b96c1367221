"""Installing an app bundle: store definition versions and migrate storage safely."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import sqlalchemy as sa
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.engine import Connection

from engine.definitions.base import Definition
from engine.definitions.bundle import AppBundle
from engine.identity import audit
from engine.issues import EngineError, Issue
from engine.storage import system
from engine.storage.database import Database
from engine.storage.migrate import Converter, MigrationPlan, Planner, Step, table_exists
from engine.storage.schema_version import ensure_current
from engine.storage.spec import ColumnSpec, TableSpec
from forms.definition import FormDefinition
from forms.fields import FieldBase
from forms.tables import form_table_specs, table_name
from forms.validation import _row_model

Progress = Callable[[str], None]


@dataclass
class FormChange:
    """What installing changes for one form."""

    key: str
    old_version: int | None
    new_version: int
    plan: MigrationPlan


@dataclass
class InstallResult:
    """The outcome of planning (and maybe applying) a bundle."""

    app_key: str
    changes: list[FormChange] = field(default_factory=list)
    sequence: list[Step] = field(default_factory=list)
    applied: bool = False
    roles: list[tuple[str, int | None, int]] = field(default_factory=list)  # (key, old version, new version)

    @property
    def issues(self) -> list[Issue]:
        """Every issue that blocks the install."""
        return [issue for change in self.changes for issue in change.plan.issues]

    def describe(self) -> list[str]:
        """The plan as text, form by form."""
        lines: list[str] = []
        for change in self.changes:
            was = f"v{change.old_version}" if change.old_version else "new"
            lines.append(f"form {change.key}: {was} -> v{change.new_version}")
            lines += [f"  {line}" for line in change.plan.describe()] or ["  (no storage change)"]
        for key, old, new in self.roles:
            lines.append(f"role {key}: {f'v{old}' if old else 'new'} -> v{new}")
        return lines or ["nothing to change"]


def content_hash(form: Definition) -> str:
    """Hash of a definition's canonical JSON, to skip unchanged definitions."""
    canonical = json.dumps(form.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def converter_for(field: FieldBase) -> Converter:
    """Convert a stored value of an older column type to ``field``'s type (raise if impossible)."""
    adapter: TypeAdapter[Any] = TypeAdapter(field.value_type(_row_model))

    def convert(value: Any) -> Any:
        try:
            return field.to_db(adapter.validate_python(value))
        except PydanticValidationError:
            if isinstance(value, str):
                raise ValueError(value) from None
        try:
            return field.to_db(adapter.validate_python(str(value)))
        except PydanticValidationError:
            raise ValueError(value) from None

    return convert


def install_bundle(
    database: Database, bundle: AppBundle, *, apply: bool, progress: Progress | None = None
) -> InstallResult:
    """Plan the bundle against the database and, if ``apply`` and nothing blocks, apply it in one transaction."""
    say = progress or (lambda _message: None)
    ensure_current(database)
    forms = [d for d in bundle.of_kind("form") if isinstance(d, FormDefinition)]
    with database.begin() as connection:
        result = _plan(connection, bundle.app.key, forms, say)
        result.roles = _role_changes(connection, bundle)
        if apply and not result.issues:
            _apply(connection, bundle, forms, result, say)
            result.applied = True
        elif apply:
            connection.rollback()
    return result


def _existing(connection: Connection) -> dict[str, Any]:
    return {r.key: r for r in connection.execute(sa.select(system.forms))}


def _stored_hash(connection: Connection, key: str, version: int) -> str | None:
    d = system.definitions
    query = sa.select(d.c.content_hash).where(d.c.kind == "form", d.c.key == key, d.c.version == version)
    found = connection.execute(query).scalar()
    return str(found) if found is not None else None


def _plan(connection: Connection, app_key: str, forms: list[FormDefinition], say: Progress) -> InstallResult:
    existing = _existing(connection)
    result = InstallResult(app_key)
    tables_of = {key: row.table_name for key, row in existing.items()}
    for form in forms:
        row = existing.get(form.key)
        if row is not None and row.app_key != app_key:
            raise EngineError(
                f"form '{form.key}' already belongs to app '{row.app_key}'", status=409, code="form_key_taken"
            )
        tables_of.setdefault(form.key, table_name(app_key, form.key))
    new_tables: list[tuple[Planner, TableSpec]] = []
    for form in forms:
        row = existing.get(form.key)
        if row is not None and _stored_hash(connection, form.key, row.version) == content_hash(form):
            continue
        say(f"planning {form.key}")
        new_version = (row.version + 1) if row is not None else 1
        specs = form_table_specs(form, tables_of[form.key], lambda key: tables_of.get(key, key))
        planner = Planner(
            connection,
            new_version,
            converters=_converters(form, specs),
            renames=_renames(form, specs),
            sequence=result.sequence,
        )
        result.changes.append(FormChange(form.key, row.version if row else None, new_version, planner.plan))
        for spec in specs:
            if table_exists(connection, spec.name):
                planner.reconcile(spec)
            else:
                new_tables.append((planner, spec))
    _plan_creations(new_tables)
    return result


def _plan_creations(new_tables: list[tuple[Planner, TableSpec]]) -> None:
    """Create new tables so that referenced tables exist first.

    Tables are created in dependency order; a reference that closes a cycle (A -> B -> A)
    is added as a column once both tables exist.
    """
    graph: nx.DiGraph[str] = nx.DiGraph()
    by_name = {spec.name: (planner, spec) for planner, spec in new_tables}
    graph.add_nodes_from(by_name)
    for name, (_planner, spec) in by_name.items():
        targets = {c.references.table for c in spec.columns if c.references} | {spec.parent or name}
        graph.add_edges_from((target, name) for target in targets if target in by_name and target != name)
    order = list(nx.lexicographical_topological_sort(nx.condensation(graph)))
    members = nx.condensation(graph).nodes
    created: set[str] = set()
    deferred: list[tuple[Planner, str, ColumnSpec]] = []
    completed: list[tuple[Planner, TableSpec, set[str]]] = []
    for component in order:
        for name in sorted(members[component]["members"]):
            planner, spec = by_name[name]
            later = [
                c
                for c in spec.columns
                if c.references and c.references.table in by_name and c.references.table not in created | {name}
            ]
            names = {c.name for c in later}
            first = replace(
                spec,
                columns=tuple(c for c in spec.columns if c not in later),
                unique_together=_without(spec.unique_together, names),
                indexes=_without(spec.indexes, names),
            )
            planner.create_table(first)
            deferred += [(planner, name, c) for c in later]
            if later:
                completed.append((planner, spec, names))
            created.add(name)
    for planner, name, column in deferred:
        planner.add_column(name, column)
    for planner, spec, names in completed:
        planner.add_indexes(spec, names)


def _without(groups: tuple[tuple[str, ...], ...], names: set[str]) -> tuple[tuple[str, ...], ...]:
    """The column groups that use none of ``names`` (their indexes come once those columns exist)."""
    return tuple(group for group in groups if not names & set(group))


def _converters(form: FormDefinition, specs: list[TableSpec]) -> dict[tuple[str, str], Converter]:
    main = specs[0].name
    return {(main, f.key): converter_for(f) for f in form.fields if f.storage == "column"}


def _renames(form: FormDefinition, specs: list[TableSpec]) -> dict[tuple[str, str], str]:
    main = specs[0].name
    return {(main, f.key): f.renamed_from for f in form.fields if f.renamed_from}


def _apply(
    connection: Connection, bundle: AppBundle, forms: list[FormDefinition], result: InstallResult, say: Progress
) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    by_key = {f.key: f for f in forms}
    for step in result.sequence:
        say(f"{step.action} {step.table}")
        step.run(connection)
    for change in result.changes:
        form = by_key[change.key]
        content = form.model_dump(mode="json", by_alias=True, exclude_none=True)
        connection.execute(
            sa.insert(system.definitions).values(
                app_key=bundle.app.key,
                kind="form",
                key=form.key,
                version=change.new_version,
                content=content,
                content_hash=content_hash(form),
                created_at=now,
            )
        )
        values = {
            "app_key": bundle.app.key,
            "table_name": table_name(bundle.app.key, form.key),
            "version": change.new_version,
        }
        if change.old_version is None:
            connection.execute(sa.insert(system.forms).values(key=form.key, **values))
        else:
            connection.execute(
                sa.update(system.forms).where(system.forms.c.key == form.key).values(version=change.new_version)
            )
    for change in result.changes:
        audit.record(
            connection, user_id=None, via="system", action="definition_install", target_kind="form",
            target_key=change.key, changes={"version": [change.old_version, change.new_version]}, at=now,
        )  # fmt: skip
    roles = {d.key: d for d in bundle.of_kind("role")}
    for key, old, new in result.roles:
        role = roles[key]
        connection.execute(
            sa.insert(system.definitions).values(
                app_key=bundle.app.key,
                kind="role",
                key=key,
                version=new,
                content=role.model_dump(mode="json", by_alias=True, exclude_none=True),
                content_hash=content_hash(role),
                created_at=now,
            )
        )
        audit.record(
            connection, user_id=None, via="system", action="permission_change", target_kind="role",
            target_key=key, changes={"version": [old, new]}, at=now,
        )  # fmt: skip
    _record_app(connection, bundle, now)


def _role_changes(connection: Connection, bundle: AppBundle) -> list[tuple[str, int | None, int]]:
    """Roles of the bundle that are new or differ from their stored newest version."""
    d = system.definitions
    changes: list[tuple[str, int | None, int]] = []
    for role in bundle.of_kind("role"):
        row = connection.execute(
            sa.select(d.c.version, d.c.content_hash, d.c.app_key)
            .where(d.c.kind == "role", d.c.key == role.key)
            .order_by(d.c.version.desc())
            .limit(1)
        ).first()
        if row is not None and row.app_key != bundle.app.key:
            raise EngineError(
                f"role '{role.key}' already belongs to app '{row.app_key}'", status=409, code="role_key_taken"
            )
        if row is None or row.content_hash != content_hash(role):
            changes.append((role.key, row.version if row else None, (row.version + 1) if row else 1))
    return changes


def _record_app(connection: Connection, bundle: AppBundle, now: dt.datetime) -> None:
    app = bundle.app
    label = app.label if isinstance(app.label, str) else app.label.model_dump(exclude_none=True)
    exists = connection.execute(sa.select(system.apps.c.key).where(system.apps.c.key == app.key)).first()
    if exists:
        connection.execute(
            sa.update(system.apps)
            .where(system.apps.c.key == app.key)
            .values(version=app.version, label=label, updated_at=now)
        )
    else:
        connection.execute(
            sa.insert(system.apps).values(
                key=app.key, version=app.version, label=label, installed_at=now, updated_at=now
            )
        )
