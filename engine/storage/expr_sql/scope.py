"""What a field path means in SQL: a :class:`SqlScope` maps a path to a column expression and its type.

:class:`TableScope` serves a table's own columns and paths through foreign keys
(``account.tier``), each hop a correlated scalar sub-query on an alias of the target table,
so a relation to the same table (``parent.name``) works too. It also serves the rows that
point at a record (``account_team_member`` from an account, through ``reverse``), for the
list side of ``x IN (account_team_member.user)``: see :meth:`TableScope.rows`.
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


@dataclass(frozen=True, slots=True)
class SqlRows:
    """The related rows a list path reads: ``source`` filtered by ``where``, the rest of the path in ``scope``."""

    source: FromClause
    where: ColumnElement[bool]
    scope: SqlScope
    rest: tuple[str, ...]
    key: ColumnElement[Any]  # the related rows' foreign key ...
    owner: ColumnElement[Any]  # ... and what it must equal (``where`` is ``key = owner``)


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
class Reverse:
    """Rows of ``target`` whose foreign-key ``column`` points at this table's ``id``."""

    column: str
    target: TableScope


@dataclass(frozen=True, slots=True)
class TableScope:
    """A table's fields (``types``: field name -> expression type), its relations (``links``) and the
    relations of other tables pointing at it (``reverse``, by reverse name)."""

    table: FromClause
    types: Mapping[str, Type]
    links: Mapping[str, Link] = field(default_factory=dict)
    reverse: Mapping[str, Reverse] = field(default_factory=dict)

    def rows(self, path: Sequence[str]) -> SqlRows | None:
        """The rows behind a list path: ``reverse_name.field`` or ``relation...reverse_name.field``.

        Returns None when ``path`` is not such a path (a plain column, an unknown name).
        """
        for split in range(len(path) - 1):
            owner = self.column(path[:split]) if split else SqlColumn(self.table.c.id, Type("record"))
            if owner is None:
                return None
            scope = self._scope_at(path[:split])
            back = scope.reverse.get(path[split]) if scope is not None else None
            if back is not None:
                child = back.target.table.alias()
                inner = TableScope(child, back.target.types, back.target.links, back.target.reverse)
                key = child.c[back.column]
                rest = tuple(path[split + 1 :])
                return SqlRows(child, key == owner.expression, inner, rest, key, owner.expression)
        return None

    def _scope_at(self, path: Sequence[str]) -> TableScope | None:
        scope: TableScope | None = self
        for name in path:
            link = scope.links.get(name) if scope is not None else None
            if link is None:
                return None
            scope = link.target
        return scope

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
