"""Safe migrations: install v1, store records, install a changed v2, and check data and plan.

Nothing is ever dropped: removed fields are retired (and restored when they come back), type
changes keep the old values in ``<column>__v<N>``, and a plan that would lose data or break a
new unique constraint is blocked as a whole.

The tests share one database per backend (creating a PostgreSQL database per test is slow);
each test installs a form of its own key.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.definitions import load_bundle
from engine.issues import ConflictError, ValidationError
from engine.storage import system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.install import InstallResult, install_bundle
from forms.records import SYSTEM_ACTOR, Actor, RecordsService

pytestmark = pytest.mark.pg

BundleMaker = Callable[..., Path]
PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NAME = {"key": "name", "type": "text", "label": "Name"}
OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
_KEYS = itertools.count(1)


@dataclass
class Form:
    """One form of the test: installs its versions, creates and reads its records and columns."""

    database: Database
    make_bundle: BundleMaker
    key: str

    @property
    def table(self) -> str:
        return f"t__{self.key}"

    def install(self, *fields: dict[str, Any], apply: bool = True, **extra: Any) -> InstallResult:
        """Install a version of the form made of ``fields``."""
        document = {"fields": [{"label": f["key"], **f} for f in fields], **extra}
        bundle, issues = load_bundle(self.make_bundle({self.key: document}))
        assert bundle is not None, [i.render() for i in issues]
        return install_bundle(self.database, bundle, apply=apply)

    @property
    def records(self) -> RecordsService:
        """A records service with a fresh catalog (it serves the newest installed version)."""
        return RecordsService(database=self.database, catalog=Catalog(self.database))

    def create(self, *rows: dict[str, Any]) -> list[int]:
        service = self.records
        return [service.create(self.key, row, actor=SYSTEM_ACTOR)["id"] for row in rows]

    def get(self, record_id: int) -> dict[str, Any]:
        return self.records.get(self.key, record_id, actor=SYSTEM_ACTOR)

    def raw(self, *columns: str) -> list[tuple[Any, ...]]:
        """The stored values of ``columns`` of every row, by id (hidden columns included)."""
        table = sa.table(self.table, sa.column("id"), *(sa.column(c) for c in columns))
        with self.database.read() as connection:
            query = sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)
            return [tuple(row) for row in connection.execute(query)]

    def columns(self) -> set[str]:
        return {c["name"] for c in sa.inspect(self.database.engine).get_columns(self.table)}

    def column_states(self) -> dict[str, str]:
        fc = system.form_columns
        with self.database.read() as connection:
            rows = connection.execute(sa.select(fc.c.column_name, fc.c.state).where(fc.c.table_name == self.table))
            return {name: state for name, state in rows}

    def versions(self) -> tuple[int, int]:
        """(installed version, number of stored definition versions)."""
        d = system.definitions
        with self.database.read() as connection:
            version = connection.execute(sa.select(system.forms.c.version).where(system.forms.c.key == self.key))
            count = connection.execute(sa.select(sa.func.count()).where(d.c.key == self.key, d.c.kind == "form"))
            return version.scalar_one(), count.scalar_one()


@pytest.fixture
def form(shared_database: Database, make_bundle: BundleMaker) -> Form:
    return Form(shared_database, make_bundle, f"acc{next(_KEYS)}")


def test_adding_a_field_adds_a_nullable_column(form: Form) -> None:
    form.install(NAME)
    old = form.create({"name": "a"}, {"name": "b"})

    result = form.install(NAME, {"key": "due", "type": "date"}, {"key": "score", "type": "number", "unique": True})

    t = form.table
    assert result.describe() == [
        f"form {form.key}: v1 -> v2",
        f"  add_column      {t}: due date",
        f"  add_column      {t}: score bigint",
        f"  add_index       {t}: unique (score)",
    ]
    assert {"due", "score"} <= form.columns()
    assert [(r["due"], r["score"], r["form_version"]) for r in map(form.get, old)] == [(None, None, 1)] * 2
    new = form.records.create(form.key, {"name": "c", "due": "2024-03-01", "score": 5}, actor=SYSTEM_ACTOR)
    assert (new["due"], new["score"], new["form_version"]) == ("2024-03-01", 5, 2)
    assert form.versions() == (2, 2)


def test_removing_a_field_retires_it_and_adding_it_back_restores_the_data(form: Form) -> None:
    code = {"key": "code", "type": "text"}
    form.install(NAME, code)
    (first,) = form.create({"name": "a", "code": "X-1"})

    removed = form.install(NAME)

    assert removed.describe()[1:] == [f"  retire_column   {form.table}: code (hidden; data kept, restorable)"]
    assert "code" in form.columns()
    assert form.raw("code") == [("X-1",)]
    assert form.column_states()["code"] == "retired"
    assert "code" not in form.get(first)
    (second,) = form.create({"name": "b"})
    with pytest.raises(ValidationError) as caught:
        form.records.create(form.key, {"name": "c", "code": "X-2"}, actor=Actor(locale="en"))
    assert [(i.field, i.code) for i in caught.value.issues] == [("code", "extra_forbidden")]

    restored = form.install(NAME, code)

    assert restored.describe() == [
        f"form {form.key}: v2 -> v3",
        f"  restore_column  {form.table}: code (data from before it was removed)",
    ]
    assert [form.get(i)["code"] for i in (first, second)] == ["X-1", None]
    assert form.column_states()["code"] == "active"
    assert form.versions() == (3, 3)


def test_renamed_from_renames_the_column_with_its_data(form: Form) -> None:
    form.install(NAME, {"key": "old_code", "type": "text", "unique": True})
    ids = form.create({"name": "a", "old_code": "A"}, {"name": "b", "old_code": "B"})

    result = form.install(NAME, {"key": "code", "type": "text", "unique": True, "renamed_from": "old_code"})

    t = form.table
    assert result.describe()[1:] == [
        f"  rename_column   {t}: old_code -> code",
        f"  add_index       {t}: unique (code)",
        f"  drop_index      {t}: uq_{t}_old_code (no longer unique)",
    ]
    assert "old_code" not in form.columns()
    assert [form.get(i)["code"] for i in ids] == ["A", "B"]
    with pytest.raises(ConflictError) as caught:
        form.records.create(form.key, {"name": "c", "code": "A"}, actor=SYSTEM_ACTOR)
    assert [(i.field, i.code) for i in caught.value.issues] == [("code", "unique")]
    assert form.install(
        NAME, {"key": "code", "type": "text", "unique": True, "renamed_from": "old_code"}
    ).describe() == ["nothing to change"]


# (old field, new field, values submitted under v1, values read under v2, the plan's detail)
TYPE_CHANGES: list[tuple[dict[str, Any], dict[str, Any], list[Any], list[Any], list[str]]] = [
    (
        {"type": "text"},
        {"type": "number"},
        ["12", "7", None, "-3"],
        [12, 7, None, -3],
        ["change_type     {t}: code string(255) -> bigint (old values kept in code__v1)"],
    ),
    (
        {"type": "number"},
        {"type": "text"},
        [12, None],
        ["12", None],
        ["change_type     {t}: code bigint -> string(255) (old values kept in code__v1)"],
    ),
    (
        {"type": "text"},
        {"type": "date"},
        ["2024-01-05"],
        ["2024-01-05"],
        ["change_type     {t}: code string(255) -> date (old values kept in code__v1)"],
    ),
    (
        {"type": "number"},
        {"type": "currency"},
        [3, 0],
        [3.0, 0.0],
        ["change_type     {t}: code bigint -> decimal(22,2) (old values kept in code__v1)"],
    ),
    (
        {"type": "currency"},
        {"type": "number"},
        ["3.00", "-1"],
        [3, -1],
        ["change_type     {t}: code decimal(22,2) -> bigint (old values kept in code__v1)"],
    ),
    (
        {"type": "text"},
        {"type": "select", "options": OPTIONS},
        ["a", "b"],
        ["a", "b"],
        [
            "change_type     {t}: code string(255) -> string(21) (old values kept in code__v1)",
            "add_index       {t}: (code)",
        ],
    ),
    (
        {"type": "text"},
        {"type": "boolean"},
        ["true", "no"],
        [True, False],
        ["change_type     {t}: code string(255) -> boolean (old values kept in code__v1)"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "submitted", "converted", "lines"),
    TYPE_CHANGES,
    ids=[f"{c[0]['type']}->{c[1]['type']}" for c in TYPE_CHANGES],
)
def test_a_type_change_converts_every_value_and_keeps_the_old_column(
    form: Form,
    old: dict[str, Any],
    new: dict[str, Any],
    submitted: list[Any],
    converted: list[Any],
    lines: list[str],
) -> None:
    form.install(NAME, {"key": "code", **old})
    ids = form.create(*({"name": f"n{i}", "code": value} for i, value in enumerate(submitted)))
    before = form.raw("code")

    result = form.install(NAME, {"key": "code", **new})

    assert result.applied
    assert result.describe()[1:] == ["  " + line.format(t=form.table) for line in lines]
    assert [form.get(i)["code"] for i in ids] == converted
    assert form.raw("code__v1") == before, "the old values are kept as they were"
    states = form.column_states()
    assert (states["code"], states["code__v1"]) == ("active", "retired")
    assert "code__v1" not in form.get(ids[0])


def test_a_type_change_that_would_lose_data_blocks_the_whole_plan(form: Form) -> None:
    form.install(NAME, {"key": "code", "type": "text"}, {"key": "gone", "type": "text"})
    ids = form.create(
        {"name": "a", "code": "12"}, {"name": "b", "code": "abc"}, {"name": "c", "code": "x1"}, {"name": "d"}
    )
    columns_before = form.columns()

    result = form.install(NAME, {"key": "code", "type": "number"}, {"key": "due", "type": "date"})

    assert not result.applied
    (issue,) = result.issues
    assert (issue.code, issue.field) == ("type_change_loses_data", "code")
    expected = f"2 row(s) would not convert from string(255) to bigint (id {ids[1]}: 'abc', id {ids[2]}: 'x1')"
    assert expected in issue.message
    assert issue.hint
    assert result.describe()[-1] == f"  BLOCKED {issue.message}"
    assert f"  add_column      {form.table}: due date" in result.describe()
    # Nothing changed: same version, same columns, same data, same definition served.
    assert form.versions() == (1, 1)
    assert form.columns() == columns_before
    assert form.raw("code", "gone") == [("12", None), ("abc", None), ("x1", None), (None, None)]
    assert form.get(ids[1])["code"] == "abc"
    assert form.column_states() == {"name": "active", "code": "active", "gone": "active"}


def test_a_sub_table_type_change_is_blocked_as_unsupported(form: Form) -> None:
    def items(kind: str) -> dict[str, Any]:
        return {"key": "items", "type": "subtable", "fields": [{"key": "q", "type": kind, "label": "q"}]}

    form.install(NAME, items("number"))

    result = form.install(NAME, items("text"))

    assert [(i.code, i.field) for i in result.issues] == [("type_change_unsupported", "q")]
    assert f"{form.table}__items.q: no conversion from bigint to string(255)" in result.issues[0].message
    assert not result.applied
    assert form.versions() == (1, 1)


def test_making_a_field_unique_is_blocked_while_duplicates_exist(form: Form) -> None:
    form.install(NAME)
    first, second, _ = form.create({"name": "dup"}, {"name": "dup"}, {"name": None})

    blocked = form.install({**NAME, "unique": True})

    assert not blocked.applied
    assert [(i.code, i.field) for i in blocked.issues] == [("unique_violation_in_data", "name")]
    assert f"{form.table}(name): 1 value(s) occur more than once" in blocked.issues[0].message
    assert form.versions() == (1, 1)
    (third,) = form.create({"name": "dup"})  # still not unique
    service = form.records
    service.update(form.key, second, {"name": "other"}, version=1, actor=SYSTEM_ACTOR)
    service.delete(form.key, first, version=None, actor=SYSTEM_ACTOR)
    service.delete(form.key, third, version=None, actor=SYSTEM_ACTOR)

    applied = form.install({**NAME, "unique": True})

    assert applied.applied
    assert applied.describe()[1:] == [f"  add_index       {form.table}: unique (name)"]
    with pytest.raises(ConflictError) as caught:
        form.records.create(form.key, {"name": "other"}, actor=Actor(locale="en"))
    assert caught.value.status == 409
    assert [(i.field, i.message) for i in caught.value.issues] == [("name", "value already exists: other")]


def test_a_field_that_is_no_longer_unique_accepts_duplicates(form: Form) -> None:
    form.install(NAME, {"key": "code", "type": "text", "unique": True})
    form.create({"name": "a", "code": "X"})

    result = form.install(NAME, {"key": "code", "type": "text"})

    assert result.describe()[1:] == [f"  drop_index      {form.table}: uq_{form.table}_code (no longer unique)"]
    form.create({"name": "b", "code": "X"})
    assert form.raw("code") == [("X",), ("X",)]


def test_a_unique_field_stays_unique_after_a_type_change(form: Form) -> None:
    form.install(NAME, {"key": "code", "type": "text", "unique": True})
    form.create({"name": "a", "code": "1"})

    result = form.install(NAME, {"key": "code", "type": "number", "unique": True})

    assert result.describe()[1:] == [
        f"  change_type     {form.table}: code string(255) -> bigint (old values kept in code__v1)",
        f"  add_index       {form.table}: unique (code)",
    ]
    form.create({"name": "b", "code": 2})
    with pytest.raises(ConflictError) as caught:
        form.create({"name": "c", "code": 1})
    assert [(i.field, i.code) for i in caught.value.issues] == [("code", "unique")]


def test_a_retired_field_added_back_with_another_type_sets_the_old_column_aside(form: Form) -> None:
    form.install(NAME, {"key": "code", "type": "text", "unique": True})
    (first,) = form.create({"name": "a", "code": "x"})
    form.install(NAME)

    result = form.install(NAME, {"key": "code", "type": "number", "unique": True})

    t = form.table
    assert result.describe() == [
        f"form {form.key}: v2 -> v3",
        f"  keep_column     {t}: retired code (string(255)) kept as code__v3",
        f"  add_column      {t}: code bigint",
        f"  add_index       {t}: unique (code)",
    ]
    assert form.raw("code__v3", "code") == [("x", None)]
    assert form.get(first)["code"] is None
    form.create({"name": "b", "code": 1})
    with pytest.raises(ConflictError):
        form.create({"name": "c", "code": 1})


def test_planning_only_changes_nothing(form: Form) -> None:
    form.install(NAME, {"key": "code", "type": "text"}, {"key": "old", "type": "text"}, {"key": "gone", "type": "text"})
    (record,) = form.create({"name": "a", "code": "5", "old": "o", "gone": "g"})
    columns_before = form.columns()
    v2 = (
        NAME,
        {"key": "code", "type": "number"},
        {"key": "new", "type": "text", "renamed_from": "old"},
        {"key": "due", "type": "date"},
    )

    planned = form.install(*v2, apply=False)

    t = form.table
    expected = [
        f"form {form.key}: v1 -> v2",
        f"  change_type     {t}: code string(255) -> bigint (old values kept in code__v1)",
        f"  rename_column   {t}: old -> new",
        f"  add_column      {t}: due date",
        f"  retire_column   {t}: gone (hidden; data kept, restorable)",
    ]
    assert (planned.applied, planned.issues, planned.describe()) == (False, [], expected)
    assert form.columns() == columns_before
    assert form.versions() == (1, 1)
    assert form.raw("code", "old", "gone") == [("5", "o", "g")]

    applied = form.install(*v2)

    assert applied.applied and applied.describe() == expected
    stored = form.get(record)
    assert {k: stored[k] for k in ("name", "code", "new", "due")} == {"name": "a", "code": 5, "new": "o", "due": None}
    assert "gone" not in stored
