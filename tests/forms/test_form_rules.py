"""Form rules on the server: required_if, readonly_if, visible_if and assert rules, all reported at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tessera_testing import Services, install

from engine.issues import ValidationError
from engine.storage.database import Database
from forms.records import SYSTEM_ACTOR, Actor

pytestmark = pytest.mark.pg

EN = Actor(locale="en")
ZH = Actor(locale="zh")
FORM = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {
            "key": "tier",
            "type": "select",
            "label": "Tier",
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
        },
        {"key": "suggested", "type": "text", "label": "Suggested", "formula": 'IF(score >= 50, "a", "b")'},
        {"key": "score", "type": "number", "label": "Score"},
        {"key": "reason", "type": "textarea", "label": "Reason", "required_if": "tier <> suggested"},
        {"key": "note", "type": "text", "label": "Note", "visible_if": "score > 10", "required_if": "TRUE"},
        {"key": "locked_name", "type": "text", "label": "Locked", "readonly_if": 'tier = "a"'},
        {"key": "start", "type": "date", "label": "Start"},
        {"key": "end", "type": "date", "label": "End"},
    ],
    "rules": [
        {
            "assert": "OR(ISBLANK(end), end >= start)",
            "field": "end",
            "message": {"zh": "结束日期不能早于开始日期", "en": "The end cannot be before the start"},
        },
        {"assert": "score <= 100", "message": {"zh": "分数不能超过100", "en": "Score at most 100"}},
    ],
}


@pytest.fixture
def svc(database: Database, make_bundle: Callable[..., Path], services: Services) -> Services:
    assert install(database, make_bundle({"thing": FORM})).applied
    return services


def _problems(svc: Services, payload: dict[str, object], actor: Actor = EN) -> dict[str | None, str]:
    with pytest.raises(ValidationError) as caught:
        svc.records.create("thing", payload, actor=actor)
    return {issue.field: issue.message for issue in caught.value.issues}


def test_a_record_that_keeps_every_rule_is_saved(svc: Services) -> None:
    record = svc.records.create("thing", {"name": "x", "tier": "a", "score": 60, "note": "n"}, actor=EN)
    assert record["suggested"] == "a"


def test_every_broken_rule_is_reported_at_once(svc: Services) -> None:
    payload = {"name": "x", "tier": "a", "score": 120, "start": "2024-05-01", "end": "2024-04-01"}
    assert _problems(svc, payload) == {
        "note": "is required",  # visible (score > 10) and required
        "end": "The end cannot be before the start",
        None: "Score at most 100",  # a rule without a field is about the whole form
    }


def test_required_if_reads_formula_fields_of_the_would_be_record(svc: Services) -> None:
    assert _problems(svc, {"name": "x", "tier": "b", "score": 60, "note": "n"}) == {"reason": "is required"}
    saved = svc.records.create("thing", {"name": "x", "tier": "b", "score": 60, "note": "n", "reason": "r"}, actor=EN)
    assert saved["reason"] == "r"


def test_a_field_that_is_not_visible_is_not_required(svc: Services) -> None:
    saved = svc.records.create("thing", {"name": "x", "tier": "b", "score": 5}, actor=EN)
    assert saved["note"] is None


def test_readonly_if_refuses_a_change_but_not_an_unrelated_edit(svc: Services) -> None:
    record = svc.records.create("thing", {"name": "x", "tier": "a", "score": 60, "note": "n"}, actor=EN)
    with pytest.raises(ValidationError) as caught:
        svc.records.update("thing", record["id"], {"locked_name": "y"}, version=1, actor=EN)
    assert [(i.field, i.code) for i in caught.value.issues] == [("locked_name", "read_only")]
    updated = svc.records.update("thing", record["id"], {"score": 70}, version=1, actor=EN)
    assert updated["version"] == 2


def test_rule_messages_follow_the_language(svc: Services) -> None:
    problems = _problems(
        svc, {"name": "x", "tier": "a", "score": 60, "note": "n", "start": "2024-05-01", "end": "2024-04-01"}, actor=ZH
    )
    assert problems == {"end": "结束日期不能早于开始日期"}


def test_a_rule_that_gives_blank_does_not_block(svc: Services) -> None:
    saved = svc.records.create("thing", {"name": "x", "tier": "b", "note": "n", "reason": "r"}, actor=EN)
    assert saved["id"] > 0


def test_installers_load_data_without_rules(svc: Services) -> None:
    saved = svc.records.create("thing", {"name": "x", "tier": "a", "score": 500}, actor=SYSTEM_ACTOR)
    assert saved["score"] == 500


DEFAULTS = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {"key": "opened", "type": "date", "label": "Opened", "default": "=TODAY()"},
        {"key": "code", "type": "text", "label": "Code", "default": '=UPPER(LEFT(name, 3)) & "-1"'},
        {"key": "level", "type": "number", "label": "Level", "default": 3},
    ]
}


def test_expression_defaults_fill_what_a_new_record_leaves_out(
    database: Database, make_bundle: Callable[..., Path], services: Services
) -> None:
    import datetime as dt

    assert install(database, make_bundle({"case": DEFAULTS})).applied
    services.records.clock = lambda: dt.datetime(2026, 3, 9, 8, 0)
    record = services.records.create("case", {"name": "acme"}, actor=EN)
    assert (record["opened"], record["code"], record["level"]) == ("2026-03-09", "ACM-1", 3)
    given = services.records.create("case", {"name": "beta", "code": "own", "opened": "2020-01-01"}, actor=EN)
    assert (given["opened"], given["code"]) == ("2020-01-01", "own")


ORDER = {
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {
            "key": "items",
            "type": "subtable",
            "label": "Items",
            "fields": [{"key": "amount", "type": "number", "label": "Amount", "required": True}],
        },
    ],
    "rules": [
        {"assert": "SUM(items.amount) >= 10", "field": "items", "message": {"zh": "至少 10", "en": "At least 10"}}
    ],
}


def test_rules_over_sub_table_rows_see_the_rows_being_saved(
    database: Database, make_bundle: Callable[..., Path], services: Services
) -> None:
    assert install(database, make_bundle({"order": ORDER})).applied
    records = services.records
    made = records.create("order", {"name": "a", "items": [{"amount": 20}]}, actor=EN)
    with pytest.raises(ValidationError) as caught:
        records.create("order", {"name": "b", "items": [{"amount": 5}]}, actor=EN)
    assert [(i.field, i.message) for i in caught.value.issues] == [("items", "At least 10")]
    with pytest.raises(ValidationError):
        records.update("order", made["id"], {"items": [{"amount": 1}]}, version=1, actor=EN)
    changed = records.update("order", made["id"], {"items": [{"amount": 4}, {"amount": 7}]}, version=1, actor=EN)
    assert [row["amount"] for row in changed["items"]] == [4, 7]
    renamed = records.update("order", made["id"], {"name": "a2"}, version=2, actor=EN)  # stored rows still count
    assert renamed["name"] == "a2"
