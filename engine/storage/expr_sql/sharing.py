"""Writing a bulky operand once: a guard repeats its operands (``CASE WHEN b = 0 THEN ... ELSE a / b``),
and nested guards would repeat them exponentially (``MOD(MOD(MOD(x, 2), 3), 4)``).

When building a node repeats an argument of more than :data:`BULKY` SQL parts, the node is built
again on a stand-in column of a one-row derived table that computes the argument once per row:
``(SELECT body FROM (SELECT <argument> AS v) AS anon)``. Both databases accept the derived
table's reference to the outer row because it sits inside a scalar sub-query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import Select, TableClause

from engine.storage.expr_sql.values import Expr, Sql

BULKY = 30  # SQL parts: a column with a cast and a COALESCE is about 6


class Sizes:
    """Sizes of SQL trees (a part repeated by a guard counts each time), remembered per element."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[Any, int]] = {}  # id -> (element kept alive, size)

    def of(self, element: Any) -> int:
        found = self.known.get(id(element))
        if found is None:
            found = (element, 1 + sum(self.of(child) for child in _written_inside(element)))
            self.known[id(element)] = found
        return found[1]

    def of_node(self, node: Sql) -> int:
        return self.of(node.value) + (self.of(node.blank_when) if node.blank_when is not None else 0)


def _written_inside(element: Any) -> Sequence[Any]:
    """The parts SQL writes inside ``element``: a select's own columns, conditions and explicit FROM
    (not the outer tables it correlates to, which ``get_children`` lists too); a table is one part."""
    if isinstance(element, Select):
        return (*element._raw_columns, *element._where_criteria, *element._from_obj)
    if isinstance(element, TableClause):
        return ()
    children: Sequence[Any] = element.get_children()
    return children


def built_once(sizes: Sizes, build: Callable[[Sequence[Sql]], Sql], args: Sequence[Sql]) -> Sql:
    """``build(args)``, rebuilt on stand-ins when it repeats a bulky argument."""
    result = build(args)
    bulky = [i for i, arg in enumerate(args) if sizes.of_node(arg) > BULKY]
    if not bulky:
        return result
    spent = sum(sizes.of_node(arg) for arg in args)
    if sizes.of_node(result) < spent + min(sizes.of_node(args[i]) for i in bulky):
        return result  # no argument was written twice
    parts: list[Expr] = []
    stand_ins = list(args)
    for i in bulky:
        arg = args[i]
        parts.append(arg.value.label(f"v{len(parts)}"))
        if arg.blank_when is not None:
            parts.append(sa.type_coerce(arg.blank_when, sa.Boolean()).label(f"v{len(parts)}"))
    once = sa.select(*parts).correlate_except(None).subquery()
    index = 0
    for i in bulky:
        arg = args[i]
        value = once.c[f"v{index}"]
        index += 1
        blank_when = None
        if arg.blank_when is not None:
            blank_when, index = once.c[f"v{index}"], index + 1
        stand_ins[i] = Sql(value, arg.type, arg.may_blank, arg.may_error, blank_when, arg.bounds, simple=True)
    inner = build(stand_ins)

    def scalar(expr: Expr) -> Expr:
        return sa.select(expr).select_from(once).correlate_except(once).scalar_subquery()

    blank = scalar(inner.blank_when) if inner.blank_when is not None else None
    return Sql(scalar(inner.value), inner.type, inner.may_blank, inner.may_error, blank, inner.bounds, inner.literal)


def let(value: Expr, body: Callable[[Expr], Expr]) -> Expr:
    """``body(v)`` with ``v`` computed once per row (for a body that names its value many times)."""
    once = sa.select(value.label("v")).correlate_except(None).subquery()
    return sa.select(body(once.c.v)).select_from(once).correlate_except(once).scalar_subquery()
