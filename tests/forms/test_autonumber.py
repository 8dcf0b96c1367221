"""Auto-numbers: pattern rendering, counter periods, and gap-free numbering under concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from engine.definitions import load_bundle
from engine.issues import ConflictError
from engine.storage.database import Database
from forms.autonumber import period_of, render
from forms.catalog import Catalog
from forms.fields.other import AutonumberField
from forms.install import install_bundle
from forms.records import SYSTEM_ACTOR, Actor, RecordsService

pytestmark = pytest.mark.pg

BundleMaker = Callable[..., Path]
DAY = dt.date(2024, 3, 5)
THREADS, PER_THREAD = 8, 25


@pytest.mark.parametrize(
    ("pattern", "today", "counter", "expected"),
    [
        ("{000000}", DAY, 1, "000001"),
        ("KA-{yyyy}-{0000}", DAY, 12, "KA-2024-0012"),
        ("{yy}{MM}{dd}-{00}", DAY, 7, "240305-07"),
        ("INV/{yyyy}/{MM}/{000}", dt.date(1999, 12, 31), 999, "INV/1999/12/999"),
        ("{00}", DAY, 123, "123"),  # wider than its zeros: never cut
        ("{0}", DAY, 5, "5"),
        ("X{abc}-{0}", DAY, 5, "X{abc}-5"),  # not a token: kept as written
        ("{dd}.{MM}.{yy} #{0000}", dt.date(2031, 1, 9), 42, "09.01.31 #0042"),
    ],
)
def test_render(pattern: str, today: dt.date, counter: int, expected: str) -> None:
    assert render(pattern, today, counter) == expected


@pytest.mark.parametrize(
    ("pattern", "period"),
    [
        ("{0000}", ""),
        ("KA-{yyyy}-{0000}", "2024"),
        ("{yyyy}{MM}-{000}", "2024-03"),
        ("{yy}/{MM}/{dd}/{0}", "24-03-05"),
        ("{0000}-{yyyy}", "2024"),
    ],
)
def test_the_counter_restarts_when_the_date_part_changes(pattern: str, period: str) -> None:
    assert period_of(pattern, DAY) == period


@pytest.mark.parametrize("pattern", ["KA-{yyyy}", "{000}-{000}", "", "{0000}" + "x" * 60])
def test_a_pattern_needs_exactly_one_counter(pattern: str) -> None:
    with pytest.raises(PydanticValidationError):
        AutonumberField.model_validate({"key": "no", "type": "autonumber", "label": "No", "pattern": pattern})


def install(database: Database, make_bundle: BundleMaker, forms: dict[str, dict[str, Any]]) -> None:
    bundle, issues = load_bundle(make_bundle(forms))
    assert bundle is not None, issues
    assert install_bundle(database, bundle, apply=True).applied


NUMBERED = {
    "fields": [
        {"key": "no", "type": "autonumber", "label": "No", "pattern": "T-{000}"},
        {"key": "name", "type": "text", "label": "Name", "unique": True},
    ]
}


def numbers(records: RecordsService, form: str) -> list[str]:
    with records.database.read() as connection:
        table = records.catalog.form(form).table
        return sorted(connection.execute(table.select().with_only_columns(table.c.no)).scalars())


def test_concurrent_creates_get_every_number_once(database: Database, make_bundle: BundleMaker) -> None:
    install(database, make_bundle, {"ticket": NUMBERED})
    records = RecordsService(database=database, catalog=Catalog(database))

    def work(thread: int) -> list[str]:
        made = []
        for i in range(PER_THREAD):
            made.append(records.create("ticket", {"name": f"{thread}-{i}"}, actor=Actor(locale="en"))["no"])
            if i == PER_THREAD // 2:  # a create that fails after its number was drawn
                with pytest.raises(ConflictError):
                    records.create("ticket", {"name": f"{thread}-0"}, actor=Actor(locale="en"))
        return made

    with ThreadPoolExecutor(THREADS) as pool:
        made = [number for batch in pool.map(work, range(THREADS)) for number in batch]

    expected = [f"T-{n:03d}" for n in range(1, THREADS * PER_THREAD + 1)]
    assert sorted(made) == expected, "no gaps, no duplicates"
    assert numbers(records, "ticket") == expected


def test_a_failed_create_gives_its_number_back(database: Database, make_bundle: BundleMaker) -> None:
    install(database, make_bundle, {"ticket": NUMBERED})
    records = RecordsService(database=database, catalog=Catalog(database))
    create = records.create

    assert create("ticket", {"name": "a"}, actor=SYSTEM_ACTOR)["no"] == "T-001"
    with pytest.raises(ConflictError):  # unique violation, found by the database after numbering
        create("ticket", {"name": "a"}, actor=SYSTEM_ACTOR)
    with pytest.raises(ConflictError):  # again: each failure gives its number back
        create("ticket", {"name": "a"}, actor=SYSTEM_ACTOR)
    assert create("ticket", {"name": "c"}, actor=SYSTEM_ACTOR)["no"] == "T-002"
    assert create("ticket", {"name": "d", "no": "IMPORTED-7"}, actor=SYSTEM_ACTOR)["no"] == "IMPORTED-7"
    assert create("ticket", {"name": "e"}, actor=SYSTEM_ACTOR)["no"] == "T-003", "a given number draws none"


def test_numbers_restart_per_period_and_per_form(database: Database, make_bundle: BundleMaker) -> None:
    monthly = {"fields": [{"key": "no", "type": "autonumber", "label": "No", "pattern": "M-{yyyy}{MM}-{000}"}]}
    install(database, make_bundle, {"monthly": monthly, "other": monthly})
    today = [dt.datetime(2024, 1, 31, 23, 0)]
    records = RecordsService(database=database, catalog=Catalog(database), clock=lambda: today[0])

    def next_number(form: str = "monthly") -> str:
        return str(records.create(form, {}, actor=SYSTEM_ACTOR)["no"])

    made = [next_number(), next_number()]
    today[0] = dt.datetime(2024, 2, 1, 0, 0)
    made += [next_number(), next_number("other")]
    today[0] = dt.datetime(2024, 1, 15)
    made.append(next_number())

    assert made == ["M-202401-001", "M-202401-002", "M-202402-001", "M-202402-001", "M-202401-003"]
