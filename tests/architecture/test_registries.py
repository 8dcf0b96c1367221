"""Every registered extension point is documented (STYLE.md point 5)."""

from __future__ import annotations

import pytest

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import KINDS
from forms.fields import FIELD_TYPES
from forms.messages import CATALOG

EXPECTED_FIELD_TYPES = {
    "text",
    "textarea",
    "rich_text",
    "number",
    "currency",
    "percent",
    "boolean",
    "date",
    "datetime",
    "time",
    "select",
    "multi_select",
    "rating",
    "email",
    "phone",
    "url",
    "autonumber",
    "user",
    "multi_user",
    "department",
    "relation",
    "multi_relation",
    "subtable",
    "attachment",
    "json",
}


def test_every_field_type_of_the_issue_is_registered() -> None:
    assert set(FIELD_TYPES) == EXPECTED_FIELD_TYPES


@pytest.mark.parametrize("name", sorted(FIELD_TYPES))
def test_field_type_is_documented_and_complete(name: str) -> None:
    cls = FIELD_TYPES[name]
    assert cls.__doc__ and len(cls.__doc__.strip()) > 10
    assert cls.operators, f"{name} declares no operators"
    assert cls.aggregates, f"{name} declares no aggregates"
    assert "count" in cls.aggregates


@pytest.mark.parametrize("name", sorted(KINDS))
def test_definition_kind_is_documented(name: str) -> None:
    assert KINDS[name].__doc__


def test_messages_exist_in_both_languages() -> None:
    for code, (zh, en) in CATALOG.items():
        assert zh and en, code
        assert zh != en, code
