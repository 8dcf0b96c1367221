"""What a field path means in SQL: a :class:`SqlScope` maps a path to a column expression and its type.

:class:`TableScope` serves a table's own columns and paths through foreign keys
(``account.tier``), each hop a correlated scalar sub-query on an alias of the target table,
so a relation to the same table (``parent.name``) works too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from engine.expr.types import Type


@dataclass(frozen=True, slots=True)
class SqlColumn:
    """A path's value in SQL: an expression (a column, or a scalar sub-query) and its expression type."""

    expression: ColumnElement[Any]
    type: Type


class SqlScope(Protocol):
    """The names an expression compiled to SQL can read (a form's table, a report's dataset)."""

    def column(self, path: Sequence[str]) -> SqlColumn | None:
        """The column of ``path`` (``("tier",)``, ``("account", "tier")``), or None when it names nothing.

        An empty path is the record itself (a bare ``THIS``): its id column, if the scope offers it.
        """


@dataclass(frozen=True, slots=True)
class Link:
    """A relation: this table's foreign-key ``column`` points at ``target``'s ``id``."""

    column: str
    target: TableScope


@dataclass(frozen=True, slots=True)
class TableScope:
    """A table's fields (``types``: field name -> expression type) and its relations (``links``)."""

    table: FromClause
    types: Mapping[str, Type]
    links: Mapping[str, Link] = field(default_factory=dict)

    def column(self, path: Sequence[str]) -> SqlColumn | None:
        if not path:
            return SqlColumn(self.table.c.id, Type("record")) if "id" in self.table.c else None
        head, rest = path[0], tuple(path[1:])
        if not rest:
            if head in self.types:
                return SqlColumn(self.table.c[head], self.types[head])
            link = self.links.get(head)
            return SqlColumn(self.table.c[link.column], Type("record")) if link else None
        link = self.links.get(head)
        if link is None:
            return None
        hop = TableScope(link.target.table.alias(), link.target.types, link.target.links)
        inner = hop.column(rest)
        if inner is None:
            return None
        lookup = sa.select(inner.expression).where(hop.table.c.id == self.table.c[link.column])
        # explicit correlation: the lookup may sit inside a nested query of the SQL compiler
        return SqlColumn(lookup.correlate_except(hop.table).scalar_subquery(), inner.type)
