"""Which expressions the record editor evaluates in the browser (``web.browser_rules``).

An expression is live when the page can know everything it reads; everything else is left to
the server, never guessed. The table states the contract, one expression per line.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.definitions import load_document
from engine.expr import parse
from engine.expr.serialize import to_json
from forms.definition import FormDefinition
from forms.fields import FIELD_TYPES
from web.browser_rules import formula_order, live_plan
from web.editor import WIDGETS


def _form(key: str, fields: list[dict[str, Any]], **extra: Any) -> FormDefinition:
    document = {"kind": "form", "key": key, "label": key, "fields": fields, **extra}
    definition, _, issues = load_document(json.dumps(document))
    assert issues == [] and isinstance(definition, FormDefinition), issues
    return definition


CLIENT = _form(
    "client",
    [
        {"key": "name", "type": "text", "label": "Name"},
        {"key": "discount", "type": "percent", "label": "Discount"},
        {"key": "parent", "type": "relation", "target": "client", "label": "Parent"},
        {"key": "open_orders", "type": "number", "label": "Open", "formula": "COUNT(order)"},
    ],
)
SETTINGS = _form("settings", [{"key": "vat", "type": "percent", "label": "VAT"}], singleton=True)
ORDER_FIELDS: list[dict[str, Any]] = [
    {"key": "qty", "type": "number", "label": "Qty"},
    {"key": "price", "type": "currency", "label": "Price"},
    {"key": "total", "type": "currency", "label": "Total", "formula": "qty * price"},
    {"key": "client", "type": "relation", "target": "client", "label": "Client"},
    {"key": "links", "type": "multi_relation", "target": "client", "label": "Links"},
    {"key": "tags", "type": "multi_select", "label": "Tags", "options": [{"value": "a", "label": "A"}]},
    {"key": "at", "type": "time", "label": "At"},
    {"key": "doc", "type": "attachment", "label": "Doc"},
    {
        "key": "items",
        "type": "subtable",
        "label": "Items",
        "fields": [
            {"key": "sku", "type": "text", "label": "SKU"},
            {"key": "amount", "type": "currency", "label": "Amount"},
        ],
    },
    {"key": "client_open", "type": "number", "label": "Client open", "formula": "client.open_orders"},
    {"key": "later", "type": "number", "label": "Later", "formula": "COUNT(links.name)"},
    {"key": "after_later", "type": "number", "label": "After", "formula": "later + total"},
]
FORMS = {"client": CLIENT, "settings": SETTINGS}


def _classify(expression: str) -> tuple[bool, dict[str, Any]]:
    """Whether a ``visible_if`` written as ``expression`` on ``order`` is live, and what it needs."""
    fields = [*ORDER_FIELDS, {"key": "probe", "type": "text", "label": "Probe", "visible_if": expression}]
    order = _form("order", fields)
    plan = live_plan(order, {**FORMS, "order": order})
    needs = {"relations": plan.needs.relations, "singletons": plan.needs.singletons}
    needs["relations"]["client"] -= {"open_orders"}  # what the formula client_open needs anyway
    if not needs["relations"]["client"]:
        del needs["relations"]["client"]
    return plan.fields["probe"]["visible_if"] is not None, {k: v for k, v in needs.items() if v}


@pytest.mark.parametrize(
    ("expression", "live", "needs"),
    [
        ("qty * price > 10", True, {}),
        ("total > 10", True, {}),  # a live formula of the record
        ("ISBLANK(client)", True, {}),  # the relation's id is an input
        ("client.discount > 0.1", True, {"relations": {"client": {"discount"}}}),  # fetched on change
        ("client.open_orders + client.discount > 1", True, {"relations": {"client": {"discount"}}}),  # stored there
        ("settings.vat > 0", True, {"singletons": {"settings": {"vat"}}}),
        ("SUM(items.amount) > 1", True, {}),
        ('SUMIF(items.amount, sku = "x") > 1', True, {}),  # a row condition names the row's columns
        ("COUNT(items) > 1", True, {}),
        ("COUNT(links) > 1", True, {}),
        ('"a" IN (tags)', True, {}),
        ("client.parent.name = 1", False, {}),  # two hops
        ("COUNT(links.name) > 1", False, {}),  # through a multi-relation
        ("client_open > 1", True, {}),  # a live formula reading a related record
        ("later > 1", False, {}),  # a formula only the server computes
        ("after_later > 1", False, {}),  # ...and what reads it
        ("ISBLANK(at)", False, {}),  # time values are the server's
        ("ISBLANK(doc)", False, {}),
    ],
)
def test_an_expression_is_live_only_when_the_page_knows_what_it_reads(
    expression: str, live: bool, needs: dict[str, Any]
) -> None:
    assert _classify(expression) == (live, needs)


def test_reverse_relations_are_left_to_the_server() -> None:
    order = _form("order", ORDER_FIELDS)
    plan = live_plan(CLIENT, {**FORMS, "order": order})
    assert plan.fields["open_orders"]["formula"] is None


def test_rules_and_defaults_are_classified_too() -> None:
    order = _form(
        "order",
        [*ORDER_FIELDS, {"key": "due", "type": "date", "label": "Due", "default": "=TODAY() + 7"}],
        rules=[
            {"assert": "qty <= 100", "field": "qty", "message": "too many"},
            {"assert": "later < 5", "message": "server only"},
        ],
    )
    plan = live_plan(order, {**FORMS, "order": order})
    assert plan.fields["due"]["default"] == to_json(parse("TODAY() + 7"))  # what the browser evaluates
    assert plan.rules[0] is not None and plan.rules[1] is None


def test_formulas_come_after_the_formulas_they_read() -> None:
    order = _form("order", ORDER_FIELDS)
    ranked = formula_order(order)
    assert sorted(ranked) == ["after_later", "client_open", "later", "total"]
    assert ranked.index("total") < ranked.index("after_later") and ranked.index("later") < ranked.index("after_later")


def test_every_field_type_has_an_input() -> None:
    assert set(WIDGETS) == set(FIELD_TYPES)
