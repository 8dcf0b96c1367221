"""Listing records: filters (also through relations), sort, keyset pages, capped counts, expansion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.engine import Connection

from engine.i18n import Locale
from engine.issues import Issue, ValidationError, did_you_mean
from engine.storage import query as q
from engine.storage import system
from forms.access import FormAccess, Grant
from forms.catalog import Catalog, FormRuntime
from forms.fields import FieldBase
from forms.fields.choice import MultiSelectField
from forms.fields.other import AttachmentField
from forms.fields.references import (
    DepartmentField,
    MultiRelationField,
    RelationField,
    UserField,
    _MultiReference,
)
from forms.rows import load_side_rows, record_json
from forms.validation import _row_model

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
SORTABLE_SYSTEM = ("id", "created_at", "updated_at")


@dataclass(frozen=True)
class FilterSpec:
    """``path op value`` as the user wrote it (``account.industry``, ``eq``, ``"it"``)."""

    path: str
    op: str
    value: Any


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for."""

    filters: tuple[FilterSpec, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    count: bool = False
    expand: tuple[str, ...] = ()
    search: str | None = None


@dataclass
class Page:
    """One page of records."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the API shape."""
        result: dict[str, Any] = {"items": self.items, "next_cursor": self.next_cursor}
        if self.count is not None:
            result["count"] = self.count
            result["count_capped"] = self.count_capped
        return result


def _adapter(field: FieldBase) -> TypeAdapter[Any]:
    return TypeAdapter(field.value_type(_row_model))


def _convert(field: FieldBase, op: str, raw: Any, where: str) -> Any:
    if op == "is_empty":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "1", "yes", ""):
            return True
        if str(raw).lower() in ("false", "0", "no"):
            return False
        raise ValueError("is_empty takes true or false")
    if op in ("contains", "starts_with") and not isinstance(field, MultiSelectField | _MultiReference):
        return str(raw)
    if isinstance(field, MultiSelectField | _MultiReference):
        parts = raw if isinstance(raw, list) else str(raw).split(",")
        return [_adapter(field).validate_python([p])[0] for p in parts]
    if op in ("in", "between"):
        parts = raw if isinstance(raw, list) else str(raw).split(",")
        if op == "between" and len(parts) != 2:
            raise ValueError("between takes two values: low,high")
        return [field.to_db(_adapter(field).validate_python(p)) for p in parts]
    return field.to_db(_adapter(field).validate_python(raw))


class RecordLister:
    """Resolves paths against forms and runs list queries."""

    def __init__(self, catalog: Catalog, dialect: str) -> None:
        self.catalog = catalog
        self.dialect = dialect

    def conditions(self, runtime: FormRuntime, filters: tuple[FilterSpec, ...], locale: Locale) -> list[Any]:
        """Compile the filters; raise one 422 listing every bad filter."""
        clauses: list[Any] = []
        issues: list[Issue] = []
        for index, spec in enumerate(filters):
            where = f"filter[{index}]"
            try:
                ref, target_field = self._resolve(runtime, spec.path.split("."))
            except LookupError as error:
                issues.append(
                    Issue(
                        "unknown_field",
                        str(error.args[0]),
                        field=where,
                        hint=error.args[1] if len(error.args) > 1 else None,
                    )
                )
                continue
            if spec.op not in target_field.operators:
                issues.append(
                    Issue(
                        "unsupported_operator",
                        f"'{spec.path}' ({target_field.type_name}) does not support '{spec.op}'",
                        field=where,
                        hint=f"supported: {', '.join(sorted(target_field.operators))}",
                    )
                )
                continue
            try:
                value = _convert(target_field, spec.op, spec.value, where)
            except (PydanticValidationError, ValueError) as error:
                detail = error.errors()[0]["msg"] if isinstance(error, PydanticValidationError) else str(error)
                issues.append(Issue("bad_filter_value", f"'{spec.path}': {detail}", field=where))
                continue
            clauses.append(q.condition_clause(q.Condition(ref, spec.op, value), self.dialect))
        if issues:
            text = "筛选条件有误" if locale == "zh" else "invalid filter"
            raise ValidationError(text, issues, code="bad_filter")
        return clauses

    def _resolve(self, runtime: FormRuntime, parts: list[str]) -> tuple[q.ColumnRef, FieldBase]:
        hops: list[q.Hop] = []
        current = runtime
        for depth, name in enumerate(parts):
            field = current.definition.field(name)
            if field is None:
                keys = [f.key for f in current.definition.fields]
                raise LookupError(f"unknown field '{name}' in form '{current.key}'", did_you_mean(name, keys))
            last = depth == len(parts) - 1
            if last:
                return self._ref(current, field, tuple(hops)), field
            if not isinstance(field, RelationField):
                raise LookupError(f"'{name}' is not a relation; only relations can be followed with '.'")
            target = self.catalog.form(field.target)
            hops.append(q.Hop(current.table, field.key, target.table))
            current = target
        raise LookupError("empty field path")

    @staticmethod
    def _ref(runtime: FormRuntime, field: FieldBase, hops: tuple[q.Hop, ...]) -> q.ColumnRef:
        if field.storage == "links":
            return q.ColumnRef(runtime.table, field.key, hops, link=runtime.side_tables[field.key])
        if field.storage == "children":
            raise LookupError(f"'{field.key}' is a sub-table; filter on its rows is not supported yet")
        json_array = isinstance(field, MultiSelectField | AttachmentField)  # [] is empty, like NULL
        return q.ColumnRef(runtime.table, field.key, hops, json_array=json_array)

    def sort_keys(self, runtime: FormRuntime, sort: tuple[tuple[str, bool], ...]) -> list[q.SortKey]:
        """Validate sort keys (the form's list sort, else newest first)."""
        if not sort:
            sort = tuple((s.field, s.desc) for s in runtime.definition.list_view.sort) or (("id", True),)
        issues: list[Issue] = []
        for name, _desc in sort:
            field = runtime.definition.field(name)
            if name in SORTABLE_SYSTEM or (field is not None and field.sortable and field.storage == "column"):
                continue
            keys = [f.key for f in runtime.definition.fields if f.sortable] + list(SORTABLE_SYSTEM)
            issues.append(
                Issue("not_sortable", f"cannot sort by '{name}'", field="sort", hint=did_you_mean(name, keys))
            )
        if issues:
            raise ValidationError(issues[0].message, issues, code="bad_sort")
        return [q.SortKey(name, desc) for name, desc in sort]

    def page(
        self,
        connection: Connection,
        runtime: FormRuntime,
        query: ListQuery,
        locale: Locale,
        access: FormAccess | None = None,
        today: dt.date | None = None,
    ) -> Page:
        """Run the query and return one page (only the rows and fields ``access`` lets the user read)."""
        table = runtime.table
        today = today or dt.datetime.now(dt.UTC).date()
        if access is not None:
            self._refuse_hidden(runtime, query, access, locale)
        clauses = self.conditions(runtime, query.filters, locale)
        if query.search:
            title = runtime.definition.field(runtime.definition.title_key)
            if title is not None and title.storage == "column":
                clauses.append(table.c[title.key].icontains(query.search, autoescape=True))
        flags: list[tuple[Grant, Any]] = []
        if access is not None:
            scope = access.where("read", today=today)
            if scope is not None:
                clauses.append(scope)
            grants = access.grants.get("read", [])
            if len({g.hidden for g in grants}) > 1:  # fields hidden on some rows only: learn which per row
                flags = access.row_flags("read", today=today)
        pairs = q.order_columns(table, self.sort_keys(runtime, query.sort))
        base = sa.select(table).where(*clauses)
        statement = base
        if flags:
            statement = statement.add_columns(
                *(sa.case((clause, 1), else_=0).label(f"__grant{i}") for i, (_g, clause) in enumerate(flags))
            )
        if query.cursor:
            statement = statement.where(q.keyset_clause(pairs, q.decode_cursor(query.cursor, len(pairs))))
        limit = max(1, min(query.limit, MAX_LIMIT))
        rows = connection.execute(statement.order_by(*q.order_by(pairs)).limit(limit + 1)).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = q.encode_cursor([rows[-1][str(c.key)] for c, _ in pairs]) if more and rows else None
        items = [record_json(runtime, row) for row in rows]
        load_side_rows(connection, runtime, items)
        if access is not None:
            static = access.static_hidden()
            for item, row in zip(items, rows, strict=True):
                hits = [g for i, (g, _c) in enumerate(flags) if row[f"__grant{i}"]]
                for key in access.hidden_for(hits) if flags else static:
                    item.pop(key, None)
        self.expand(connection, runtime, items, query.expand, access=access, today=today)
        page = Page(items, next_cursor)
        if query.count:
            page.count, page.count_capped = q.capped_count(connection, base)
        return page

    def _refuse_hidden(self, runtime: FormRuntime, query: ListQuery, access: FormAccess, locale: Locale) -> None:
        """Filtering or sorting by a field the user cannot see would reveal it: refuse (as unknown)."""
        hidden = access.possibly_hidden()
        issues: list[Issue] = []
        for index, spec in enumerate(query.filters):
            head = spec.path.split(".")[0]
            if head in hidden or not self._path_readable(runtime, spec.path.split("."), access):
                issues.append(Issue("unknown_field", f"unknown field '{spec.path}'", field=f"filter[{index}]"))
        for name, _desc in query.sort:
            if name in hidden:
                issues.append(Issue("not_sortable", f"cannot sort by '{name}'", field="sort"))
        if query.search and runtime.definition.title_key in hidden:
            issues.append(Issue("not_searchable", "this list cannot be searched", field="q"))
        if issues:
            text = "筛选条件有误" if locale == "zh" else "invalid filter"
            raise ValidationError(text, issues, code="bad_filter")

    def _path_readable(self, runtime: FormRuntime, parts: list[str], access: FormAccess) -> bool:
        """A path through relations only reaches forms (and fields) the user may read."""
        current = runtime
        for position, name in enumerate(parts[:-1]):
            field = current.definition.field(name)
            if not isinstance(field, RelationField):
                return True  # conditions() reports the bad path
            target = access.policy.access(access.principal, field.target)
            if not target.can("read") or parts[position + 1] in target.possibly_hidden():
                return False
            current = target.runtime
        return True

    def expand(
        self,
        connection: Connection,
        runtime: FormRuntime,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        *,
        access: FormAccess | None = None,
        today: dt.date | None = None,
    ) -> None:
        """Replace reference ids by ``{"id", "title"}``: one query per expanded field.

        With ``access``, titles of related records the user may not read stay empty.
        """
        for name in names:
            field = runtime.definition.field(name)
            if isinstance(field, UserField):
                table, title = system.users, system.users.c.name
            elif isinstance(field, DepartmentField):
                table, title = system.departments, system.departments.c.name
            elif isinstance(field, RelationField | MultiRelationField):
                target = self.catalog.form(field.target)
                table, title = target.table, target.table.c[target.definition.title_key]
            else:
                raise ValidationError(
                    f"cannot expand '{name}'",
                    [
                        Issue(
                            "not_expandable",
                            f"cannot expand '{name}'",
                            field="expand",
                            hint="expand takes relation, user and department fields",
                        )
                    ],
                )
            ids = {i for item in items for i in _as_list(item.get(name))}
            lookup = sa.select(table.c.id, title).where(table.c.id.in_(ids))
            if access is not None and isinstance(field, RelationField | MultiRelationField):
                target_access = access.policy.access(access.principal, field.target)
                scope = target_access.where("read", today=today or dt.datetime.now(dt.UTC).date())
                if scope is not None:
                    lookup = lookup.where(scope)
                if target.definition.title_key in target_access.possibly_hidden():
                    lookup = lookup.where(sa.false())
            titles = dict(connection.execute(lookup).all())
            for item in items:
                value = item.get(name)
                if isinstance(value, list):
                    item[name] = [{"id": i, "title": titles.get(i)} for i in value]
                elif value is not None:
                    item[name] = {"id": value, "title": titles.get(value)}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
