"""The exported JSON Schema: valid Draft 2020-12, JSON names, and it agrees with the loader."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from definition_samples import GOLDEN, good_documents, load_json, mutated_good_documents
from hypothesis import event, given, settings
from jsonschema import Draft202012Validator

import forms.definition  # noqa: F401 - registers the "form" kind
from engine.definitions import KINDS, load_document
from engine.definitions.schema import JSON_SCHEMA_DIALECT, export_schema
from engine.issues import EngineError


@cache
def validator(kind: str | None) -> Draft202012Validator:
    """A validator for the exported schema of ``kind`` (None: any kind)."""
    return Draft202012Validator(export_schema(kind))


@pytest.mark.parametrize("kind", [*sorted(KINDS), None])
def test_schema_is_draft_2020_12_with_title(kind: str | None) -> None:
    schema = export_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == JSON_SCHEMA_DIALECT
    assert schema["title"].startswith("Tessera ")
    assert list(schema)[:2] == ["$schema", "title"]
    json.dumps(schema)  # plain JSON, ready to publish


@pytest.mark.parametrize(
    ("kind", "present", "absent"),
    [
        ("form", {"$schema", "kind", "key", "label", "fields", "list", "layout"}, {"schema_ref", "list_view"}),
        ("app", {"$schema", "kind", "key", "label", "navigation", "calendar"}, {"schema_ref"}),
    ],
)
def test_schema_uses_the_json_names(kind: str, present: set[str], absent: set[str]) -> None:
    properties = set(export_schema(kind)["properties"])
    assert present <= properties
    assert not absent & properties


def test_schema_of_every_kind_is_discriminated_on_kind() -> None:
    schema = export_schema()
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == set(KINDS)
    assert len(schema["oneOf"]) == len(KINDS)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("from", "did you mean 'form'?"), ("ap", "did you mean 'app'?"), ("zzz", "one of: app, form, role")],
)
def test_unknown_kind_is_an_engine_error_with_a_hint(name: str, hint: str) -> None:
    with pytest.raises(EngineError) as raised:
        export_schema(name)
    error = raised.value
    assert (error.status, error.code) == (404, "unknown_kind")
    assert hint in error.message
    assert [issue.hint for issue in error.issues] == [hint]


@pytest.mark.parametrize("path", good_documents(), ids=lambda path: path.stem)
def test_good_documents_validate_against_the_schema(path: Path) -> None:
    document = load_json(path)
    for kind in (document["kind"], None):
        errors = [error.message for error in validator(kind).iter_errors(document)]
        assert errors == []


GOOD_FORM = {
    "kind": "form",
    "key": "ticket",
    "label": "Ticket",
    "fields": [{"key": "subject", "type": "text", "label": "Subject"}],
}


def _form(**changes: Any) -> dict[str, Any]:
    return {**GOOD_FORM, **changes}


def _field(**changes: Any) -> dict[str, Any]:
    return _form(fields=[{"key": "subject", "type": "text", "label": "Subject", **changes}])


@pytest.mark.parametrize(
    "document",
    [
        _form(kind="from"),
        _form(colour="red"),
        _form(key="Ticket No"),
        _form(label=42),
        _form(label={"zh": "工单", "fr": "Billet"}),
        _form(fields=[]),
        _form(list={"colums": ["subject"]}),
        _field(type="curency"),
        _field(max_lenght=10),
        _field(required="yes"),
        _field(max_length="80"),
        _form(schema_version=True),
        _form(schema_version=2),
        {key: value for key, value in GOOD_FORM.items() if key != "label"},
        {"kind": "app", "key": "crm", "label": "CRM", "calendar": {"key": "c", "workdays": ["mon"], "hours": ["9"]}},
    ],
    ids=[
        "unknown_kind",
        "unknown_option",
        "bad_key",
        "label_type",
        "label_language",
        "no_fields",
        "list_option",
        "unknown_type",
        "field_option",
        "string_for_boolean",
        "string_for_integer",
        "boolean_schema_version",
        "future_schema_version",
        "missing_label",
        "bad_calendar",
    ],
)
def test_bad_documents_fail_the_schema_and_the_loader(document: dict[str, Any]) -> None:
    assert list(validator(None).iter_errors(document))
    definition, _, issues = load_document(json.dumps(document))
    assert definition is None and issues


@pytest.mark.parametrize(
    "name",
    ["duplicate_field_keys", "reserved_field_key", "select_default", "unknown_field_reference", "nested_subtable"],
)
def test_checks_across_the_document_are_the_loaders_not_the_schemas(name: str) -> None:
    """The schema describes shape only; these golden documents have the right shape."""
    document = load_json(GOLDEN / f"{name}.json")
    assert list(validator(None).iter_errors(document)) == []
    assert load_document(json.dumps(document))[2]


@settings(max_examples=200, deadline=None)
@given(mutated_good_documents())
def test_what_the_loader_accepts_the_schema_accepts(document: dict[str, Any]) -> None:
    definition, _, _ = load_document(json.dumps(document))
    event("loaded" if definition is not None else "rejected")
    if definition is not None:
        assert [error.message for error in validator(document["kind"]).iter_errors(document)] == []
