"""Expressions on forms at load time: where they are, their static check, and the formula graph.

Every expression (``formula``, ``visible_if``, ``required_if``, ``readonly_if``, a rule's
``assert``) is parsed and type-checked against the form's :class:`FormScope` when the
definitions load; each problem is an issue at the option's JSON pointer with the span inside
the expression. Formula fields form a dependency graph across forms (networkx): a cycle is
an issue naming its path, and the graph orders recomputation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import networkx as nx

from engine.expr import ExprError, parse
from engine.expr.checker import check
from engine.expr.evaluator import compile_expression
from engine.expr.nodes import Node, Ref, walk
from engine.expr.scope import Context
from engine.expr.types import BOOLEAN, Type
from engine.issues import Issue
from forms.definition import FormDefinition
from forms.expressions import FormScope
from forms.fields import FieldBase
from forms.fields.references import SubtableField

FIELD_EXPRESSIONS = ("formula", "visible_if", "required_if", "readonly_if")
FieldNode = tuple[str, str]  # (form key, field key)


@dataclass(frozen=True)
class Site:
    """One expression in a form definition."""

    pointer: str
    text: str
    option: str
    field: FieldBase | None
    scope_fields: tuple[FieldBase, ...] | None = None  # a sub-table's fields, for expressions inside it
    owner: str | None = None  # the sub-table key for such expressions


def expression_sites(form: FormDefinition) -> list[Site]:
    """Every expression of ``form`` with its JSON pointer."""
    sites: list[Site] = []
    for index, field in enumerate(form.fields):
        sites += _field_sites(field, f"/fields/{index}")
        if isinstance(field, SubtableField):
            for child_index, child in enumerate(field.child_fields):
                pointer = f"/fields/{index}/fields/{child_index}"
                sites += [
                    Site(s.pointer, s.text, s.option, s.field, field.child_fields, field.key)
                    for s in _field_sites(child, pointer)
                ]
    sites += [Site(f"/rules/{i}/assert", rule.condition, "assert", None) for i, rule in enumerate(form.rules)]
    return sites


def _field_sites(field: FieldBase, pointer: str) -> list[Site]:
    sites = [
        Site(f"{pointer}/{option}", text, option, field)
        for option in FIELD_EXPRESSIONS
        if (text := getattr(field, option)) is not None
    ]
    if field.default_expression is not None:
        sites.append(Site(f"{pointer}/default", field.default_expression, "default", field))
    return sites


@lru_cache(maxsize=4096)
def parsed(text: str) -> Node:
    """Parse once per distinct expression text (ExprError propagates)."""
    return parse(text)


@lru_cache(maxsize=4096)
def compiled(text: str) -> Callable[[Context], Any]:
    """Parse and compile once per distinct expression text (no static types: see :func:`compiled_for`)."""
    return compile_expression(parsed(text))


_FOR_FORM: dict[tuple[str, int], tuple[FormDefinition, Callable[[Context], Any]]] = {}


def compiled_for(text: str, form: FormDefinition, forms: Mapping[str, FormDefinition]) -> Callable[[Context], Any]:
    """Compile an expression of ``form`` with its static types (a blank date field stays a date)."""
    key = (text, id(form))
    found = _FOR_FORM.get(key)
    if found is not None and found[0] is form:
        return found[1]
    if len(_FOR_FORM) > 4096:
        _FOR_FORM.clear()
    run = compile_expression(parsed(text), scope=FormScope(form, forms))
    _FOR_FORM[key] = (form, run)
    return run


def _scope(form: FormDefinition, forms: Mapping[str, FormDefinition], site: Site) -> FormScope:
    scope = FormScope(form, forms)
    if site.scope_fields is None:
        return scope
    return FormScope(form, forms, fields=site.scope_fields, parent=scope)


def _expected(site: Site) -> Type:
    if site.option in ("formula", "default") and site.field is not None:
        return Type(site.field.expr_type)
    return BOOLEAN


def check_expressions(form: FormDefinition, forms: Mapping[str, FormDefinition]) -> list[Issue]:
    """Parse and type-check every expression of ``form``; one issue per problem."""
    issues: list[Issue] = []
    for site in expression_sites(form):
        try:
            node = parsed(site.text)
        except ExprError as error:
            issues.append(_issue(error, site))
            continue
        _type, errors = check(node, _scope(form, forms, site), expect=_expected(site))
        issues += [_issue(error, site) for error in errors]
    return issues


def _issue(error: ExprError, site: Site) -> Issue:
    shift = 1 if site.option == "default" else 0  # past the "=" that marks a default expression
    span = (error.start + shift, error.end + shift)
    return Issue(f"expr_{error.code}", error.message, pointer=site.pointer, hint=error.hint, span=span)


def references(node: Node) -> list[Ref]:
    """The field references of an expression."""
    return [n for n in walk(node) if isinstance(n, Ref) and n.path]


def formula_graph(forms: Mapping[str, FormDefinition]) -> nx.DiGraph:
    """Edges ``(form, field) -> (form, formula field)``: what each formula reads."""
    graph: nx.DiGraph = nx.DiGraph()
    for form in forms.values():
        for site in expression_sites(form):
            if site.option != "formula" or site.field is None:
                continue
            try:
                node = parsed(site.text)
            except ExprError:
                continue
            target = (form.key, site.field.key if site.owner is None else f"{site.owner}.{site.field.key}")
            graph.add_node(target)
            for source in dependencies(node, _scope(form, forms, site)):
                graph.add_edge(source, target)
    return graph


def dependencies(node: Node, scope: FormScope) -> list[FieldNode]:
    """The (form, field) pairs an expression reads.

    A name that is not one of the record's own (``status`` in ``COUNTIF(contacts, status =
    "active")``) is a per-row condition: it is traced in the scope of the rows the
    expression aggregates.
    """
    refs = references(node)
    row_scopes = [
        resolved.rows for ref in refs if (resolved := scope.resolve(ref.path)) is not None and resolved.rows is not None
    ]
    found: list[FieldNode] = []
    for ref in refs:
        trace = scope.trace(ref.path)
        if not trace:
            trace = next((t for rows in row_scopes if isinstance(rows, FormScope) and (t := rows.trace(ref.path))), [])
        found += [step for step in trace if step not in found]
    return found


def cycle_issues(form: FormDefinition, forms: Mapping[str, FormDefinition]) -> list[Issue]:
    """A reference cycle through a formula of ``form``, named by its path (one issue per cycle)."""
    graph = formula_graph(forms)
    issues: list[Issue] = []
    pointers = {
        site.field.key: site.pointer
        for site in expression_sites(form)
        if site.option == "formula" and site.field is not None and site.owner is None
    }
    for found in nx.simple_cycles(graph):
        cycle = list(reversed(found))  # edges run from what is read to the formula: show "a reads b"
        mine = [node for node in cycle if node[0] == form.key and node[1] in pointers]
        if not mine:
            continue
        first = min(mine)
        start = cycle.index(first)
        ordered = cycle[start:] + cycle[:start] + [first]
        path = " -> ".join(f"{f}.{k}" for f, k in ordered)
        issues.append(
            Issue(
                "formula_cycle",
                f"formulas depend on each other in a circle: {path}",
                pointer=pointers[first[1]],
                hint="break the circle: one of these must not be a formula",
            )
        )
    return issues
