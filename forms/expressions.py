"""What formulas on a form can name: the form's fields, paths through relations, related rows.

:class:`FormScope` implements :class:`engine.expr.scope.Scope` over form definitions:

* ``tier`` — a field of the record; ``account.tier`` — through a relation (any depth);
* ``items`` / ``items.amount`` — the rows of a sub-table / one column of them (a list);
* ``contact`` / ``account_financial_monthly.revenue`` — the records of another form that
  point at this one (by the other form's key when one relation links them, or by the
  relation's ``related_name``), as rows / a list;
* ``kam_settings.w_history`` — a field of a singleton form (one settings record);
* inside a sub-table row, the parent record's fields are visible too (a row's own fields win).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.expr.scope import Resolved
from engine.expr.types import ANY, Type, record
from forms.definition import FormDefinition
from forms.fields import FieldBase
from forms.fields.references import MultiRelationField, RelationField, SubtableField

MANY_VALUED = frozenset({"multi_select", "multi_user"})


class FormScope:
    """The names a formula of ``form`` (or of one of its sub-table rows) can use."""

    def __init__(
        self,
        form: FormDefinition,
        forms: Mapping[str, FormDefinition],
        *,
        fields: Sequence[FieldBase] | None = None,
        parent: FormScope | None = None,
    ) -> None:
        self.form = form
        self.forms = forms
        self.fields = {f.key: f for f in (form.fields if fields is None else fields)}
        self.parent = parent

    def resolve(self, path: Sequence[str]) -> Resolved | None:
        """What ``path`` names (see the module docstring), or None."""
        if not path:
            return None
        name, rest = path[0], path[1:]
        field = self.fields.get(name)
        if field is not None:
            return self._field(field, rest)
        if self.parent is not None:
            return self.parent.resolve(path)
        reverse = self._reverse(name)
        if reverse is not None:
            rows = FormScope(reverse, self.forms)
            if not rest:
                return Resolved(Type("rows", many=True, target=reverse.key), rows=rows)
            inner = rows.resolve(rest)
            return None if inner is None else Resolved(inner.type.as_many(), rows=rows)
        singleton = self.forms.get(name)
        if singleton is not None and singleton.singleton and rest:
            return FormScope(singleton, self.forms).resolve(rest)
        return None

    def trace(self, path: Sequence[str]) -> list[tuple[str, str]]:
        """The (form, field) pairs ``path`` reads, in order: what a formula using it depends on.

        ``account.tier`` read from a contact gives ``[("contact", "account"), ("account", "tier")]``;
        ``account_financial_monthly.revenue`` read from an account gives the link field
        (``account_financial_monthly.account``) and ``account_financial_monthly.revenue``.
        """
        if not path:
            return []
        name, rest = path[0], path[1:]
        field = self.fields.get(name)
        if field is not None:
            here = [(self.form.key, field.key)]
            if isinstance(field, SubtableField):
                inner = FormScope(self.form, self.forms, fields=field.child_fields, parent=self)
                return here + inner.trace(rest)
            if isinstance(field, RelationField | MultiRelationField) and rest and field.target in self.forms:
                return here + FormScope(self.forms[field.target], self.forms).trace(rest)
            return here
        if self.parent is not None:
            return self.parent.trace(path)
        reverse = self._reverse(name)
        if reverse is not None:
            links = [
                (reverse.key, f.key)
                for f in reverse.fields
                if isinstance(f, RelationField)
                and f.target == self.form.key
                and name in self._reverse_names(reverse, f)
            ]
            return links + FormScope(reverse, self.forms).trace(rest)
        singleton = self.forms.get(name)
        if singleton is not None and singleton.singleton:
            return FormScope(singleton, self.forms).trace(rest)
        return []

    def reverse_link(self, name: str) -> tuple[FormDefinition, RelationField] | None:
        """The form and relation field behind a reverse name (``contact`` -> contact.account)."""
        for form, field in self._pointing_here():
            if name in self._reverse_names(form, field):
                return form, field
        return None

    def names(self) -> list[str]:
        """Field keys, reverse-relation names and singleton form keys (for did-you-mean)."""
        names = list(self.fields)
        if self.parent is not None:
            names += self.parent.names()
        names += [name for name, form in self.forms.items() if form.singleton]
        for form, field in self._pointing_here():
            names += [n for n in self._reverse_names(form, field) if n not in names]
        return names

    def _field(self, field: FieldBase, rest: Sequence[str]) -> Resolved | None:
        if isinstance(field, SubtableField):
            rows = FormScope(self.form, self.forms, fields=field.child_fields, parent=self)
            if not rest:
                return Resolved(Type("rows", many=True), rows=rows)
            inner = rows.resolve(rest)
            return None if inner is None else Resolved(inner.type.as_many(), rows=rows)
        if isinstance(field, RelationField | MultiRelationField):
            target = self.forms.get(field.target)
            many = isinstance(field, MultiRelationField)
            if not rest:
                linked = FormScope(target, self.forms) if many and target is not None else None
                return Resolved(record(field.target).as_many() if many else record(field.target), rows=linked)
            if target is None:
                return Resolved(ANY)
            inner = FormScope(target, self.forms).resolve(rest)
            if inner is None:
                return None
            return Resolved(inner.type.as_many(), rows=FormScope(target, self.forms)) if many else inner
        if rest:
            return None
        value = Type(field.expr_type)
        return Resolved(value.as_many() if field.type_name in MANY_VALUED else value)

    def _pointing_here(self) -> list[tuple[FormDefinition, RelationField]]:
        return [
            (form, field)
            for form in self.forms.values()
            for field in form.fields
            if isinstance(field, RelationField) and field.target == self.form.key
        ]

    def _reverse_names(self, form: FormDefinition, field: RelationField) -> list[str]:
        """A relation's ``related_name``, and the other form's key when it is the only link from there."""
        names = [field.related_name] if field.related_name else []
        links = [f for f in form.fields if isinstance(f, RelationField) and f.target == self.form.key]
        if len(links) == 1:
            names.append(form.key)
        return names

    def _reverse(self, name: str) -> FormDefinition | None:
        """The form whose records point here under ``name``."""
        candidates = [form for form, field in self._pointing_here() if name in self._reverse_names(form, field)]
        return candidates[0] if len(candidates) == 1 else None
