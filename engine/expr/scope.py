"""What an expression can name: the interfaces the form layer implements (the engine knows no forms).

A :class:`Scope` answers, at check time, what a dotted path means; a :class:`Context` gives,
at run time, the values. ``DictScope`` and ``DictContext`` serve tests and pure callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.expr.types import Type


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a path names.

    ``type`` is the value type (``many`` when the path crosses a one-to-many link);
    ``rows`` is the scope of one row when the path names a set of rows (``contact``,
    ``items``) or a column of such rows (``items.amount``), so that conditions such as
    ``SUMIF(items.amount, qty > 1)`` can name the row's own fields.
    """

    type: Type
    rows: Scope | None = None


class Scope(Protocol):
    """Names visible to an expression (the fields of a form, or of a sub-table row)."""

    def resolve(self, path: Sequence[str]) -> Resolved | None:
        """What ``path`` names, or None when it names nothing."""

    def names(self) -> list[str]:
        """The top-level names (for did-you-mean hints)."""


class Context(Protocol):
    """Values at run time, for one record (or one row)."""

    def value(self, path: Sequence[str]) -> Any:
        """The value of ``path`` (a list when it crosses a one-to-many link).

        An empty path is the record itself (a bare ``THIS``): its id.
        """

    def rows(self, path: Sequence[str]) -> list[Context]:
        """The contexts of the rows ``path`` leads to (for SUMIF-style conditions).

        The rows are in the order of the list ``value(path)`` gives, one context per item; none
        when ``path`` leads to one value, not rows (the empty path, the record itself, included).
        """

    @property
    def current_user(self) -> Any:
        """The acting user's id (``CURRENT_USER()``)."""

    @property
    def today(self) -> dt.date:
        """Today's date in the instance's time zone (``TODAY()``)."""

    @property
    def now(self) -> dt.datetime:
        """The current date-time (``NOW()``)."""


@dataclass
class DictScope:
    """A scope from ``{"name": Type}``; a nested ``DictScope`` value is a set of rows.

    A nested ``DictScope`` with ``many=False`` is one related record (``account.tier``).
    """

    fields: Mapping[str, Type | DictScope]
    many: bool = True

    def resolve(self, path: Sequence[str]) -> Resolved | None:
        head = self.fields.get(path[0]) if path else None
        if head is None:
            return None
        if isinstance(head, DictScope):
            return head.resolve_inside(path[1:])
        return Resolved(head) if len(path) == 1 else None

    def resolve_inside(self, path: Sequence[str]) -> Resolved | None:
        """What ``path`` names when it starts at this scope's rows (or its one record)."""
        if not path:
            return Resolved(Type("rows", many=True), rows=self) if self.many else Resolved(Type("record"))
        inner = self.resolve(path)
        if inner is None or not self.many:
            return inner
        return Resolved(inner.type.as_many(), rows=inner.rows or self)

    def names(self) -> list[str]:
        return list(self.fields)


@dataclass
class DictContext:
    """A context over a plain dict; a list of dicts under a key is a set of rows."""

    data: Mapping[str, Any]
    user: Any = None
    clock: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 15, 9, 30))

    def value(self, path: Sequence[str]) -> Any:
        if not path:
            return self.data.get("id")
        head = self.data.get(path[0])
        if len(path) == 1:
            return head
        if isinstance(head, list):
            return [row.get(path[1]) if isinstance(row, Mapping) else None for row in head]
        if isinstance(head, Mapping):
            return DictContext(head, self.user, self.clock).value(path[1:])
        return None

    def rows(self, path: Sequence[str]) -> list[Context]:
        head = self.data.get(path[0]) if path else None
        rows = head if isinstance(head, list) else []
        return [DictContext(row if isinstance(row, Mapping) else {}, self.user, self.clock) for row in rows]

    @property
    def current_user(self) -> Any:
        return self.user

    @property
    def today(self) -> dt.date:
        return self.clock.date()

    @property
    def now(self) -> dt.datetime:
        return self.clock
