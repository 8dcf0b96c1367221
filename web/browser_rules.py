"""Which expressions of a form the browser evaluates live, and what it must load to do so.

The record editor sends each expression it can evaluate as its JSON AST
(:func:`engine.expr.serialize.to_json`) to ``web/static/runtime/``, which runs it with the
interpreter of ``web/static/expr/``. An expression is *live* when every name it reads is one
of these:

* a field of the record itself: an input of the page, a stored read-only value, or another
  formula of the record that is live itself (formulas run in dependency order);
* a sub-table's rows or one of their columns (``SUM(items.amount)``, ``SUMIF(items.amount,
  qty > 1)``), and the ids of a multi-relation or multi-user field (``COUNT(products_held)``);
* one hop through a relation to a stored column of the related record (``account.tier``): the
  browser fetches that record from ``GET /api/v1/forms/{target}/records/{id}`` whenever the
  relation input changes, and evaluates what depends on it once the answer is in;
* a column of a singleton (settings) form (``kam_settings.w_history``), sent with the page.

Anything else is left to the server, which computes formulas and checks rules on save: records
that point at this one (``COUNTIF(contacts, ...)``), paths of two hops or through a
multi-relation, and time, attachment and JSON values. Such a formula shows its stored value
and "computed on save"; such a rule is not shown live, and the server's answer is shown at its
field when the record is saved. Nothing is guessed in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.expr import ExprError
from engine.expr.nodes import Ref, walk
from engine.expr.serialize import to_json
from forms.definition import FormDefinition
from forms.expressions import FormScope
from forms.fields import FieldBase
from forms.fields.references import MultiRelationField, MultiUserField, RelationField, SubtableField
from forms.formulas import parsed

# Field types whose values the browser types exactly (time, attachment and JSON values it does not).
TYPED = frozenset(
    {
        "text", "textarea", "rich_text", "email", "phone", "url", "autonumber",
        "number", "currency", "percent", "rating", "boolean", "select", "multi_select",
        "date", "datetime", "user", "department", "relation",
    }
)  # fmt: skip
RULE_OPTIONS = ("visible_if", "required_if", "readonly_if")


@dataclass
class Needs:
    """What the browser loads for the live expressions: related columns, singleton columns."""

    relations: dict[str, set[str]] = field(default_factory=dict)  # relation field -> target fields
    singletons: dict[str, set[str]] = field(default_factory=dict)  # singleton form -> its fields


@dataclass(frozen=True)
class LivePlan:
    """The live expressions of one form, by field and option, and what they need."""

    fields: dict[str, dict[str, Any]]  # field key -> option -> AST JSON, or None when left to the server
    rules: list[Any]  # per form rule: the assert's AST JSON, or None when left to the server
    formula_order: list[str]  # every formula field, in dependency order
    needs: Needs


def _stored_column(target: FieldBase | None) -> bool:
    return target is not None and target.storage == "column" and target.type_name in TYPED


class _Classifier:
    """Decides, name by name, whether the browser can know what an expression reads."""

    def __init__(self, form: FormDefinition, forms: Mapping[str, FormDefinition]) -> None:
        self.form = form
        self.forms = forms
        self.live_formulas: set[str] = set()
        self.needs = Needs()

    def live(self, text: str | None) -> dict[str, Any] | None:
        """The AST JSON of ``text`` when the browser can evaluate it, else None."""
        if text is None:
            return None
        try:
            node = parsed(text)
        except ExprError:
            return None
        needs = Needs()
        refs = [n for n in walk(node) if isinstance(n, Ref) and n.path]
        row_names = self._row_names(refs)
        if not all(self._known(ref.path, row_names, needs) for ref in refs):
            return None
        for key, names in needs.relations.items():
            self.needs.relations.setdefault(key, set()).update(names)
        for key, names in needs.singletons.items():
            self.needs.singletons.setdefault(key, set()).update(names)
        return to_json(node, FormScope(self.form, self.forms))

    def _row_names(self, refs: list[Ref]) -> set[str]:
        """The columns of the sub-tables an expression reads (names its row conditions may use)."""
        names: set[str] = set()
        for ref in refs:
            head = self.form.field(ref.path[0])
            if isinstance(head, SubtableField):
                names |= {c.key for c in head.child_fields if _stored_column(c) and c.formula is None}
        return names

    def _known(self, path: tuple[str, ...], row_names: set[str], needs: Needs) -> bool:
        head, rest = path[0], path[1:]
        own = self.form.field(head)
        if own is None:
            return self._outside(head, rest, row_names, needs)
        if isinstance(own, SubtableField):
            if not rest:
                return True
            column = next((c for c in own.child_fields if c.key == rest[0]), None)
            return len(rest) == 1 and _stored_column(column) and column is not None and column.formula is None
        if isinstance(own, MultiRelationField | MultiUserField):
            return not rest
        if isinstance(own, RelationField) and rest:
            target = self.forms.get(own.target)
            if len(rest) != 1 or target is None or not _stored_column(target.field(rest[0])):
                return False
            needs.relations.setdefault(own.key, set()).add(rest[0])
            return True
        if rest:
            return False
        if own.formula is not None:
            return own.key in self.live_formulas
        return own.type_name in TYPED

    def _outside(self, head: str, rest: tuple[str, ...], row_names: set[str], needs: Needs) -> bool:
        """A name that is no field of the record: a singleton's column, or a sub-table row's column."""
        if not rest:
            return head in row_names
        singleton = self.forms.get(head)
        if singleton is None or not singleton.singleton or len(rest) != 1:
            return False
        if not _stored_column(singleton.field(rest[0])):
            return False
        needs.singletons.setdefault(head, set()).add(rest[0])
        return True


def formula_order(form: FormDefinition) -> list[str]:
    """The form's formula fields, each after the formulas it reads (depth-first)."""
    formulas = {f.key: f.formula for f in form.fields if f.formula is not None}
    order: list[str] = []
    state: dict[str, str] = {}
    for start in formulas:
        pending: list[tuple[str, bool]] = [(start, False)]
        while pending:
            key, expanded = pending.pop()
            if expanded:
                state[key] = "done"
                order.append(key)
                continue
            if state.get(key):
                continue  # done, or on the current path (a cycle, refused when definitions load)
            state[key] = "open"
            pending.append((key, True))
            pending.extend((name, False) for name in sorted(_own_names(formulas[key])) if name in formulas)
    return order


def _own_names(text: str | None) -> set[str]:
    try:
        node = parsed(text or "")
    except ExprError:
        return set()
    return {n.path[0] for n in walk(node) if isinstance(n, Ref) and n.path}


def live_plan(form: FormDefinition, forms: Mapping[str, FormDefinition]) -> LivePlan:
    """Classify every expression of ``form`` (see the module docstring)."""
    classifier = _Classifier(form, forms)
    options: dict[str, dict[str, Any]] = {f.key: {} for f in form.fields}
    order = formula_order(form)
    for key in order:
        ast = classifier.live(form.field_map[key].formula)
        options[key]["formula"] = ast
        if ast is not None:
            classifier.live_formulas.add(key)
    for one in form.fields:
        for option in RULE_OPTIONS:
            if getattr(one, option) is not None:
                options[one.key][option] = classifier.live(getattr(one, option))
        if one.default_expression is not None:
            options[one.key]["default"] = classifier.live(one.default_expression)
    rules = [classifier.live(rule.condition) for rule in form.rules]
    return LivePlan(options, rules, order, classifier.needs)
