"""Keeping formula fields current: compute a record's own formulas, then what depends on them.

A save computes the record's formula fields in dependency order (in the same transaction,
before the row is written). Then every formula in other records that reads a changed field
is recomputed: records that point at the saved one and read it through their relation
(``contact`` reading ``account.tier``), records that list it in a multi-relation
(``interaction`` reading ``participants_client.seniority``), and the record the saved one points
at when that record aggregates its related rows (``account`` summing
``account_financial_monthly.revenue``). Longer paths (and a deleted record listed in a
multi-relation) fall back to recomputing every record of the depending form. The formula graph
is acyclic (cycles are refused when definitions load), so propagation always ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import sqlalchemy as sa
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.engine import Connection

from engine.expr import ExprError
from engine.expr.evaluator import compile_expression
from engine.expr.nodes import Call, walk
from engine.storage.database import Database
from forms.catalog import Catalog, FormRuntime
from forms.computed import RecordContext, RowLoader
from forms.definition import FormDefinition
from forms.expressions import FormScope
from forms.fields import FieldBase
from forms.fields.references import MultiRelationField, RelationField
from forms.formulas import FieldNode, formula_graph, parsed, references
from forms.validation import _row_model

Evaluate = Callable[[RecordContext], Any]


@dataclass(frozen=True)
class Formula:
    """One formula field, compiled, with a converter to its stored type."""

    form: str
    field: FieldBase
    run: Evaluate
    store: Callable[[Any], Any]


@dataclass
class FormulaPlan:
    """The formulas of all installed forms, in recomputation order."""

    forms: Mapping[str, FormDefinition]
    graph: nx.DiGraph = field(init=False)
    own: dict[str, list[Formula]] = field(init=False)
    _links_cache: dict[tuple[str, str], Links] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.graph = formula_graph(self.forms)
        order = [node for node in nx.topological_sort(self.graph) if node in self._formula_nodes()]
        self.own = {}
        for form_key, field_key in order:
            form = self.forms[form_key]
            target = form.field(field_key)
            if target is None or target.formula is None:
                continue
            run = compile_expression(parsed(target.formula), scope=FormScope(form, self.forms))
            self.own.setdefault(form_key, []).append(Formula(form_key, target, run, _storer(target)))

    def _formula_nodes(self) -> set[FieldNode]:
        return {(f.key, x.key) for f in self.forms.values() for x in f.fields if x.formula}

    def dependents(self, form: str, changed: Iterable[str]) -> dict[str, set[str]]:
        """Formula fields of other forms that read any of ``changed`` fields of ``form``."""
        found: dict[str, set[str]] = {}
        for key in changed:
            node = (form, key)
            if node not in self.graph:
                continue
            for target_form, target_field in self.graph.successors(node):
                if target_form != form:
                    found.setdefault(target_form, set()).add(target_field)
        return found

    def links(self, reader: str, source: str) -> Links:
        """How formulas of ``reader`` reach ``source`` (computed once per pair; see :meth:`_links`)."""
        key = (reader, source)
        if key not in self._links_cache:
            self._links_cache[key] = self._links(reader, source)
        return self._links_cache[key]

    def _links(self, reader: str, source: str) -> Links:
        """How formulas of ``reader`` reach ``source`` (see :class:`Links`)."""
        forward: set[str] = set()
        reverse: set[str] = set()
        multi: set[str] = set()
        everything = False
        scope = FormScope(self.forms[reader], self.forms)
        for formula in self.own.get(reader, []):
            for ref in references(parsed(formula.field.formula or "")):
                trace = scope.trace(ref.path)
                if not any(form_key == source for form_key, _ in trace):
                    continue
                first_form, first_field = trace[0]
                link = self.forms[first_form].field(first_field)
                if first_form == source and isinstance(link, RelationField) and link.target == reader:
                    reverse.add(first_field)
                elif first_form == reader and len(trace) > 1 and trace[1][0] == source and _is_column(link):
                    forward.add(first_field)
                elif first_form == reader and len(trace) > 1 and trace[1][0] == source and _is_links(link, source):
                    multi.add(first_field)  # participants_client.seniority: the records listing the saved one
                else:
                    everything = True
        return Links(forward, reverse, multi, everything)


@dataclass(frozen=True)
class Links:
    """How the formulas of a reading form reach a saved record of a source form.

    Attributes:
        forward: the reader's relations pointing at the source (records of the reader that point
            at the saved record are affected).
        reverse: the source's relations pointing at the reader (the records they point at are affected).
        multi: the reader's multi-relations to the source (records of the reader listing the saved
            record in that field are affected).
        everything: some path is longer or reads a singleton: every record of the reader is affected.
    """

    forward: set[str]
    reverse: set[str]
    multi: set[str]
    everything: bool


def _is_column(field: FieldBase | None) -> bool:
    return field is not None and field.storage == "column"


def _is_links(field: FieldBase | None, target: str) -> bool:
    return isinstance(field, MultiRelationField) and field.target == target


def stored_value(target: FieldBase, value: Any) -> Any:
    """``value`` converted to what ``target`` stores (blank when it cannot hold it)."""
    return _storer(target)(value)


def _storer(target: FieldBase) -> Callable[[Any], Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(target.value_type(_row_model))

    def store(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float) and target.expr_type == "number" and value.is_integer():
            value = int(value) if getattr(target, "scale", 1) == 0 else value
        try:
            return target.to_db(adapter.validate_python(value))
        except (PydanticValidationError, ValueError, TypeError, ArithmeticError):
            return None  # a result the field cannot hold is blank, like any formula error

    return store


def compute_own(
    plan: FormulaPlan, runtime: FormRuntime, values: dict[str, Any], loader: RowLoader, *, user: Any, clock: dt.datetime
) -> dict[str, Any]:
    """Compute ``runtime``'s formula fields over ``values`` (updated in place); return what they gave."""
    return compute_formulas(plan.own.get(runtime.key, []), runtime, values, loader, user=user, clock=clock)


def compute_formulas(
    formulas: Sequence[Formula],
    runtime: FormRuntime,
    values: dict[str, Any],
    loader: RowLoader,
    *,
    user: Any,
    clock: dt.datetime,
) -> dict[str, Any]:
    """Compute ``formulas`` (of ``runtime``, in order) over ``values`` (updated in place); return what they gave."""
    results: dict[str, Any] = {}
    for formula in formulas:
        context = RecordContext(runtime, values, loader, user=user, clock=clock)
        try:
            value = formula.store(formula.run(context))
        except ExprError:
            value = None  # a runaway formula (step limit) stores blank rather than failing the save
        values[formula.field.key] = value
        results[formula.field.key] = value
    return results


def propagate(
    plan: FormulaPlan,
    catalog: Catalog,
    loader: RowLoader,
    *,
    form: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    changed: Iterable[str],
    user: Any,
    clock: dt.datetime,
    depth: int = 0,
) -> None:
    """Recompute the formulas of other records that read the ``changed`` fields of a saved record."""
    if depth > 20:
        return
    loader.forget()
    for reader, _fields in plan.dependents(form, changed).items():
        runtime = catalog.form(reader)
        for record in _affected(loader.connection, runtime, before, after, plan.links(reader, form)):
            old = dict(record)
            new = dict(record)
            results = compute_own(plan, runtime, new, loader, user=user, clock=clock)
            moved = {k for k, v in results.items() if old.get(k) != v}
            if not moved:
                continue
            table = runtime.table
            loader.connection.execute(
                sa.update(table).where(table.c.id == old["id"]).values({k: new[k] for k in moved})
            )
            propagate(
                plan,
                catalog,
                loader,
                form=reader,
                before=old,
                after=new,
                changed=moved,
                user=user,
                clock=clock,
                depth=depth + 1,
            )


def _affected(
    connection: Connection,
    reader: FormRuntime,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    links: Links,
) -> list[Mapping[str, Any]]:
    """The records of ``reader`` whose formulas may read the saved (or deleted) record."""
    table = reader.table
    conditions = []
    record_id = after.get("id") or before.get("id")
    conditions += [table.c[name] == record_id for name in links.forward]
    ids = {row.get(name) for row in (before, after) for name in links.reverse} - {None}
    if ids:
        conditions.append(table.c.id.in_(ids))
    everything = links.everything
    for name in links.multi:
        if not after:  # a deleted record: its link rows went with it, so which records listed it is unknown
            everything = True
            continue
        listed = reader.side_tables[name]
        conditions.append(table.c.id.in_(sa.select(listed.c.parent_id).where(listed.c.target_id == record_id)))
    if everything:
        conditions.append(sa.true())  # a longer path or a settings record: every record may change
    if not conditions:
        return []
    return [dict(r) for r in connection.execute(sa.select(table).where(sa.or_(*conditions))).mappings()]


__all__ = ["FormulaPlan", "RelationField", "compute_own", "propagate"]


TIME_FUNCTIONS = frozenset({"TODAY", "NOW"})


def time_dependent(plan: FormulaPlan) -> dict[str, set[str]]:
    """Formula fields whose value changes with the date: those calling TODAY()/NOW(), and what reads them."""
    direct = {
        (formula.form, formula.field.key)
        for formulas in plan.own.values()
        for formula in formulas
        if any(isinstance(n, Call) and n.name in TIME_FUNCTIONS for n in walk(parsed(formula.field.formula or "")))
    }
    found = set(direct)
    for node in direct:
        found |= set(nx.descendants(plan.graph, node)) if node in plan.graph else set()
    result: dict[str, set[str]] = {}
    for form_key, field_key in found:
        result.setdefault(form_key, set()).add(field_key)
    return result


def recompute_all(
    database: Database,
    catalog: Catalog,
    *,
    clock: dt.datetime,
    only_time_dependent: bool = False,
    batch: int = 500,
    progress: Callable[[str], None] | None = None,
    engine: str = "auto",
) -> dict[str, int]:
    """Recompute stored formula values (the daily job for TODAY()-based formulas, ``tessera recompute``).

    ``engine`` "auto" recomputes each formula field that compiles to SQL with one set-based
    UPDATE per id range, and the others record by record in Python; "python" does every field
    in Python, "sql" refuses when a field cannot go to SQL (see :mod:`forms.recompute_sql`).
    Fields run in the formula graph's order. Each batch is one transaction; records whose
    values did not change are not written. Returns how many records changed per form.
    """
    from forms.recompute_sql import ENGINES, recompute  # it imports this module

    chosen = next((name for name in ENGINES if name == engine), None)
    if chosen is None:
        raise ValueError(f"unknown recompute engine '{engine}'; expected one of {', '.join(ENGINES)}")
    return recompute(
        database,
        catalog,
        clock=clock,
        only_time_dependent=only_time_dependent,
        engine=chosen,
        batch=batch,
        progress=progress,
    )


def recompute_records(
    database: Database,
    catalog: Catalog,
    runtime: FormRuntime,
    formulas: Sequence[Formula],
    *,
    clock: dt.datetime,
    batch: int = 500,
    progress: Callable[[str], None] | None = None,
) -> set[int]:
    """Recompute ``formulas`` (of ``runtime``, in order) record by record; return the ids of the records changed.

    Each batch of records is one transaction; records whose values did not change are not written.
    """
    table = runtime.table
    last_id = 0
    changed: set[int] = set()
    while True:
        with database.begin() as connection:
            query = sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
            rows = [dict(r) for r in connection.execute(query).mappings()]
            loader = RowLoader(connection, catalog)
            for row in rows:
                values = dict(row)
                results = compute_formulas(formulas, runtime, values, loader, user=None, clock=clock)
                moved = {k: v for k, v in results.items() if row.get(k) != v}
                if moved:
                    connection.execute(sa.update(table).where(table.c.id == row["id"]).values(moved))
                    changed.add(row["id"])
        if not rows:
            break
        last_id = rows[-1]["id"]
        if progress:
            progress(f"{runtime.key}: up to id {last_id}, {len(changed)} changed")
    return changed


def recompute_readers(catalog: Catalog, connection: Connection, forms: set[str], *, clock: dt.datetime) -> None:
    """Recompute every record of each form whose formulas read ``forms``, and of their readers in turn."""
    plan = catalog.formula_plan()
    queue = [reader for form in forms for reader in plan.dependents(form, catalog.form(form).definition.field_map)]
    seen: set[str] = set()
    while queue:
        reader = queue.pop(0)
        if reader in seen:
            continue
        seen.add(reader)
        runtime = catalog.form(reader)
        table = runtime.table
        loader = RowLoader(connection, catalog)
        for row in [dict(r) for r in connection.execute(sa.select(table).order_by(table.c.id)).mappings()]:
            values = dict(row)
            results = compute_own(plan, runtime, values, loader, user=None, clock=clock)
            moved = {k: v for k, v in results.items() if row.get(k) != v}
            if moved:
                connection.execute(sa.update(table).where(table.c.id == row["id"]).values(moved))
        queue += list(plan.dependents(reader, [f.field.key for f in plan.own.get(reader, [])]))
