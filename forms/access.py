"""Who may do what to which records and fields: the role definitions compiled against the forms.

Every path that reads or writes records (get, list, update, delete, relation expansion, and later
reports and exports) asks :class:`Policy` for a :class:`FormAccess` and applies it *in the query*:
row scopes are expressions compiled by the SQL backend into the ``WHERE`` clause, so a forbidden
record is never loaded. A user's rights are the union of the permissions of their roles:

* an action is allowed on a record when one granting permission's row scope holds for it;
* a field is hidden when every permission that lets the user read the record hides it, and
  read-only when every permission that lets them update it marks it read-only or hidden.

A record the user may not read answers 404 (no existence leak); a record they may read but not
change answers 403. A user without roles sees nothing. ``Actor.system`` work (installers, the
demo, recomputation) bypasses the policy; everything a person does goes through it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, ColumnElement, Grouping, TypeCoerce
from sqlalchemy.sql.selectable import ScalarSelect, SelectBase
from sqlalchemy.sql.visitors import InternalTraversal

from engine.expr import ExprError
from engine.i18n import Locale, localize
from engine.identity.principal import Principal
from engine.issues import ForbiddenError, Issue, NotFoundError
from engine.storage import system
from engine.storage.database import Database
from engine.storage.expr_sql import compile_condition
from forms.catalog import Catalog, FormRuntime
from forms.formulas import parsed
from forms.roles import ACTIONS, ALL_FORMS, ROW_SCOPED, Permission, RoleDefinition
from forms.sql_scope import FormTables

MAX_VIA_DEPTH = 8  # rows_via chains (contact -> account -> group ...) longer than this are refused
MAX_CACHED_SCOPES = 4096  # compiled row scopes kept per definitions version (user x day x scope); then cleared


_ScopeKey = tuple[str, str, dt.date, int | None]


@dataclass(frozen=True)
class Grant:
    """One permission of one role, as it applies to one form."""

    role: str
    index: int | None  # the permission's position in the role (None: the role is an admin role)
    permission: Permission | None

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(self.permission.fields.hidden) if self.permission else frozenset()

    @property
    def readonly(self) -> frozenset[str]:
        return frozenset(self.permission.fields.readonly) if self.permission else frozenset()

    @property
    def scoped(self) -> bool:
        return self.permission is not None and bool(self.permission.rows or self.permission.rows_via)

    def describe(self) -> str:
        if self.permission is None:
            return f"role '{self.role}' (administrator)"
        return f"role '{self.role}', permission #{self.index} on '{self.permission.form}'"


@dataclass
class FormAccess:
    """What one user may do on one form."""

    policy: Policy
    principal: Principal
    runtime: FormRuntime
    grants: dict[str, list[Grant]] = field(default_factory=dict)

    @property
    def form(self) -> str:
        return self.runtime.key

    def can(self, action: str) -> bool:
        """Whether some record (or, for create, the form) allows ``action``."""
        return bool(self.grants.get(action))

    def where(self, action: str, *, today: dt.date, depth: int = 0) -> ColumnElement[bool] | None:
        """The SQL condition of the records ``action`` may touch (None: every record).

        On PostgreSQL an ``x IN (subquery)`` under an ``OR`` is written ``x = ANY(ARRAY(subquery))``
        (same meaning, see :func:`_in_as_any`), so that the planner can use indexes for it.
        """
        grants = self.grants.get(action, [])
        if not grants:
            return sa.false()
        clauses: list[ColumnElement[bool]] = []
        for grant in grants:
            clause = self.policy.grant_clause(self, grant, today=today, depth=depth)
            if clause is None:
                return None
            clauses.append(clause)
        condition = sa.or_(*clauses)
        if self.policy.database.dialect == "postgresql":
            condition = _in_as_any(condition)
        return condition

    def static_hidden(self) -> frozenset[str]:
        """Fields hidden on every record the user may read (the same for all of them)."""
        grants = self.grants.get("read", [])
        if not grants:
            return frozenset(f.key for f in self.runtime.definition.fields)
        hidden = frozenset.intersection(*(g.hidden for g in grants))
        return hidden

    def possibly_hidden(self) -> frozenset[str]:
        """Fields hidden on at least some of the records the user may read (never filter or sort by them)."""
        grants = self.grants.get("read", [])
        if not grants:
            return frozenset(f.key for f in self.runtime.definition.fields)
        return frozenset.union(*(g.hidden for g in grants))

    def row_flags(self, action: str, *, today: dt.date) -> list[tuple[Grant, ColumnElement[bool]]]:
        """Each granting permission with its condition, to learn which ones hold for given rows."""
        flags: list[tuple[Grant, ColumnElement[bool]]] = []
        for grant in self.grants.get(action, []):
            clause = self.policy.grant_clause(self, grant, today=today, depth=0)
            flags.append((grant, sa.true() if clause is None else clause))
        return flags

    def matching(self, connection: Connection, action: str, record_id: int, *, today: dt.date) -> list[Grant]:
        """The permissions granting ``action`` on this record (empty: not allowed, or no such record)."""
        flags = self.row_flags(action, today=today)
        if not flags:
            return []
        table = self.runtime.table
        columns = [sa.case((clause, 1), else_=0).label(f"g{i}") for i, (_g, clause) in enumerate(flags)]
        row = connection.execute(sa.select(*columns).where(table.c.id == record_id)).first()
        if row is None:
            return []
        return [grant for (grant, _clause), hit in zip(flags, row, strict=True) if hit]

    def matching_existing(self, connection: Connection, action: str, record_id: int, *, today: dt.date) -> list[Grant]:
        """:meth:`matching` for a record known to exist: without row scopes no query is needed."""
        grants = self.grants.get(action, [])
        if not any(grant.scoped for grant in grants):
            return list(grants)
        return self.matching(connection, action, record_id, today=today)

    def hidden_for(self, grants: Sequence[Grant]) -> frozenset[str]:
        """Fields hidden on a record read through ``grants`` (those hiding it in all of them)."""
        if not grants:
            return frozenset(f.key for f in self.runtime.definition.fields)
        return frozenset.intersection(*(g.hidden for g in grants))

    def not_writable(self, update_grants: Sequence[Grant], read_grants: Sequence[Grant]) -> frozenset[str]:
        """Fields a user may not change on a record: read-only (or hidden) in every granting permission."""
        if not update_grants:
            return frozenset(f.key for f in self.runtime.definition.fields)
        blocked = frozenset.intersection(*(g.readonly | g.hidden for g in update_grants))
        return blocked | self.hidden_for(read_grants)

    def create_blocked(self) -> frozenset[str]:
        """Fields a new record may not set: read-only or hidden in every permission granting create."""
        grants = self.grants.get("create", [])
        if not grants:
            return frozenset(f.key for f in self.runtime.definition.fields)
        return frozenset.intersection(*(g.readonly | g.hidden for g in grants))


class Policy:
    """The installed role definitions, compiled per user and form on demand."""

    def __init__(self, database: Database, catalog: Catalog) -> None:
        self.database = database
        self.catalog = catalog
        self._lock = threading.Lock()
        self._marker: object = object()
        self._roles: dict[str, RoleDefinition] = {}
        # the table scopes of the current definitions, and the row scopes compiled against them
        # ((form, scope, today, user id) -> condition), replaced together when a definition changes
        self._compiled: tuple[FormTables, dict[_ScopeKey, ColumnElement[bool]]] | None = None

    # -- definitions ---------------------------------------------------------------------------
    def roles(self) -> dict[str, RoleDefinition]:
        """The installed roles by key (their newest stored version)."""
        marker = self.catalog.forms_version()
        if marker != self._marker:
            with self._lock:
                if marker != self._marker:
                    self._roles = _load_roles(self.database)
                    self._compiled = (FormTables(self.catalog), {})
                    self._marker = marker
        return self._roles

    def tables(self) -> FormTables:
        return self._current()[0]

    def _current(self) -> tuple[FormTables, dict[_ScopeKey, ColumnElement[bool]]]:
        self.roles()
        assert self._compiled is not None
        return self._compiled

    def is_admin(self, principal: Principal) -> bool:
        roles = self.roles()
        return any(roles[key].admin for key in principal.roles if key in roles)

    # -- compiling -----------------------------------------------------------------------------
    def access(self, principal: Principal, form_key: str) -> FormAccess:
        """What ``principal`` may do on ``form_key`` (raises NotFoundError for an unknown form)."""
        runtime = self.catalog.form(form_key)
        grants: dict[str, list[Grant]] = {}
        roles = self.roles()
        for key in sorted(principal.roles):
            role = roles.get(key)
            if role is None:
                continue
            if role.admin:
                for action in ACTIONS:
                    grants.setdefault(action, []).append(Grant(key, None, None))
                continue
            for index, permission in enumerate(role.permissions):
                if permission.form not in (form_key, ALL_FORMS):
                    continue
                for action in permission.actions:
                    grants.setdefault(action, []).append(Grant(key, index, permission))
        return FormAccess(self, principal, runtime, grants)

    def grant_clause(
        self, access: FormAccess, grant: Grant, *, today: dt.date, depth: int
    ) -> ColumnElement[bool] | None:
        """The row condition of one grant on its form's table (None: every row)."""
        permission = grant.permission
        if permission is None or not (permission.rows or permission.rows_via):
            return None
        table = access.runtime.table
        if permission.rows_via is not None:
            relation = access.runtime.definition.field(permission.rows_via)
            target = getattr(relation, "target", None)
            if target is None or depth >= MAX_VIA_DEPTH:
                return sa.false()
            parent = self.access(access.principal, target)
            inner = parent.where("read", today=today, depth=depth + 1)
            column = table.c[permission.rows_via]
            if inner is None:
                return column.is_not(None)
            parent_table = parent.runtime.table
            return column.in_(sa.select(parent_table.c.id).where(inner))
        tables, compiled = self._current()
        key = (access.form, permission.rows or "", today, access.principal.user_id)
        clause = compiled.get(key)
        if clause is not None:  # the same scope, day and user compile to the same condition
            return clause
        try:
            clause = compile_condition(
                parsed(permission.rows or ""),
                tables.scope(access.form),
                dialect=self.database.dialect,
                today=today,
                current_user=access.principal.user_id,
            )
        except ExprError:
            # A scope the SQL backend cannot express must not widen access: it grants nothing.
            # ``scope_problems`` reports these at install time, so this is a last line of defence.
            clause = sa.false()
        if len(compiled) >= MAX_CACHED_SCOPES:
            compiled.clear()
        compiled[key] = clause
        return clause

    def scope_problems(self) -> list[Issue]:
        """Row scopes of the installed roles that SQL cannot express (they would grant nothing)."""
        issues: list[Issue] = []
        nobody = Principal(user_id=0)
        for key, role in self.roles().items():
            for index, permission in enumerate(role.permissions):
                if not permission.rows or permission.form == ALL_FORMS:
                    continue
                try:
                    compile_condition(
                        parsed(permission.rows),
                        self.tables().scope(permission.form),
                        dialect=self.database.dialect,
                        today=dt.date.today(),
                        current_user=nobody.user_id,
                    )
                except ExprError as error:
                    issues.append(
                        Issue(
                            f"expr_{error.code}",
                            f"role '{key}': {error.message}",
                            pointer=f"/permissions/{index}/rows",
                            hint=error.hint,
                            span=(error.start, error.end),
                        )
                    )
        return issues

    # -- enforcement helpers -------------------------------------------------------------------
    def require(self, access: FormAccess, action: str, locale: Locale) -> None:
        """Refuse (403) an action the user has on no record of the form; 404 when they cannot even read it."""
        if access.can(action):
            return
        if not access.can("read") and not access.can("create"):
            raise _no_form(access, locale)
        label = localize(access.runtime.definition.label, locale)
        verb = _VERBS[action][0 if locale == "zh" else 1]
        text = f"您没有{verb}「{label}」记录的权限" if locale == "zh" else f"you may not {verb} {label} records"
        raise ForbiddenError(text, code="forbidden")


_VERBS = {
    "create": ("新建", "create"),
    "read": ("查看", "read"),
    "update": ("修改", "change"),
    "delete": ("删除", "delete"),
    "export": ("导出", "export"),
    "manage": ("管理", "manage"),
}


def _no_form(access: FormAccess, locale: Locale) -> NotFoundError:
    if not access.principal.roles:
        text = (
            "您的账号还没有分配任何角色，请联系管理员"
            if locale == "zh"
            else "your account has no role yet; ask an administrator to assign one"
        )
        return NotFoundError(text, code="no_role")
    return NotFoundError(
        f"表单 '{access.form}' 不存在" if locale == "zh" else f"unknown form '{access.form}'", code="unknown_form"
    )


def not_found(form: str, record_id: int, locale: Locale) -> NotFoundError:
    """The answer for a record that does not exist *or* that the user may not read (indistinguishable)."""
    text = f"记录 {form}/{record_id} 不存在" if locale == "zh" else f"record {form}/{record_id} not found"
    return NotFoundError(text, code="unknown_record")


class _ArrayOf(ColumnElement[Any]):
    """PostgreSQL ``ARRAY(subquery)``: the values a one-column subquery finds, as one array (``{}`` if none)."""

    __visit_name__ = "tessera_array_of"
    inherit_cache = True
    _traverse_internals = [("query", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 - SQLAlchemy's protocol

    def __init__(self, query: SelectBase, item_type: Any) -> None:
        self.query = query
        self.type = ARRAY(item_type)


@compiles(_ArrayOf)
def _compile_array_of(element: _ArrayOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ARRAY({compiler.process(element.query, **kw)})"


def _in_as_any(clause: ColumnElement[bool], under_or: bool = False) -> ColumnElement[bool]:
    """Rewrite each ``x IN (subquery)`` reached through an ``OR`` into ``x = ANY(ARRAY(subquery))``.

    Row scopes such as ``primary_rm = CURRENT_USER() OR CURRENT_USER() IN (team_members.user)``
    compile to ``primary_rm = :me OR id IN (SELECT account FROM team WHERE user = :me)``.
    PostgreSQL cannot turn an ``IN (subquery)`` inside an ``OR`` into a semi-join: it keeps it as a
    "hashed SubPlan" filter, guesses that it matches half the rows and walks the whole sort index
    filtering row by row (~0.3 s for an RM's first page at 1M accounts, bench/list_scope_1m.py).
    ``ARRAY(subquery)`` is computed once (an InitPlan) and ``id = ANY($0)`` is an index condition
    with a real row estimate, so the planner can ``BitmapOr`` the two indexes for a narrow scope and
    still walk the sort index for a broad one. The meaning is the same in three-valued logic: true
    when a value equals ``x``, else NULL if a value (or ``x``) is NULL, else false; an empty
    subquery gives ``{}`` (false), as ``IN`` does. Only AND/OR groups (and type coercions) are
    entered: nothing inside NOT, CASE or a nested SELECT changes; an ``IN`` that is a plain
    conjunct stays a semi-join, which the planner already handles well.
    """
    if isinstance(clause, Grouping) and isinstance(clause.element, ColumnElement):
        inner = _in_as_any(clause.element, under_or)
        return clause if inner is clause.element else inner.self_group()
    if isinstance(clause, TypeCoerce) and isinstance(clause.clause, ColumnElement):
        inner = _in_as_any(clause.clause, under_or)
        return clause if inner is clause.clause else sa.type_coerce(inner, clause.type)
    if isinstance(clause, BooleanClauseList) and clause.operator in (operators.and_, operators.or_):
        is_or = clause.operator is operators.or_
        parts = [_in_as_any(part, under_or or (is_or and len(clause.clauses) > 1)) for part in clause.clauses]
        if all(new is old for new, old in zip(parts, clause.clauses, strict=True)):
            return clause
        return sa.or_(*parts) if is_or else sa.and_(*parts)
    if (
        under_or
        and isinstance(clause, BinaryExpression)
        and clause.operator is operators.in_op
        and isinstance(clause.right, ScalarSelect)
        and isinstance(clause.left, ColumnElement)
        and not isinstance(clause.left, sa.Tuple)
    ):
        return clause.left == sa.any_(_ArrayOf(clause.right.element, clause.left.type))
    return clause


def _load_roles(database: Database) -> dict[str, RoleDefinition]:
    d = system.definitions
    newest = (
        sa.select(d.c.key, sa.func.max(d.c.version).label("version")).where(d.c.kind == "role").group_by(d.c.key)
    ).subquery()
    query = sa.select(d.c.key, d.c.content).join(
        newest, sa.and_(d.c.kind == "role", d.c.key == newest.c.key, d.c.version == newest.c.version)
    )
    with database.read() as connection:
        return {row.key: RoleDefinition.model_validate(row.content) for row in connection.execute(query)}


def explain(
    policy: Policy, principal: Principal, form_key: str, record_id: int | None, *, today: dt.date
) -> dict[str, Any]:
    """Which roles and permissions grant or deny each action (and field) for ``principal``.

    With a record: whether each granting permission's row scope holds for it, and per field
    whether it is visible and writable on that record.
    """
    access = policy.access(principal, form_key)
    roles = policy.roles()
    result: dict[str, Any] = {
        "user": {"id": principal.user_id, "login": principal.login, "roles": sorted(principal.roles)},
        "form": form_key,
        "record": record_id,
        "unknown_roles": sorted(r for r in principal.roles if r not in roles),
        "actions": {},
    }
    matched: dict[str, list[Grant]] = {}
    exists = None
    if record_id is not None:
        with policy.database.read() as connection:
            table = access.runtime.table
            exists = connection.execute(sa.select(table.c.id).where(table.c.id == record_id)).first() is not None
            for action in ACTIONS:
                if action in ROW_SCOPED:
                    matched[action] = access.matching(connection, action, record_id, today=today)
        result["record_exists"] = exists
    for action in ACTIONS:
        grants = access.grants.get(action, [])
        entries = []
        for grant in grants:
            entry: dict[str, Any] = {"role": grant.role, "permission": grant.index, "why": grant.describe()}
            if grant.permission is not None and grant.permission.rows:
                entry["rows"] = grant.permission.rows
            if grant.permission is not None and grant.permission.rows_via:
                entry["rows_via"] = grant.permission.rows_via
            if record_id is not None and action in ROW_SCOPED:
                entry["holds"] = grant in matched.get(action, [])
            entries.append(entry)
        if not grants:
            allowed = False
            reason = "no role grants this action" if principal.roles else "the user has no role"
        elif record_id is not None and action in ROW_SCOPED:
            allowed = bool(matched.get(action))
            reason = "a permission's row scope holds" if allowed else "no granting permission's row scope holds"
        else:
            allowed = True
            scoped = action in ROW_SCOPED and any(g.scoped for g in grants)  # create has no rows to limit
            reason = "granted" + (" (limited by row scopes)" if scoped else "")
        result["actions"][action] = {"allowed": allowed, "reason": reason, "grants": entries}
    read_grants = matched.get("read") if record_id is not None else access.grants.get("read", [])
    update_grants = matched.get("update") if record_id is not None else access.grants.get("update", [])
    hidden = access.hidden_for(read_grants or [])
    blocked = access.not_writable(update_grants or [], read_grants or [])
    result["fields"] = {
        f.key: {
            "visible": f.key not in hidden,
            "writable": f.key not in blocked,
            "hidden_by": [g.describe() for g in (read_grants or []) if f.key in g.hidden],
            "readonly_by": [g.describe() for g in (update_grants or []) if f.key in g.readonly],
        }
        for f in access.runtime.definition.fields
    }
    return result
