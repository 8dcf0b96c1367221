"""What a form's field paths mean in SQL: the :class:`TableScope` of an installed form.

Relations (``account.tier``) and reverse relations (``account_team_member.user`` read from an
account) are built lazily, on first use, so forms that point at each other (or at themselves)
do not recurse. Names follow :class:`forms.expressions.FormScope`, which type-checks the same
expressions. Fields stored outside the main table (sub-tables, multi-relations, multi-selects)
are not columns here: expressions over them are refused by the SQL backend (``not_in_sql``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.expr.types import Type
from engine.storage.expr_sql import Link, TableScope
from engine.storage.expr_sql.scope import Reverse
from forms.catalog import Catalog, FormRuntime
from forms.expressions import MANY_VALUED, FormScope
from forms.fields.references import RelationField


class _Lazy(Mapping[str, Any]):
    """A mapping whose values are built on first access (and kept)."""

    def __init__(self, keys: list[str], build: Any) -> None:
        self._keys = keys
        self._build = build
        self._built: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._built:
            self._built[key] = self._build(key)
        return self._built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class FormTables:
    """Table scopes of the installed forms of one catalog version (cache them per version)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._scopes: dict[str, TableScope] = {}

    def scope(self, form_key: str) -> TableScope:
        """The scope of a form's main table (the table itself, not an alias)."""
        if form_key not in self._scopes:
            self._scopes[form_key] = self._build(self.catalog.form(form_key))
        return self._scopes[form_key]

    def _build(self, runtime: FormRuntime) -> TableScope:
        definition = runtime.definition
        columns = set(runtime.table.c.keys())
        types = {
            f.key: Type(f.expr_type)
            for f in definition.fields
            if f.storage == "column"
            and f.key in columns
            and not isinstance(f, RelationField)
            and f.type_name not in MANY_VALUED
        }
        relations = {
            f.key: f.target
            for f in definition.fields
            if isinstance(f, RelationField) and f.storage == "column" and f.key in columns
        }
        forms = {rt.key: rt.definition for rt in self.catalog.forms()}
        names = FormScope(definition, forms)
        reverses: dict[str, tuple[str, str]] = {}
        for name in names.names():
            if name in definition.field_map:
                continue
            found = names.reverse_link(name)
            if found is not None:
                reverses[name] = (found[0].key, found[1].key)
        links = _Lazy(list(relations), lambda key: Link(key, self.scope(relations[key])))
        reverse = _Lazy(list(reverses), lambda name: Reverse(reverses[name][1], self.scope(reverses[name][0])))
        return TableScope(runtime.table, types, links, reverse)
