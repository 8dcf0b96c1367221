"""Whole-table recomputation of formula fields in SQL, with Python for what SQL cannot compute.

:func:`recompute` is what :func:`forms.recompute.recompute_all` runs. It orders the formula
fields of the installed forms by the formula graph, one ``(form, field)`` node at a time (a
field may read a formula of another form that reads one of its own form), and runs each one:

* **in SQL** when its expression compiles (``engine.storage.expr_sql``) and its stored type can
  be reproduced exactly: one set-based statement per id range (see :func:`_update`) for the
  fields of a form that are ready together,
  ``UPDATE t SET f = fresh.v, ... FROM (SELECT id, <expression as stored> AS v, ... FROM t ...)
  fresh WHERE t.id = fresh.id AND (t.f IS DISTINCT FROM fresh.v OR ...) RETURNING t.id``;
* **in Python** otherwise, record by record (:func:`forms.recompute.recompute_records`), the
  consecutive Python fields of one form in one pass over its records.

Each statement or batch is its own transaction, as in the Python path. TODAY() is the clock's
date and CURRENT_USER() is blank, as for the daily job. The result is, per form, how many
records had a stored value changed.

What SQL computes beyond ``engine.storage.expr_sql``'s own scope (built here, on the form
definitions, mirroring :class:`forms.computed.RecordContext`):

* fields of the record, paths through relations (``account.tier``, any depth), fields of a
  singleton (``kam_settings.w_history``: its first record);
* aggregates over related rows (records pointing here by a relation, sub-table rows, the
  targets of a multi-relation): ``COUNT(rows)``, ``COUNT(rows.f)``, ``COUNTIF(rows, cond)``,
  ``MAX``/``MIN(rows.f)`` and ``MAXIF``/``MINIF(rows.f, cond)`` for number and date fields,
  each a correlated sub-query, with ``cond`` compiled on the row (``THIS.x`` is the record);
* ``literal IN (rows.f, choices, ...)`` as ``EXISTS`` over the related rows or the items of a
  multi-select field (``"ipo" IN (expansion_plans)``);
* calls that SQL does not know but that read no field (``EOMONTH(TODAY(), -13)``) are computed
  once by the Python evaluator and bound as parameters.

Left to Python: SUM/SUMIF/AVERAGE over related rows (Python adds floats one by one in id
order, which SQL does not reproduce to the last bit), whatever the SQL backend refuses
(``not_in_sql``: date-times, EDATE/DATEDIF on fields...), fields whose stored conversion SQL
cannot reproduce exactly (see :func:`stored_expression`), and, as a safety net, a field whose
statement the database refuses while it runs. Known differences are the SQL backend's own
(``engine.storage.expr_sql``: case-insensitive text beyond ASCII on SQLite, MIN/MAX of numbers
equal to 15 digits), plus one of Python's limits that SQL does not share: an aggregate over more
rows than the evaluator's step budget (a million) is blank in Python and computed in SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import networkx as nx
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from engine.expr import ExprError
from engine.expr.evaluator import compile_expression
from engine.expr.nodes import Binary, Call, InList, Node, Ref, Unary, walk
from engine.expr.nodes import Literal as LiteralNode
from engine.expr.types import BLANK, BOOLEAN, DATE, NUMBER, NUMBER_LIKE, TEXT, USER, Type, record
from engine.storage.database import Database
from engine.storage.expr_sql import SQL_FUNCTIONS, SqlColumn, compile_condition, compile_typed
from engine.storage.expr_sql.values import not_in_sql
from forms.catalog import Catalog, FormRuntime
from forms.definition import FormDefinition
from forms.expressions import MANY_VALUED, FormScope
from forms.fields import FieldBase
from forms.fields.choice import MultiSelectField, SelectField
from forms.fields.references import DepartmentField, MultiRelationField, RelationField, SubtableField, UserField
from forms.fields.scalar import (
    DECIMAL_LIMIT,
    INT64_MAX,
    INT64_MIN,
    BooleanField,
    CurrencyField,
    NumberField,
    PercentField,
    RatingField,
    RichTextField,
    TextareaField,
    TextField,
)
from forms.fields.temporal import DateField
from forms.formulas import FieldNode, parsed, references
from forms.recompute import Formula, FormulaPlan, recompute_records, time_dependent

Engine = Literal["auto", "python", "sql"]
ENGINES: tuple[Engine, ...] = ("auto", "python", "sql")
SQL_BATCH = 50_000  # ids per UPDATE statement (and transaction)
Expr = ColumnElement[Any]

_ORDERED = frozenset({*NUMBER_LIKE, "date"})
_SUMS = frozenset({"SUM", "SUMIF", "AVERAGE", "AVERAGEIF"})
_SYNTHETIC = "#"  # prefix of the names this module gives to parts it computes itself (no field key has it)
_TWO_63 = 2.0**63
RECORD_ID_MAX = 2**62  # forms.fields.references.RecordId


class NotInSqlError(ValueError):
    """``engine="sql"`` was asked for, but some formula fields cannot be recomputed in SQL."""


# -- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One unit of work on one form: fields that do not read each other in one SQL statement (per
    id range), or Python fields (in order) in one pass over the records."""

    form: str
    fields: tuple[str, ...]
    engine: Literal["sql", "python"]


@dataclass
class RecomputePlan:
    """What :func:`recompute` runs, in order, and why the Python fields are not in SQL."""

    steps: list[Step]
    forms: list[str]
    """The forms recomputed, in the order the result reports them."""
    refused: dict[FieldNode, str] = field(default_factory=dict)
    """Each formula field left to Python by ``auto``, with the reason."""
    statements: dict[FieldNode, Statement] = field(default_factory=dict)

    @property
    def sql_fields(self) -> list[FieldNode]:
        """The fields recomputed in SQL."""
        return [(s.form, f) for s in self.steps if s.engine == "sql" for f in s.fields]

    @property
    def python_fields(self) -> list[FieldNode]:
        """The fields recomputed in Python."""
        return [(s.form, f) for s in self.steps if s.engine == "python" for f in s.fields]


def plan_recompute(
    catalog: Catalog,
    *,
    dialect: str,
    clock: dt.datetime,
    only_time_dependent: bool = False,
    engine: Engine = "auto",
) -> RecomputePlan:
    """Decide, per formula field, SQL or Python, and order the work.

    ``only_time_dependent`` keeps the forms with a TODAY()/NOW()-dependent formula (and every
    formula of those forms, as the Python path has always done). ``engine="python"`` puts every
    field in Python, ``"sql"`` refuses (:class:`NotInSqlError`) when a field cannot go to SQL.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown recompute engine '{engine}'; expected one of {', '.join(ENGINES)}")
    plan = catalog.formula_plan()
    wanted = time_dependent(plan) if only_time_dependent else {key: set() for key in plan.own}
    forms = [key for key in plan.own if key in wanted]
    selected = {(form, f.field.key) for form in forms for f in plan.own[form]}
    statements: dict[FieldNode, Statement] = {}
    refused: dict[FieldNode, str] = {}
    if engine != "python":
        tables = Tables(catalog, dialect, clock)
        for node in sorted(selected):
            formula = _formula(plan, node)
            try:
                statements[node] = tables.statement(formula)
            except ExprError as error:
                refused[node] = error.message
            except (LookupError, NotImplementedError, sa.exc.SQLAlchemyError) as error:  # a gap here: Python is safe
                refused[node] = f"could not be translated ({type(error).__name__}: {error})"
        if engine == "sql" and refused:
            listed = "; ".join(f"{form}.{key}: {why}" for (form, key), why in sorted(refused.items()))
            raise NotInSqlError(f"these formula fields cannot be recomputed in SQL: {listed}")
    steps = _order(plan, catalog, selected, set(statements))
    return RecomputePlan(steps, forms, refused, statements)


def _formula(plan: FormulaPlan, node: FieldNode) -> Formula:
    return next(f for f in plan.own[node[0]] if f.field.key == node[1])


def _order(plan: FormulaPlan, catalog: Catalog, selected: set[FieldNode], in_sql: set[FieldNode]) -> list[Step]:
    """The steps, in an order the formula graph allows, with as few Python passes as it can.

    Kahn's algorithm on the formula fields: the SQL fields that are ready run first, one statement
    per form (cheap, and they may ready more Python fields; being ready together, none reads
    another); then the Python fields of one form that are ready, and the ones they ready in turn,
    share a pass. A field that reads a formula of its own form on
    *other* records (``parent.score``) waits for the next pass, so that it reads final values.
    """
    formulas = {(form, f.field.key) for form, items in plan.own.items() for f in items}
    graph = plan.graph.subgraph(formulas)
    rank = {node: index for index, node in enumerate(nx.lexicographical_topological_sort(graph, key=str))}
    waiting = {node: graph.in_degree(node) for node in formulas}
    ready = {node for node, count in waiting.items() if count == 0}
    apart = _cross_record_reads(plan, catalog)
    steps: list[Step] = []

    def done(node: FieldNode) -> list[FieldNode]:
        ready.discard(node)
        freed = []
        for successor in graph.successors(node):
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.add(successor)
                freed.append(successor)
        return freed

    while ready:
        quick = sorted((n for n in ready if n in in_sql or n not in selected), key=rank.__getitem__)
        if quick:
            together: dict[str, list[str]] = {}  # ready at once: none reads another, one statement per form
            for node in quick:
                done(node)
                if node in selected:
                    together.setdefault(node[0], []).append(node[1])
            steps += [Step(form, tuple(keys), "sql") for form, keys in together.items()]
            continue
        form = min(ready, key=rank.__getitem__)[0]
        batch: list[FieldNode] = []
        candidates = sorted((n for n in ready if n[0] == form), key=rank.__getitem__)
        while candidates:
            node = candidates.pop(0)
            if any((earlier, node) in apart for earlier in batch):
                continue  # reads this pass's results on other records: next pass
            batch.append(node)
            freed = [n for n in done(node) if n[0] == form and n in selected and n not in in_sql]
            candidates = sorted(candidates + freed, key=rank.__getitem__)
        steps.append(Step(form, tuple(key for _form, key in batch), "python"))
    return steps


def _cross_record_reads(plan: FormulaPlan, catalog: Catalog) -> set[tuple[FieldNode, FieldNode]]:
    """Edges ``(form, x) -> (form, f)`` where ``f`` reads the formula ``x`` of *other* records of its form."""
    forms = plan.forms
    found: set[tuple[FieldNode, FieldNode]] = set()
    for form_key, items in plan.own.items():
        own = {f.field.key for f in items}
        scope = FormScope(forms[form_key], forms)
        for formula in items:
            for ref in references(parsed(formula.field.formula or "")):
                trace = scope.trace(ref.path)
                far = trace[1:] if trace else []
                if not trace:  # a name inside a condition: a field of the rows aggregated
                    far = [step for rows in _row_scopes(scope, formula) for step in rows.trace(ref.path)]
                found |= {((f, k), (form_key, formula.field.key)) for f, k in far if f == form_key and k in own}
    return found


def _row_scopes(scope: FormScope, formula: Formula) -> list[FormScope]:
    rows = []
    for ref in references(parsed(formula.field.formula or "")):
        resolved = scope.resolve(ref.path)
        if resolved is not None and isinstance(resolved.rows, FormScope):
            rows.append(resolved.rows)
    return rows


# -- running it -------------------------------------------------------------------------------------


def recompute(
    database: Database,
    catalog: Catalog,
    *,
    clock: dt.datetime,
    only_time_dependent: bool = False,
    engine: Engine = "auto",
    batch: int = 500,
    sql_batch: int = SQL_BATCH,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Recompute stored formula values (see the module docstring); return records changed per form."""
    work = plan_recompute(
        catalog, dialect=database.dialect, clock=clock, only_time_dependent=only_time_dependent, engine=engine
    )
    return run_plan(database, catalog, work, clock=clock, batch=batch, sql_batch=sql_batch, progress=progress)


def run_plan(
    database: Database,
    catalog: Catalog,
    work: RecomputePlan,
    *,
    clock: dt.datetime,
    batch: int = 500,
    sql_batch: int = SQL_BATCH,
    progress: Callable[[str], None] | None = None,
    on_step: Callable[[Step, float], None] | None = None,
) -> dict[str, int]:
    """Run the steps of ``work`` in order; return how many records changed per form.

    ``on_step`` hears of each step done, with the seconds it took.
    """
    plan = catalog.formula_plan()
    changed: dict[str, set[int]] = {form: set() for form in work.forms}
    for step in work.steps:
        started = time.perf_counter()
        runtime = catalog.form(step.form)
        if step.engine == "python":
            formulas = [_formula(plan, (step.form, key)) for key in step.fields]
            changed[step.form] |= recompute_records(
                database, catalog, runtime, formulas, clock=clock, batch=batch, progress=progress
            )
        else:
            try:
                statements = [work.statements[(step.form, key)] for key in step.fields]
                changed[step.form] |= _update(database, runtime, step.fields, statements, sql_batch, progress)
            except sa.exc.DBAPIError as error:  # batches done so far hold right values; Python does them all
                for key in step.fields:
                    work.refused[(step.form, key)] = f"the database refused its statement: {error.orig}"
                if progress:
                    progress(f"{step.form}.{','.join(step.fields)}: refused by the database; recomputing in Python")
                formulas = [_formula(plan, (step.form, key)) for key in step.fields]
                changed[step.form] |= recompute_records(
                    database, catalog, runtime, formulas, clock=clock, batch=batch, progress=progress
                )
        if on_step is not None:
            on_step(step, time.perf_counter() - started)
    return {form: len(ids) for form, ids in changed.items()}


def _update(
    database: Database,
    runtime: FormRuntime,
    keys: Sequence[str],
    statements: Sequence[Statement],
    size: int,
    progress: Callable[[str], None] | None,
) -> set[int]:
    """Fields that do not read each other, over the whole table, ``size`` records per statement.

    ``UPDATE t SET f = fresh.v_f, ... FROM (SELECT rid, <raw_f as stored> AS v_f, ... FROM (SELECT
    id AS rid, <f> AS raw_f, ... FROM t AS src WHERE <id range> OFFSET 0) raw) fresh WHERE t.id =
    fresh.rid AND (t.f IS DISTINCT FROM fresh.v_f OR ...)``: each record is written once, and the
    OFFSET keeps both databases from inlining the inner query, so an expression is computed once
    per row, not once per use in its conversion. Returns the ids of the records changed.
    """
    table = runtime.table
    source = table.alias("src")
    values = [statement.value(source).label(f"raw_{i}") for i, statement in enumerate(statements)]
    changed: set[int] = set()
    start: int | None = None
    while True:
        with database.begin() as connection:
            after = [] if start is None else [table.c.id > start]
            ids = sa.select(table.c.id).where(*after).order_by(table.c.id)
            first = connection.execute(ids.limit(1)).scalar()
            if first is None:
                break
            end = connection.execute(ids.offset(size - 1).limit(1)).scalar()  # None: the rest of the table
            within = [source.c.id >= first] + ([source.c.id <= end] if end is not None else [])
            raw = sa.select(source.c.id.label("rid"), *values).where(*within).offset(0).subquery("raw")
            stored = [s.stored(raw.c[f"raw_{i}"]).label(f"v_{i}") for i, s in enumerate(statements)]
            fresh = sa.select(raw.c.rid, *stored).subquery("fresh")
            news = [fresh.c[f"v_{i}"] for i in range(len(keys))]
            update = (
                sa.update(table)
                .where(
                    table.c.id == fresh.c.rid,
                    sa.or_(*(table.c[key].is_distinct_from(new) for key, new in zip(keys, news, strict=True))),
                )
                .values({key: new for key, new in zip(keys, news, strict=True)})
                .returning(table.c.id)
            )
            if database.dialect == "postgresql":
                connection.exec_driver_sql("SET LOCAL extra_float_digits = 1")  # shortest exact float text
            changed.update(connection.execute(update).scalars())
        if end is None:
            break
        start = end
    if progress:
        progress(f"{runtime.key}.{','.join(keys)} (SQL): {len(changed)} records changed")
    return changed


# -- compiling a formula to SQL ---------------------------------------------------------------------


class Tables:
    """The installed forms' tables, for compiling formulas of any of them to SQL."""

    def __init__(self, catalog: Catalog, dialect: str, clock: dt.datetime) -> None:
        self.runtimes = {runtime.key: runtime for runtime in catalog.forms()}
        self.forms: dict[str, FormDefinition] = {key: rt.definition for key, rt in self.runtimes.items()}
        self.dialect = dialect
        self.clock = clock
        self.today = clock.date()
        self.synthetic: dict[str, tuple[SqlColumn, int | None]] = {}  # see Rewriter

    def statement(self, formula: Formula) -> Statement:
        """``formula`` in SQL.

        Raises:
            ExprError: ``not_in_sql`` when the expression or its stored conversion is not exact in SQL.
        """
        target = formula.field
        node = parsed(target.formula or "")
        _value, store = self.build(formula.form, target, node, self.runtimes[formula.form].table.alias())

        def value(table: FromClause) -> Expr:
            return self.build(formula.form, target, node, table)[0]

        return Statement(value, store)

    def build(self, form: str, target: FieldBase, node: Node, table: FromClause) -> tuple[Expr, Store]:
        """``node``'s value on each row of ``table`` (an alias of ``form``'s table), and how ``target`` stores it."""
        scope = FormSqlScope(self, form, table)
        try:
            rewritten = Rewriter(self, scope).node(node, scope)
        except RecursionError:
            raise not_in_sql(node, "an expression nested this deeply") from None
        value, kind = compile_typed(rewritten, scope, dialect=self.dialect, today=self.today, current_user=None)
        decimals = places(rewritten, scope)
        refused = stored_expression(target, value, kind, self.dialect, decimals)
        if isinstance(refused, str):
            raise not_in_sql(node, refused)

        def store(computed: Expr) -> Expr:
            stored = stored_expression(target, computed, kind, self.dialect, decimals)
            if isinstance(stored, str):  # not after the check above: the same conversion of the same type
                raise not_in_sql(node, stored)
            return stored

        return value, store


Store = Callable[[Expr], Expr]


@dataclass(frozen=True)
class Statement:
    """A formula field in SQL: its value on each row of (an alias of) its form's table, and that value as stored.

    Kept apart so that the statement computes the value once (in a sub-query) and converts that.
    """

    value: Callable[[FromClause], Expr]
    stored: Store


@dataclass(frozen=True)
class Rows:
    """Related rows in SQL: the FROM, its correlation with the record, and the scope of one row."""

    source: FromClause
    where: Expr
    scope: FormSqlScope
    own: tuple[FromClause, ...]


class FormSqlScope:
    """A form's names in SQL, as :class:`forms.computed.RecordContext` reads them in Python.

    ``table`` is the form's table or an alias of it (a sub-table row's table, with ``fields``
    its fields and ``parent`` the record's scope). :meth:`column` implements
    :class:`engine.storage.expr_sql.SqlScope`; names starting with ``#`` are parts computed by
    :class:`Rewriter`.
    """

    def __init__(
        self,
        tables: Tables,
        form: str,
        table: FromClause,
        *,
        fields: Sequence[FieldBase] | None = None,
        parent: FormSqlScope | None = None,
    ) -> None:
        self.tables = tables
        self.form = tables.forms[form]
        self.table = table
        self.fields = {f.key: f for f in (self.form.fields if fields is None else fields)}
        self.parent = parent

    def column(self, path: Sequence[str]) -> SqlColumn | None:
        """The SQL of ``path`` (None when it is not one value per row)."""
        found = self.lookup(path)
        return None if found is None else found[0]

    def lookup(self, path: Sequence[str]) -> tuple[SqlColumn, int | None] | None:
        """The SQL of ``path`` and, for a number, how many decimals it can have (None: any)."""
        if not path:
            if self.parent is not None:
                return self.parent.lookup(path)
            return SqlColumn(self.table.c.id, record(self.form.key)), None
        head, rest = path[0], tuple(path[1:])
        if head.startswith(_SYNTHETIC):
            return None if rest else self.tables.synthetic.get(head)
        target = self.fields.get(head)
        if target is not None:
            return self._field(target, rest)
        if self.parent is not None:
            return self.parent.lookup(path)
        if self.reverse(head) is not None:
            return None  # rows pointing here: a list (aggregates are rewritten beforehand)
        settings = self.tables.forms.get(head)
        if settings is None or not settings.singleton or not rest or head not in self.tables.runtimes:
            return None
        alias = self.tables.runtimes[head].table.alias()
        inner = FormSqlScope(self.tables, head, alias).lookup(rest)
        if inner is None:
            return None
        first = sa.select(inner[0].expression).select_from(alias).order_by(alias.c.id).limit(1)
        return SqlColumn(first.correlate_except(alias).scalar_subquery(), inner[0].type), inner[1]

    def _field(self, target: FieldBase, rest: tuple[str, ...]) -> tuple[SqlColumn, int | None] | None:
        if isinstance(target, RelationField):
            link = self.table.c[target.key]
            if not rest:
                return SqlColumn(link, record(target.target)), None
            if target.target not in self.tables.runtimes:
                return None
            alias = self.tables.runtimes[target.target].table.alias()
            inner = FormSqlScope(self.tables, target.target, alias).lookup(rest)
            if inner is None:
                return None
            hop = sa.select(inner[0].expression).where(alias.c.id == link)
            return SqlColumn(hop.correlate_except(alias).scalar_subquery(), inner[0].type), inner[1]
        if rest or target.storage != "column" or target.type_name in MANY_VALUED or target.key not in self.table.c:
            return None
        return SqlColumn(self.table.c[target.key], Type(target.expr_type)), _decimals(target)

    def reverse(self, name: str) -> tuple[FormDefinition, RelationField] | None:
        """The relation of another form whose records point here under ``name``."""
        return FormScope(self.form, self.tables.forms).reverse_link(name)

    def rows(self, name: str) -> Rows | None:
        """The rows ``name`` leads to: a sub-table, the targets of a multi-relation, records pointing here."""
        target = self.fields.get(name)
        runtime = self.tables.runtimes.get(self.form.key)
        if target is None and self.parent is not None:
            return self.parent.rows(name)
        record_id = self.table.c.id
        if isinstance(target, SubtableField) and runtime is not None and name in runtime.side_tables:
            side = runtime.side_tables[name].alias()
            scope = FormSqlScope(self.tables, self.form.key, side, fields=target.child_fields, parent=self)
            return Rows(side, side.c.parent_id == record_id, scope, (side,))
        if isinstance(target, MultiRelationField) and runtime is not None and name in runtime.side_tables:
            if target.target not in self.tables.runtimes:
                return None
            link = runtime.side_tables[name].alias()
            other = self.tables.runtimes[target.target].table.alias()
            source = link.join(other, other.c.id == link.c.target_id)
            scope = FormSqlScope(self.tables, target.target, other)
            return Rows(source, link.c.parent_id == record_id, scope, (link, other))
        if target is not None:
            return None
        found = self.reverse(name)
        if found is None or found[0].key not in self.tables.runtimes:
            return None
        form, relation = found
        pointing = self.tables.runtimes[form.key].table.alias()
        return Rows(
            pointing, pointing.c[relation.key] == record_id, FormSqlScope(self.tables, form.key, pointing), (pointing,)
        )


def _decimals(target: FieldBase) -> int | None:
    """How many decimals a stored number field holds (None: not a number field)."""
    if isinstance(target, RatingField):
        return 0
    if isinstance(target, NumberField | CurrencyField | PercentField):
        return target.scale
    return None


class Rewriter:
    """Turns the parts SQL cannot compile as they are into ``#n`` names that the scope serves.

    Aggregates over related rows become correlated sub-queries, ``literal IN (rows.f)`` an
    EXISTS, ``THIS.x`` inside a row condition the record's column, CURRENT_USER() a blank
    user, and calls that read no field (``EOMONTH(TODAY(), -13)``) their value computed once
    by the Python evaluator. Everything else is left for the SQL compiler, which refuses what
    it cannot do (``not_in_sql``).
    """

    def __init__(self, tables: Tables, top: FormSqlScope) -> None:
        self.tables = tables
        self.top = top

    def node(self, node: Node, scope: FormSqlScope) -> Node:
        """``node`` rewritten for ``scope`` (the record's, or a related row's inside a condition)."""
        if isinstance(node, Ref):
            if node.this and scope is not self.top:
                found = self.top.lookup(node.path)
                if found is None:
                    raise not_in_sql(node, f"the name 'THIS.{'.'.join(node.path)}'")
                return self.name(node, found[0], found[1])
            return node
        if isinstance(node, Call):
            return self.call(node, scope)
        if isinstance(node, Unary):
            return dataclasses.replace(node, operand=self.node(node.operand, scope))
        if isinstance(node, Binary):
            return dataclasses.replace(node, left=self.node(node.left, scope), right=self.node(node.right, scope))
        if isinstance(node, InList):
            listed = self.in_rows(node, scope)
            if listed is not None:
                return listed
            items = tuple(self.node(item, scope) for item in node.items)
            return dataclasses.replace(node, operand=self.node(node.operand, scope), items=items)
        return node

    def name(self, node: Node, column: SqlColumn, decimals: int | None) -> Ref:
        """A ``#n`` name for ``column`` (shared by every scope of this expression)."""
        key = f"{_SYNTHETIC}{len(self.tables.synthetic)}"
        self.tables.synthetic[key] = (column, decimals)
        return Ref((key,), node.start, node.end)

    def call(self, node: Call, scope: FormSqlScope) -> Node:
        if node.name == "CURRENT_USER" and not node.args:
            return self.name(node, SqlColumn(sa.cast(sa.null(), sa.BigInteger()), USER), None)
        aggregate = self.aggregate(node, scope)
        if aggregate is not None:
            return aggregate
        if node.name not in SQL_FUNCTIONS and not any(isinstance(part, Ref) for part in walk(node)):
            value = compile_expression(node)(_Constants(self.tables.clock))
            if isinstance(value, bool | float | str) or (
                isinstance(value, dt.date) and not isinstance(value, dt.datetime)
            ):
                return self.name(node, _constant(value), _places_of(value))
        return dataclasses.replace(node, args=tuple(self.node(arg, scope) for arg in node.args))

    def aggregate(self, node: Call, scope: FormSqlScope) -> Ref | None:
        """COUNT, COUNTIF, MAX, MIN, MAXIF, MINIF over related rows as a sub-query (None: not one)."""
        name, args = node.name, node.args
        if name in _SUMS and args and isinstance(args[0], Ref) and args[0].path and scope.rows(args[0].path[0]):
            raise not_in_sql(node, f"{name} over related rows", hint="Python adds their floats one by one, by id")
        expected = {"COUNT": 1, "MAX": 1, "MIN": 1, "COUNTIF": 2, "MAXIF": 2, "MINIF": 2}.get(name)
        if expected is None or len(args) != expected or not isinstance(args[0], Ref) or args[0].this:
            return None
        path, rest = args[0].path, tuple(args[0].path[1:])
        rows = scope.rows(path[0]) if path else None
        if rows is None or (name == "COUNTIF" and rest) or (name not in ("COUNT", "COUNTIF") and not rest):
            return None  # COUNTIF(rows.f, ...) and MAX(rows) read the rows' ids: left as they are
        conditions: list[Expr] = [rows.where]
        if len(args) == 2:
            conditions.append(self.condition(self.node(args[1], rows.scope), rows.scope))
        value: Expr = sa.func.count()
        kind = NUMBER
        decimals: int | None = 0
        if rest:
            found = rows.scope.lookup(rest)
            if found is None or found[0].type.many or found[0].type.name not in _ORDERED:
                raise not_in_sql(args[0], f"{name} over '{'.'.join(path)}'", hint="only numbers and dates")
            column = found[0]
            if name == "COUNT":
                value = sa.func.count(column.expression)
            else:
                value = (sa.func.max if name.startswith("MAX") else sa.func.min)(column.expression)
                kind, decimals = column.type, found[1]
        query = sa.select(value).select_from(rows.source).where(*conditions)
        return self.name(node, SqlColumn(query.correlate_except(*rows.own).scalar_subquery(), kind), decimals)

    def in_rows(self, node: InList, scope: FormSqlScope) -> Ref | None:
        """``literal IN (rows.f, choices, ...)``: an EXISTS over related rows or a multi-select's items.

        None when ``node`` is not of that shape (the SQL compiler then has its say).
        """
        operand = node.operand
        if not isinstance(operand, LiteralNode) or not node.items:
            return None
        tests: list[Expr] = []
        for item in node.items:
            if not isinstance(item, Ref) or item.this or not item.path:
                return None
            if len(item.path) == 1:
                choices = self.choices(item, scope)
                if choices is None:
                    return None
                source, value = choices
                same = Binary("=", operand, value, node.start, node.end)
                test = self.condition(same, scope)
                tests.append(
                    sa.exists(sa.select(sa.literal(1)).select_from(source).where(test).correlate_except(source))
                )
                continue
            rows = scope.rows(item.path[0])
            if rows is None:
                return None
            same = Binary("=", operand, Ref(tuple(item.path[1:]), item.start, item.end), node.start, node.end)
            test = self.condition(self.node(same, rows.scope), rows.scope)
            query = sa.select(sa.literal(1)).select_from(rows.source).where(rows.where, test)
            tests.append(sa.exists(query.correlate_except(*rows.own)))
        found: Expr = sa.or_(*tests)
        return self.name(node, SqlColumn(sa.not_(found) if node.negated else found, BOOLEAN), None)

    def choices(self, item: Ref, scope: FormSqlScope) -> tuple[FromClause, Ref] | None:
        """The items of a multi-select field of the record, as a table of one text column (None: not one)."""
        target = scope.fields.get(item.path[0])
        if not isinstance(target, MultiSelectField) or target.key not in scope.table.c:
            return None
        column = scope.table.c[target.key]
        if self.tables.dialect == "sqlite":
            items = sa.func.json_each(column).table_valued("value")
        else:
            items = sa.func.jsonb_array_elements_text(column).table_valued("value")
        return items, self.name(item, SqlColumn(sa.type_coerce(items.c.value, sa.Text()), TEXT), None)

    def condition(self, node: Node, scope: FormSqlScope) -> Expr:
        """A WHERE clause for ``node`` (already rewritten) on ``scope``'s rows."""
        dialect, today = self.tables.dialect, self.tables.today
        return compile_condition(node, scope, dialect=dialect, today=today, current_user=None)


class _Constants:
    """The context of a part that reads no field: only the clock (CURRENT_USER() is blank)."""

    def __init__(self, clock: dt.datetime) -> None:
        self.clock = clock

    def value(self, path: Sequence[str]) -> Any:
        return None

    def rows(self, path: Sequence[str]) -> list[Any]:
        return []

    @property
    def current_user(self) -> Any:
        return None

    @property
    def today(self) -> dt.date:
        return self.clock.date()

    @property
    def now(self) -> dt.datetime:
        return self.clock


def _constant(value: bool | float | str | dt.date) -> SqlColumn:
    if isinstance(value, bool):
        return SqlColumn(sa.literal(value, sa.Boolean()), BOOLEAN)
    if isinstance(value, float):
        return SqlColumn(sa.literal(value, sa.Float()), NUMBER)
    if isinstance(value, str):
        return SqlColumn(sa.literal(value, sa.Text()), TEXT)
    return SqlColumn(sa.literal(value, sa.Date()), DATE)


def _places_of(value: Any) -> int | None:
    if not isinstance(value, float) or isinstance(value, bool):
        return None
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else None


# -- how many decimals a result can have --------------------------------------------------------------

_WHOLE = frozenset({"INT", "LEN", "FIND", "YEAR", "MONTH", "DAY", "DAYS"})
_ROUNDING = frozenset({"ROUND", "ROUNDUP", "ROUNDDOWN"})


def places(node: Node, scope: FormSqlScope) -> int | None:
    """The most decimals ``node``'s number can have, when it is always the double nearest to such a
    decimal (None when it can be any double: ``a / b``, ``0.1 + 0.2``)."""
    if isinstance(node, LiteralNode):
        if node.value is None:
            return 0
        if isinstance(node.value, Decimal) and node.value.is_finite():
            exponent = node.value.as_tuple().exponent
            return max(0, -exponent) if isinstance(exponent, int) else None
        return None
    if isinstance(node, Ref):
        found = scope.lookup(node.path)
        return None if found is None else found[1]
    if isinstance(node, Unary):
        return places(node.operand, scope) if node.op in ("-", "+") else None
    if isinstance(node, Binary):
        if node.op in ("+", "-", "*") and places(node.left, scope) == 0 and places(node.right, scope) == 0:
            return 0  # whole numbers stay whole (and every double beyond 2**53 is one)
        return None
    if not isinstance(node, Call):
        return None
    if node.name in _WHOLE:
        return 0
    if node.name in _ROUNDING and len(node.args) == 2:
        digits = node.args[1]
        if isinstance(digits, LiteralNode) and isinstance(digits.value, Decimal):
            return max(0, min(400, int(digits.value)))
        return None
    choices = _results(node)
    if choices is None:
        return None
    known = [places(arg, scope) for arg in choices]
    return None if any(p is None for p in known) else max((p for p in known if p is not None), default=0)


def _results(node: Call) -> Sequence[Node] | None:
    """The arguments whose value a choice or an extreme returns."""
    args = node.args
    if node.name == "IF":
        return args[1:]
    if node.name == "IFS":
        return args[1::2]
    if node.name == "SWITCH":
        return [*args[2::2], *([args[-1]] if len(args) % 2 == 0 else [])]
    if node.name in ("COALESCE", "MIN", "MAX", "ABS"):
        return args
    return None


# -- the stored conversion ----------------------------------------------------------------------------


def stored_expression(target: FieldBase, value: Expr, kind: Type, dialect: str, decimals: int | None) -> Expr | str:
    """``value`` converted as :func:`forms.recompute.stored_value` converts a result, or why SQL cannot.

    The Python storer validates the result with the field's value type (a blank when it does not
    fit) and converts it for the column. Here: whole numbers for integer fields (a fraction is
    blank), within the field's bounds; decimals as ``Decimal(repr(x))`` rounded half up to the
    field's scale (PostgreSQL reads the float's shortest text; SQLite, which has no such text,
    only takes results known to have at most that many decimals, which the rounding keeps);
    text within its length (a select: one of its options); dates and booleans as they are; user,
    department and record ids within the ids' range.
    """
    if kind == BLANK:
        return sa.null()
    if isinstance(target, RatingField | NumberField | CurrencyField | PercentField):
        if kind != NUMBER:
            return f"a {kind} result for a number field"
        return _stored_number(target, value, dialect, decimals)
    if isinstance(target, BooleanField):
        return value if kind == BOOLEAN else f"a {kind} result for a boolean field"
    if isinstance(target, DateField):
        if kind != DATE:
            return f"a {kind} result for a date field"
        tests = [value >= target.min] if target.min is not None else []
        tests += [value <= target.max] if target.max is not None else []
        day = _period_start(value, target.granularity, dialect)
        return sa.case((sa.and_(*tests), day)) if tests else day
    if isinstance(target, SelectField):
        if kind != TEXT:
            return f"a {kind} result for a select field"
        return sa.case((value.in_(list(target.values)), value))
    if isinstance(target, TextField | TextareaField | RichTextField):
        if kind != TEXT:
            return f"a {kind} result for a text field"
        if isinstance(target, TextField) and target.pattern is not None:
            return "a text field with a pattern"
        tests = [sa.func.length(value) <= target.effective_max_length]
        if target.min_length is not None:
            tests.append(sa.func.length(value) >= target.min_length)
        return sa.case((sa.and_(*tests), value))
    if isinstance(target, UserField | DepartmentField | RelationField):
        if kind.name != target.expr_type:
            return f"a {kind} result for a {target.type_name} field"
        return sa.case((sa.and_(value >= 1, value <= RECORD_ID_MAX), value))  # a RecordId
    return f"a {target.type_name} field"


def _period_start(value: Expr, granularity: str, dialect: str) -> Expr:
    """The first day of ``value``'s month or year (a date field's granularity), or ``value``."""
    if granularity == "day":
        return value
    if dialect == "sqlite":
        return sa.func.date(value, sa.literal(f"start of {granularity}", sa.Text()), type_=sa.Date())
    return sa.cast(sa.func.date_trunc(sa.literal(granularity, sa.Text()), value), sa.Date())


def _stored_number(
    target: RatingField | NumberField | CurrencyField | PercentField, value: Expr, dialect: str, decimals: int | None
) -> Expr | str:
    x = sa.cast(value, sa.Float())
    if isinstance(target, RatingField):
        return _whole(x, 1.0, float(target.max), dialect)
    if target.scale == 0:  # a BIGINT: within the field's bounds, rounded inwards, and int64
        low = float(INT64_MIN if target.min is None else max(math.ceil(target.min), INT64_MIN))
        if target.max is None or target.max >= INT64_MAX:
            return _whole(x, low, _TWO_63, dialect, strict=True)
        return _whole(x, low, float(math.floor(target.max)), dialect)
    limit = float(DECIMAL_LIMIT)
    tests = [x > -limit, x < limit]  # on the unrounded value, as pydantic checks before it quantizes
    tests += [x >= target.min] if target.min is not None else []
    tests += [x <= target.max] if target.max is not None else []
    if dialect == "postgresql":
        exact = sa.cast(sa.cast(x, sa.Text()), sa.Numeric())  # the float's shortest text: Python's repr
        return sa.case((sa.and_(*tests), sa.func.round(exact, target.scale)))  # numeric rounds halves up
    if decimals is None or decimals > target.scale:
        return f"a result that may have more than {target.scale} decimals (SQLite cannot round it as Python does)"
    return sa.case((sa.and_(*tests), x))  # double(D) for a D of at most `scale` decimals: Python stores it as is


def _whole(x: Expr, low: float, high: float, dialect: str, *, strict: bool = False) -> Expr:
    """``x`` as a whole number in ``[low, high]`` (``high`` excluded when ``strict``); blank otherwise."""
    tests = [x == sa.func.trunc(x), x >= low, x < high if strict else x <= high]
    clamped: Expr
    if dialect == "sqlite":
        clamped = sa.func.min(sa.func.max(x, low), 9.2e18)
    else:  # PostgreSQL casts out-of-range values with an error, even in a CASE arm not taken
        clamped = sa.func.least(sa.func.greatest(x, low), 9.2e18)
    return sa.case((sa.and_(*tests), sa.cast(clamped, sa.BigInteger())))


def describe(work: RecomputePlan) -> Mapping[str, Any]:
    """A summary of a plan (for the command line and benchmarks)."""
    return {
        "sql_fields": len(work.sql_fields),
        "python_fields": len(work.python_fields),
        "python_passes": sum(1 for step in work.steps if step.engine == "python"),
        "refused": {f"{form}.{key}": why for (form, key), why in sorted(work.refused.items())},
    }
