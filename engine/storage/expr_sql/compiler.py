"""The SQL backend's tree walk: each AST node becomes a :class:`~engine.storage.expr_sql.values.Sql`.

Operator chains (``a + b + c ...``, ``-(-(x))``) are walked as loops, as the Python evaluator
does. A function call whose arguments are all literals is computed once by the registered
Python implementation itself, so constant parts agree with Python by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa

from engine.expr import values as python
from engine.expr.functions import FUNCTIONS
from engine.expr.functions.registry import unknown_function, wrong_arity
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary, walk
from engine.expr.types import BLANK, BOOLEAN, DATE, NUMBER, NUMBER_LIKE, TEXT, Type
from engine.storage.expr_sql import arithmetic, logic
from engine.storage.expr_sql.conversions import as_logical, as_text, compare
from engine.storage.expr_sql.dialect import Env
from engine.storage.expr_sql.functions import SQL_FUNCTIONS
from engine.storage.expr_sql.scope import SqlRows, SqlScope
from engine.storage.expr_sql.sharing import Sizes, built_once
from engine.storage.expr_sql.values import Bounds, Sql, constant, not_in_sql, typed

_OPAQUE = frozenset({"user", "record", "department"})
_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_VALUE_ERRORS = (ArithmeticError, ValueError, TypeError)  # as the evaluator: bad input is an error value
_SIMPLE_TYPES = {"text": TEXT, "boolean": BOOLEAN, "date": DATE}


class Compiler:
    """Compiles one expression against a scope, for one database."""

    def __init__(self, scope: SqlScope, env: Env) -> None:
        self.scope = scope
        self.env = env
        self.sizes = Sizes()

    def visit(self, node: Node) -> Sql:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Ref):
            return self.ref(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.in_list(node)

    def literal(self, node: Literal) -> Sql:
        value = float(node.value) if isinstance(node.value, Decimal) else node.value
        if isinstance(value, float) and not math.isfinite(value):
            return Sql(typed(sa.null(), NUMBER), NUMBER, may_error=True)  # an error, as in Python (hand-built trees)
        return constant(value)

    def ref(self, node: Ref) -> Sql:
        column = self.scope.column(node.path)
        if column is None:
            raise not_in_sql(node, f"the name '{'.'.join(node.path) or 'THIS'}'", hint="it names no column here")
        kind = column.type
        if kind.many:
            raise not_in_sql(node, f"the list {'.'.join(node.path)}", hint="aggregates over lists run in Python")
        expression = column.expression
        simple = isinstance(expression, sa.ColumnClause)
        if kind.name in NUMBER_LIKE:
            return self.number_column(expression, simple)
        if kind.name in _SIMPLE_TYPES:
            return Sql(typed(expression, kind), _SIMPLE_TYPES[kind.name], may_blank=True, simple=simple)
        if kind.name in _OPAQUE:
            return Sql(expression, kind, may_blank=True, simple=simple)
        raise not_in_sql(node, f"a {kind} field")

    def number_column(self, expression: Any, simple: bool) -> Sql:
        sa_type = expression.type
        bounds = Bounds()
        if isinstance(sa_type, sa.Integer):
            bounds = Bounds(1.0, 2.0**63)
        elif isinstance(sa_type, sa.Numeric) and not isinstance(sa_type, sa.Float) and sa_type.precision is not None:
            scale = sa_type.scale or 0  # NUMERIC(p, s): below 10**(p - s), steps of 10**-s
            bounds = Bounds(10.0**-scale, 10.0 ** (sa_type.precision - scale))
        stored = sa_type.dialect_impl(self.env.dialect.sa_dialect)  # e.g. decimals stored as REAL on SQLite
        stored = stored.impl_instance if isinstance(stored, sa.TypeDecorator) else stored
        value = expression if isinstance(stored, sa.Float) else sa.cast(expression, sa.Float())
        return Sql(typed(value, NUMBER), NUMBER, may_blank=True, bounds=bounds, simple=simple, stored=True)

    def call(self, node: Call) -> Sql:
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise unknown_function(node)
        if not function.accepts_count(len(node.args)):
            raise wrong_arity(function, node)
        translate = SQL_FUNCTIONS.get(node.name)
        if translate is None:
            raise not_in_sql(node, f"{node.name}()")
        args = [self.visit(arg) for arg in node.args]
        if args and not function.lazy and not function.needs_context and all(a.literal is not None for a in args):
            results = [arg for i, arg in enumerate(args) if function.param_at(i, len(args)).result]
            kind = function.returns or logic.unify(results, node)
            return folded(function.implementation, [a.literal[0] for a in args if a.literal is not None], node, kind)
        return built_once(self.sizes, lambda shared: translate(self.env, node, shared), args)

    def unary(self, node: Unary) -> Sql:
        chain: list[Unary] = []
        inner: Node = node
        while isinstance(inner, Unary):
            chain.append(inner)
            inner = inner.operand
        result = self.visit(inner)
        for part in reversed(chain):  # innermost operator first
            result = built_once(self.sizes, partial(self.unary_operator, part), [result])
        return result

    def unary_operator(self, node: Unary, operands: Sequence[Sql]) -> Sql:
        if node.op == "NOT":
            return logic.not_(operands[0], node.operand)
        return arithmetic.unary(self.env.dialect, node.op, operands[0], node.operand)

    def binary(self, node: Binary) -> Sql:
        spine: list[Binary] = []
        inner: Node = node
        while isinstance(inner, Binary):
            spine.append(inner)
            inner = inner.left
        result = self.visit(inner)
        for part in reversed(spine):
            result = built_once(self.sizes, partial(self.operator, part), [result, self.visit(part.right)])
        return result

    def operator(self, node: Binary, operands: Sequence[Sql]) -> Sql:
        left, right = operands
        dialect = self.env.dialect
        if node.op == "&":
            a, b = as_text(dialect, left, node.left), as_text(dialect, right, node.right)
            if a.literal is not None and b.literal is not None:
                return folded(lambda x, y: python.checked_text(x + y), [a.literal[0], b.literal[0]], node, TEXT)
            return Sql(typed(a.value.concat(b.value), TEXT), TEXT, may_error=a.may_error or b.may_error)
        if node.op in ("AND", "OR"):
            return logic.logical(node.op, [left, right], [node.left, node.right])
        if node.op in _COMPARISONS:
            return compare(dialect, node.op, left, right, node)
        return arithmetic.binary(dialect, node.op, left, right, node)

    def in_list(self, node: InList) -> Sql:
        lists = [self._rows(item) for item in node.items]
        if any(rows is not None for rows in lists):
            return self.in_rows(node, lists)
        args = [self.visit(node.operand), *(self.visit(item) for item in node.items)]

        def build(shared: Sequence[Sql]) -> Sql:
            return logic.in_list(self.env.dialect, shared[0], shared[1:], node.negated, node)

        return built_once(self.sizes, build, args)

    def _rows(self, item: Node) -> SqlRows | None:
        rows = getattr(self.scope, "rows", None)
        if not isinstance(item, Ref) or rows is None or self.scope.column(item.path) is not None:
            return None
        found: SqlRows | None = rows(item.path)
        return found

    def in_rows(self, node: InList, lists: Sequence[SqlRows | None]) -> Sql:
        """``x IN (a, related.field)``: a list item is an EXISTS over the related rows.

        The operand must not be able to be an error (then Python's answer is an error, which
        EXISTS cannot say); related values that are errors or blank simply do not match.
        """
        operand = self.visit(node.operand)
        if operand.may_error:
            raise not_in_sql(node.operand, "a value that may be an error, tested against related rows")
        cases: list[tuple[logic.Test, Sql]] = []
        for item, rows in zip(node.items, lists, strict=True):
            if rows is None:
                cases.append(
                    (
                        logic.test_of(compare(self.env.dialect, "=", operand, self.visit(item), node)),
                        constant(not node.negated),
                    )
                )
                continue
            value = Compiler(rows.scope, self.env).visit(
                Ref(rows.rest, item.start, item.end) if isinstance(item, Ref) else item
            )
            if value.type.many:
                raise not_in_sql(item, "a list inside a list")
            same = as_logical(compare(self.env.dialect, "=", operand, value, node), node)
            if not any(isinstance(part, Ref) for part in walk(node.operand)):
                # The operand does not depend on the row (CURRENT_USER(), a literal): an uncorrelated
                # ``owner IN (SELECT key ...)`` that the planner runs once, not once per row.
                member = sa.select(rows.key).select_from(rows.source).where(same, rows.key.is_not(None))
                test = sa.and_(rows.owner.in_(member), rows.owner.is_not(None))
            else:
                test = sa.exists(sa.select(sa.literal(1)).select_from(rows.source).where(rows.where, same))
            cases.append((logic.Test(test, False), constant(not node.negated)))
        if not any(test.may_error or test.known is not None for test, _result in cases):
            # no case can be an error: a plain OR the planner can see through (no CASE around it)
            found = sa.or_(*(test.sql for test, _result in cases))
            return Sql(typed(sa.not_(found) if node.negated else found, BOOLEAN), BOOLEAN)
        return logic.choose(cases, constant(node.negated), node)


def folded(implementation: Any, values: Sequence[Any], node: Node, kind: Type = BLANK) -> Sql:
    """A call on literals, computed by Python's implementation (an error stays an error)."""
    try:
        result = implementation(*values)
    except _VALUE_ERRORS:
        result = python.ERROR
    if isinstance(result, int) and not isinstance(result, bool):
        result = float(result)
    if result is python.ERROR or (isinstance(result, float) and not math.isfinite(result)):
        return Sql(typed(sa.null(), kind), kind, may_error=True)
    if not isinstance(result, float | str | bool | type(None)) and not python.is_date(result):
        raise not_in_sql(node, f"a constant of type {type(result).__name__}")
    return constant(result)
