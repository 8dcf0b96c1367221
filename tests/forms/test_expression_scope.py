"""What formulas on KAM forms can name (FormScope over the shipped KAM starter definitions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions import load_bundle
from engine.expr.types import Type
from forms.definition import FormDefinition
from forms.expressions import FormScope

KAM = Path(__file__).resolve().parents[2] / "templates" / "kam_starter"


@pytest.fixture(scope="module")
def forms() -> dict[str, FormDefinition]:
    bundle, issues = load_bundle(KAM)
    assert bundle is not None, issues
    return {d.key: d for d in bundle.of_kind("form") if isinstance(d, FormDefinition)}


@pytest.mark.parametrize(
    ("form", "path", "expected"),
    [
        ("account", "name", Type("text")),
        ("account", "customer_since", Type("date")),
        ("account", "revenue_12m", Type("number")),
        ("account", "expansion_plans", Type("text", many=True)),
        ("account", "primary_rm", Type("user")),
        ("account", "parent_account", Type("record", target="account")),
        ("account", "parent_account.industry", Type("text")),
        ("account", "parent_account.parent_account.name", Type("text")),
        ("account", "account_financial_monthly.revenue", Type("number", many=True)),
        ("account", "account_financial_monthly.period", Type("date", many=True)),
        ("account", "contact", Type("rows", many=True, target="contact")),
        ("account", "products_held", Type("record", many=True, target="product_catalog")),
        ("contact", "account.tier", Type("text")),
        ("interaction", "participants_client", Type("record", many=True, target="contact")),
    ],
)
def test_paths_resolve_to_their_types(forms: dict[str, FormDefinition], form: str, path: str, expected: Type) -> None:
    resolved = FormScope(forms[form], forms).resolve(path.split("."))
    assert resolved is not None and resolved.type == expected


@pytest.mark.parametrize(
    ("form", "path"),
    [("account", "nmae"), ("account", "name.length"), ("account", "parent_account.nope"), ("contact", "")],
)
def test_unknown_paths_resolve_to_nothing(forms: dict[str, FormDefinition], form: str, path: str) -> None:
    assert FormScope(forms[form], forms).resolve(path.split(".") if path else []) is None


def test_related_rows_have_the_scope_of_their_form(forms: dict[str, FormDefinition]) -> None:
    resolved = FormScope(forms["account"], forms).resolve(["account_financial_monthly", "revenue"])
    assert resolved is not None and resolved.rows is not None
    period = resolved.rows.resolve(["period"])
    assert period is not None and period.type == Type("date")


def test_names_include_reverse_relations_for_hints(forms: dict[str, FormDefinition]) -> None:
    names = FormScope(forms["account"], forms).names()
    assert {"name", "contact", "account_financial_monthly", "interaction"} <= set(names)
