"""Which fields the pages show: hidden fields never appear in lists or on record pages."""

from __future__ import annotations

import json

import sqlalchemy as sa

from engine.definitions import load_document
from forms.catalog import FormRuntime
from forms.definition import FormDefinition
from web.pages import _columns

FORM = {
    "kind": "form",
    "key": "f",
    "label": "F",
    "fields": [
        {"key": "name", "type": "text", "label": "Name"},
        {"key": "secret", "type": "text", "label": "Secret", "hidden": True},
        {"key": "amount", "type": "currency", "label": "Amount"},
    ],
}


def _runtime(document: dict[str, object]) -> FormRuntime:
    definition, _, issues = load_document(json.dumps(document))
    assert issues == [] and isinstance(definition, FormDefinition)
    return FormRuntime(definition, 1, "t", sa.Table("t__f", sa.MetaData()))


def test_default_list_columns_leave_out_hidden_fields() -> None:
    assert [f.key for f in _columns(_runtime(FORM))] == ["name", "amount"]


def test_declared_list_columns_leave_out_hidden_fields() -> None:
    document = {**FORM, "list": {"columns": ["secret", "amount"]}}
    assert [f.key for f in _columns(_runtime(document))] == ["amount"]
