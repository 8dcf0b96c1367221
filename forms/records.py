"""The records service: create, read, update and delete records of any form.

Every write validates first (all problems at once), checks references in batches, assigns
auto-numbers inside the transaction, and turns database conflicts into issues that name
the field. Web routes call these functions and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.i18n import Locale
from engine.identity import audit
from engine.identity.principal import Principal
from engine.issues import ConflictError, ForbiddenError, Issue, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.counters import next_value
from engine.storage.database import Database
from forms import autonumber
from forms.access import FormAccess, Policy, not_found
from forms.catalog import Catalog, FormRuntime
from forms.computed import RecordContext, RowLoader
from forms.fields import FieldBase
from forms.fields.other import AttachmentField, AutonumberField
from forms.fields.references import (
    DepartmentField,
    MultiUserField,
    SubtableField,
    UserField,
    _MultiReference,
    _SingleReference,
)
from forms.formulas import compiled_for
from forms.messages import message
from forms.recompute import compute_own, propagate, recompute_readers, stored_value
from forms.rows import column_values, load_side_rows, record_json, utcnow, write_side_rows
from forms.rules import enforce_rules
from forms.validation import Use, validate_submission


@dataclass(frozen=True)
class Actor:
    """Who acts, in which language, through which path.

    ``principal`` is the signed-in user: when given, every operation is checked against their
    roles (:mod:`forms.access`). Without one the caller is trusted in-process code (the CLI, jobs,
    tests); the web layer always passes the principal (``tests/architecture`` checks it).
    ``system`` may also set read-only fields and skips form rules (installers, imports).
    """

    user_id: int | None = None
    locale: Locale = "zh"
    system: bool = False
    principal: Principal | None = None
    via: str = "system"

    @property
    def who(self) -> int | None:
        """The acting user's id (for audit and ``created_by``)."""
        return self.principal.user_id if self.principal is not None else self.user_id


SYSTEM_ACTOR = Actor(system=True, locale="en")


class RecordsService:
    """Record operations on the forms of one database."""

    def __init__(self, *, database: Database, catalog: Catalog, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.database = database
        self.catalog = catalog
        self.clock = clock
        self.policy = Policy(database, catalog)
        self._deferred: set[str] | None = None

    def access(self, form_key: str, actor: Actor) -> FormAccess | None:
        """The actor's rights on the form, or None for a trusted caller (no principal)."""
        if actor.principal is None:
            return None
        return self.policy.access(actor.principal, form_key)

    def create(self, form_key: str, raw: Any, *, actor: Actor) -> dict[str, Any]:
        """Validate and insert one record; return it as stored."""
        runtime = self.catalog.form(form_key)
        access = self.access(form_key, actor)
        if access is not None:
            self.policy.require(access, "create", actor.locale)
            _refuse_fields(access, raw, access.create_blocked(), actor.locale)
        use: Use = "system" if actor.system else "create"
        values = validate_submission(runtime.definition, raw, use=use, locale=actor.locale)
        try:
            with self.database.begin() as connection:
                _check_references(connection, self.catalog, runtime, values, actor.locale, self._read_scope(actor))
                _resolve_files(connection, runtime, values, actor.locale)
                self._fill_default_expressions(connection, runtime, values, actor)
                self._enforce(connection, runtime, values, values, actor)
                row = self._insert(connection, runtime, values, actor)
                record = self._record(connection, runtime, row)
                self._audit(connection, runtime, actor, "create", row["id"], None, row)
                if access is not None:
                    readable = access.matching_existing(connection, "read", row["id"], today=self.clock().date())
                    _strip(record, access.hidden_for(readable) if readable else access.possibly_hidden())
                return record
        except sa.exc.IntegrityError:
            # The transaction is rolled back; find out, outside it, which unique value clashed.
            with self.database.read() as connection:
                raise _conflict(connection, runtime, values, None, actor.locale) from None

    def get(self, form_key: str, record_id: int, *, actor: Actor) -> dict[str, Any]:
        """Return one record with its sub-table rows and links."""
        runtime = self.catalog.form(form_key)
        access = self.access(form_key, actor)
        with self.database.read() as connection:
            if access is None:
                return self._fetch(connection, runtime, record_id)
            self.policy.require(access, "read", actor.locale)
            grants = access.matching(connection, "read", record_id, today=self.clock().date())
            if not grants:
                raise not_found(form_key, record_id, actor.locale)
            record = self._fetch(connection, runtime, record_id)
            _strip(record, access.hidden_for(grants))
            return record

    def history(self, form_key: str, record_id: int, *, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
        """The record's audit entries, newest first (hidden fields left out), for whoever may read it."""
        self.catalog.form(form_key)
        access = self.access(form_key, actor)
        with self.database.read() as connection:
            hidden: frozenset[str] = frozenset()
            if access is not None:
                self.policy.require(access, "read", actor.locale)
                grants = access.matching(connection, "read", record_id, today=self.clock().date())
                if not grants:
                    raise not_found(form_key, record_id, actor.locale)
                hidden = access.hidden_for(grants)
            entries = audit.history(connection, "form", form_key, record_id, limit=limit)
        for entry in entries:
            if entry["changes"]:
                entry["changes"] = {k: v for k, v in entry["changes"].items() if k not in hidden}
        return entries

    def _read_scope(self, actor: Actor) -> Callable[[str], Any] | None:
        """Form key -> the actor's read condition on it (None for a trusted caller)."""
        principal = actor.principal
        if principal is None:
            return None
        today = self.clock().date()
        return lambda form: self.policy.access(principal, form).where("read", today=today)

    def _authorize(
        self, connection: Connection, access: FormAccess | None, action: str, record_id: int, raw: Any, actor: Actor
    ) -> None:
        """Refuse an update or delete: 404 when the record is not readable, 403 when it is but not changeable."""
        if access is None:
            return
        today = self.clock().date()
        granted = access.matching(connection, action, record_id, today=today) if access.can(action) else []
        read = access.matching(connection, "read", record_id, today=today) if access.can("read") else []
        if not granted:
            if not read:
                if not access.can("read") and not access.can("create"):
                    self.policy.require(access, "read", actor.locale)  # the form itself is unknown to them
                raise not_found(access.form, record_id, actor.locale)
            self.policy.require(access, action, actor.locale)
            raise _forbidden_record(access, action, record_id, actor.locale)
        if action == "update":
            _refuse_fields(access, raw, access.not_writable(granted, read), actor.locale)

    def update(self, form_key: str, record_id: int, raw: Any, *, version: int | None, actor: Actor) -> dict[str, Any]:
        """Apply a partial update if ``version`` is still current (optimistic lock)."""
        runtime = self.catalog.form(form_key)
        if version is None:
            text = (
                "需要提供记录版本（If-Match 或 version）"
                if actor.locale == "zh"
                else "the record's version is required (If-Match header or 'version' in the body)"
            )
            raise ValidationError(text, [Issue("version_required", text, field="version")], code="version_required")
        use: Use = "system_update" if actor.system else "update"
        values = validate_submission(runtime.definition, raw, use=use, locale=actor.locale)
        table = runtime.table
        where = (table.c.id == record_id) & (table.c.version == version)
        access = self.access(form_key, actor)
        try:
            with self.database.begin() as connection:
                self._authorize(connection, access, "update", record_id, raw, actor)
                _check_references(connection, self.catalog, runtime, values, actor.locale, self._read_scope(actor))
                _resolve_files(connection, runtime, values, actor.locale)
                changes = {
                    **column_values(runtime.definition.fields, values),
                    "version": table.c.version + 1,
                    "updated_at": self.clock(),
                    "updated_by": actor.who,
                }
                statement = sa.update(table).where(where).values(changes).returning(*table.c)
                before = connection.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
                if before is not None:
                    self._enforce(connection, runtime, {**before, **values}, values, actor)
                row = connection.execute(statement).mappings().first()
                if row is None or before is None:
                    raise _stale(connection, runtime, record_id, version, actor.locale)
                write_side_rows(connection, runtime, record_id, values, replace=True)
                row = self._after_write(connection, runtime, before, row, actor)
                self._audit(connection, runtime, actor, "update", record_id, before, row)
                record = self._record(connection, runtime, row)
                if access is not None:
                    readable = access.matching_existing(connection, "read", record_id, today=self.clock().date())
                    _strip(record, access.hidden_for(readable) if readable else access.possibly_hidden())
                return record
        except sa.exc.IntegrityError:
            with self.database.read() as connection:
                raise _conflict(connection, runtime, values, record_id, actor.locale) from None

    def delete(self, form_key: str, record_id: int, *, version: int | None, actor: Actor) -> None:
        """Delete one record (and its child rows); refuse while other records point at it."""
        runtime = self.catalog.form(form_key)
        table = runtime.table
        access = self.access(form_key, actor)
        with self.database.begin() as connection:
            self._authorize(connection, access, "delete", record_id, None, actor)
            condition = table.c.id == record_id
            if version is not None:
                condition = condition & (table.c.version == version)
            try:
                with connection.begin_nested():
                    before = connection.execute(sa.select(table).where(condition)).mappings().first()
                    if before is None or connection.execute(sa.delete(table).where(condition)).rowcount == 0:
                        raise _stale(connection, runtime, record_id, version or 0, actor.locale)
                    self._after_delete(connection, runtime, before, actor)
                    self._audit(connection, runtime, actor, "delete", record_id, before, None)
            except sa.exc.IntegrityError:
                text = (
                    "其他记录仍引用此记录，无法删除"
                    if actor.locale == "zh"
                    else "other records still refer to this record; it cannot be deleted"
                )
                raise ConflictError(text, code="still_referenced") from None

    def insert_many(self, form_key: str, rows: list[Mapping[str, Any]], *, actor: Actor, connection: Connection) -> int:
        """Validate and insert many records in the caller's transaction (ids may be given)."""
        runtime = self.catalog.form(form_key)
        self._deferred = set()
        try:
            for row in rows:
                explicit_id = row.get("id")
                payload = {k: v for k, v in row.items() if k != "id"}
                values = validate_submission(runtime.definition, payload, use="system", locale=actor.locale)
                stored = self._insert(connection, runtime, values, actor, record_id=explicit_id)
                if not actor.system:
                    self._audit(connection, runtime, actor, "create", stored["id"], None, stored)
        finally:
            written, self._deferred = self._deferred, None
        if actor.system and rows:  # bulk loads by installers and the demo: one entry, not one per row
            audit.record(
                connection, user_id=actor.who, via=actor.via, action="bulk_create", target_kind="form",
                target_key=form_key, changes={"count": [None, len(rows)]},
            )  # fmt: skip
        # Rows loaded in bulk: recompute each form that reads them once, not once per row.
        recompute_readers(self.catalog, connection, written, clock=self.clock())
        return len(rows)

    def _insert(
        self,
        connection: Connection,
        runtime: FormRuntime,
        values: dict[str, Any],
        actor: Actor,
        *,
        record_id: int | None = None,
    ) -> sa.RowMapping:
        """Insert the record and its side rows; return the stored main row."""
        now = self.clock()
        _fill_autonumbers(connection, runtime, values, now.date())
        row = {
            **column_values(runtime.definition.fields, values),
            "version": 1,
            "form_version": runtime.version,
            "created_at": now,
            "created_by": actor.who,
            "updated_at": now,
            "updated_by": actor.who,
        }
        if record_id is not None:
            row["id"] = record_id
        stored = connection.execute(_insert_statement(runtime.table), row).mappings().one()
        write_side_rows(connection, runtime, stored["id"], values, replace=False)
        return self._after_write(connection, runtime, {}, stored, actor)

    def _fill_default_expressions(
        self, connection: Connection, runtime: FormRuntime, values: dict[str, Any], actor: Actor
    ) -> None:
        """Give fields left out of a new record the value of their ``"=..."`` default."""
        missing = [f for f in runtime.definition.fields if f.default_expression is not None and f.key not in values]
        if not missing:
            return
        loader = RowLoader(connection, self.catalog)
        context = RecordContext(runtime, values, loader, user=actor.user_id, clock=self.clock())
        for field in missing:
            forms = {rt.key: rt.definition for rt in self.catalog.forms()}
            run = compiled_for(field.default_expression or "", runtime.definition, forms)
            value = stored_value(field, run(context))
            if value is not None:
                values[field.key] = value

    def _enforce(
        self,
        connection: Connection,
        runtime: FormRuntime,
        merged: Mapping[str, Any],
        changed: Mapping[str, Any],
        actor: Actor,
    ) -> None:
        """Check required_if / readonly_if / assert rules against the record as it would be saved."""
        if actor.system:
            return  # installers and imports load data as it is; rules guard people's edits
        loader = RowLoader(connection, self.catalog)
        record = dict(merged)
        # Rules may read formula fields (tier <> tier_suggested): compute them on the would-be record first.
        compute_own(self.catalog.formula_plan(), runtime, record, loader, user=actor.user_id, clock=self.clock())
        enforce_rules(runtime, record, changed, loader, user=actor.user_id, clock=self.clock(), locale=actor.locale)

    def _after_write(
        self,
        connection: Connection,
        runtime: FormRuntime,
        before: Mapping[str, Any] | sa.RowMapping,
        row: sa.RowMapping,
        actor: Actor,
    ) -> sa.RowMapping:
        """Compute the record's formula fields, then recompute the formulas that read it elsewhere."""
        plan = self.catalog.formula_plan()
        if not plan.own.get(runtime.key) and not plan.dependents(runtime.key, runtime.definition.field_map):
            return row
        loader = RowLoader(connection, self.catalog)
        now = self.clock()
        values = dict(row)
        results = compute_own(plan, runtime, values, loader, user=actor.user_id, clock=now)
        moved = {key: value for key, value in results.items() if row.get(key) != value}
        if moved:
            table = runtime.table
            statement = sa.update(table).where(table.c.id == row["id"]).values(moved).returning(*table.c)
            row = connection.execute(statement).mappings().one()
        changed = [key for key in values if key not in before or before.get(key) != values.get(key)]
        if self._deferred is not None:
            self._deferred.add(runtime.key)  # insert_many recomputes the readers once at the end
            return row
        propagate(
            plan,
            self.catalog,
            loader,
            form=runtime.key,
            before=dict(before),
            after=values,
            changed=changed,
            user=actor.user_id,
            clock=now,
        )
        return row

    def _after_delete(self, connection: Connection, runtime: FormRuntime, before: sa.RowMapping, actor: Actor) -> None:
        """Recompute the formulas that aggregated the deleted record (``account.open_risk_alerts``)."""
        plan = self.catalog.formula_plan()
        if not plan.dependents(runtime.key, runtime.definition.field_map):
            return
        loader = RowLoader(connection, self.catalog)
        propagate(
            plan,
            self.catalog,
            loader,
            form=runtime.key,
            before=dict(before),
            after={},
            changed=list(before.keys()),
            user=actor.user_id,
            clock=self.clock(),
        )

    def _audit(
        self,
        connection: Connection,
        runtime: FormRuntime,
        actor: Actor,
        action: str,
        record_id: int,
        before: Mapping[str, Any] | sa.RowMapping | None,
        after: Mapping[str, Any] | sa.RowMapping | None,
    ) -> None:
        """One audit entry in the write's transaction: the field-level before/after of the stored columns."""
        keys = [f.key for f in runtime.definition.fields if f.storage == "column"]
        audit.record(
            connection,
            user_id=actor.who,
            via=actor.via,
            action=action,
            target_kind="form",
            target_key=runtime.key,
            record_id=record_id,
            changes=audit.diff(dict(before) if before is not None else None, dict(after) if after else None, keys),
            at=self.clock(),
        )

    def _fetch(self, connection: Connection, runtime: FormRuntime, record_id: int) -> dict[str, Any]:
        row = connection.execute(sa.select(runtime.table).where(runtime.table.c.id == record_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"{runtime.key} record {record_id} does not exist", code="unknown_record")
        return self._record(connection, runtime, row)

    @staticmethod
    def _record(connection: Connection, runtime: FormRuntime, row: sa.RowMapping) -> dict[str, Any]:
        """The record JSON of a stored main row, with its side rows (one query per side table)."""
        record = record_json(runtime, row)
        load_side_rows(connection, runtime, [record])
        return record


_INSERTS: dict[int, tuple[sa.Table, sa.Insert]] = {}


def _strip(record: dict[str, Any], hidden: frozenset[str]) -> None:
    for key in hidden:
        record.pop(key, None)


def _refuse_fields(access: FormAccess, raw: Any, blocked: frozenset[str], locale: Locale) -> None:
    """403 naming every submitted field the user may not set."""
    if not isinstance(raw, dict) or not blocked:
        return
    refused = sorted(key for key in raw if key in blocked)
    if not refused:
        return
    text = "您无权修改以下字段：" + "、".join(refused) if locale == "zh" else "you may not set: " + ", ".join(refused)
    issues = [
        Issue("field_forbidden", "无权修改此字段" if locale == "zh" else "you may not set this field", field=key)
        for key in refused
    ]
    raise ForbiddenError(text, code="field_forbidden", issues=issues)


def _forbidden_record(access: FormAccess, action: str, record_id: int, locale: Locale) -> ForbiddenError:
    verb = {"update": ("修改", "change"), "delete": ("删除", "delete")}.get(action, (action, action))
    text = (
        f"您没有{verb[0]}记录 {access.form}/{record_id} 的权限"
        if locale == "zh"
        else f"you may not {verb[1]} record {access.form}/{record_id}"
    )
    return ForbiddenError(text, code="forbidden")


def _insert_statement(table: sa.Table) -> sa.Insert:
    """``INSERT ... RETURNING *`` built once per table object (building statements is not free)."""
    cached = _INSERTS.get(id(table))
    if cached is None or cached[0] is not table:
        cached = (table, sa.insert(table).returning(*table.c))
        _INSERTS[id(table)] = cached
    return cached[1]


def _fill_autonumbers(connection: Connection, runtime: FormRuntime, values: dict[str, Any], today: dt.date) -> None:
    for field in runtime.definition.fields:
        if isinstance(field, AutonumberField) and not values.get(field.key):
            period = autonumber.period_of(field.pattern, today)
            counter = next_value(connection, form=runtime.key, field=field.key, period=period)
            values[field.key] = autonumber.render(field.pattern, today, counter)


def _reference_table(catalog: Catalog, field: Any) -> sa.Table:
    if isinstance(field, UserField | MultiUserField):
        return system.users
    if isinstance(field, DepartmentField):
        return system.departments
    return catalog.form(field.target).table


def _reference_uses(
    fields: Sequence[FieldBase], values: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[FieldBase, str, set[int]]]:
    """Yield (field, path, ids) for every reference value, including those in sub-table rows."""
    for field in fields:
        value = values.get(field.key)
        if value is None:
            continue
        if isinstance(field, SubtableField):
            for index, row in enumerate(value):
                yield from _reference_uses(field.child_fields, row, f"{prefix}{field.key}[{index}].")
        elif isinstance(field, _SingleReference | _MultiReference):
            ids = set(value) if isinstance(value, list) else {value}
            if ids:
                yield field, prefix + field.key, ids


def _check_references(
    connection: Connection,
    catalog: Catalog,
    runtime: FormRuntime,
    values: dict[str, Any],
    locale: Locale,
    scope: Callable[[str], Any] | None = None,
) -> None:
    """Check every referenced id exists: one query per referenced table.

    With ``scope`` (form key -> the user's read condition), records the user may not read count
    as missing: a reference is no way to learn that a hidden record exists.
    """
    uses = list(_reference_uses(runtime.definition.fields, values))
    wanted: dict[str, tuple[sa.Table, set[int], str | None]] = {}
    for field, _path, ids in uses:
        table = _reference_table(catalog, field)
        target = getattr(field, "target", None)
        wanted.setdefault(table.name, (table, set(), target))[1].update(ids)
    found: dict[str, set[int]] = {}
    for name, (table, ids, target) in wanted.items():
        query = sa.select(table.c.id).where(table.c.id.in_(ids))
        if scope is not None and target is not None:
            condition = scope(target)
            if condition is not None:
                query = query.where(condition)
        found[name] = set(connection.execute(query).scalars())
    issues = [
        Issue("not_found_reference", message("not_found_reference", locale, value=missing), field=path)
        for field, path, ids in uses
        for missing in sorted(ids - found[_reference_table(catalog, field).name])
    ]
    if issues:
        raise ValidationError(issues[0].message, issues)


def _resolve_files(connection: Connection, runtime: FormRuntime, values: dict[str, Any], locale: Locale) -> None:
    """Replace attachment references by the stored files' metadata (checking they belong to the field)."""
    issues: list[Issue] = []
    for field in runtime.definition.fields:
        refs = values.get(field.key)
        if not isinstance(field, AttachmentField) or not refs:
            continue
        ids = [ref["id"] for ref in refs]
        f = system.files
        query = sa.select(f.c.id, f.c.name, f.c.size, f.c.content_type).where(
            f.c.id.in_(ids), f.c.form_key == runtime.key, f.c.field_key == field.key
        )
        found = {row.id: dict(row._mapping) for row in connection.execute(query)}
        for index, file_id in enumerate(ids):
            if file_id not in found:
                issues.append(
                    Issue(
                        "file_not_found",
                        message("file_not_found", locale, value=file_id),
                        field=f"{field.key}[{index}]",
                    )
                )
        values[field.key] = [found[i] for i in ids if i in found]
    if issues:
        raise ValidationError(issues[0].message, issues)


def _stale(connection: Connection, runtime: FormRuntime, record_id: int, version: int, locale: Locale) -> Exception:
    table = runtime.table
    current = connection.execute(sa.select(table.c.version).where(table.c.id == record_id)).scalar()
    if current is None:
        return NotFoundError(f"{runtime.key} record {record_id} does not exist", code="unknown_record")
    text = (
        f"记录已被他人修改（当前版本 {current}，提交的版本 {version}），请刷新后重试"
        if locale == "zh"
        else f"the record was changed by someone else (now version {current}, you sent {version}); "
        "reload and apply your change again"
    )
    return ConflictError(
        text,
        code="stale_version",
        issues=[Issue("stale_version", text, field="version", hint=f"current version: {current}")],
    )


def _conflict(
    connection: Connection, runtime: FormRuntime, values: dict[str, Any], record_id: int | None, locale: Locale
) -> Exception:
    """Name the unique field (or field group) whose value already exists."""
    table = runtime.table
    groups: list[tuple[str, ...]] = [(f.key,) for f in runtime.definition.fields if f.unique]
    groups += [tuple(g) for g in runtime.definition.unique_together]
    issues: list[Issue] = []
    if record_id is not None:  # an update may change one field of a group: compare with the stored others
        stored = connection.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
        values = {**(stored or {}), **values}
    for group in groups:
        if any(values.get(key) is None for key in group):
            continue
        condition = sa.and_(*(table.c[key] == values[key] for key in group))
        if record_id is not None:
            condition = condition & (table.c.id != record_id)
        if connection.execute(sa.select(table.c.id).where(condition).limit(1)).first():
            shown = ", ".join(str(values[key]) for key in group)
            issues.append(Issue("unique", message("unique", locale, value=shown), field=group[-1]))
    if not issues:
        text = "与其他记录冲突" if locale == "zh" else "the change conflicts with other records"
        return ConflictError(text, code="conflict")
    return ConflictError(issues[0].message, code="unique", issues=issues)
