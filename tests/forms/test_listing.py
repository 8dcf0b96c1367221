"""Listing records: every filter operator, relation paths, sort, keyset pages, counts, expansion.

One seeded database per backend is shared by the module (listing only reads). Expected rows
are written out by name; sort and page expectations come from sorting the seed in Python.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from engine.definitions import load_bundle
from engine.issues import EngineError, ValidationError
from engine.storage import directory
from engine.storage import query as q
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.install import install_bundle
from forms.listing import FilterSpec, ListQuery, Page, RecordLister
from forms.records import SYSTEM_ACTOR, RecordsService

pytestmark = pytest.mark.pg

PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def options(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v.upper()} for v in values]


FORMS: dict[str, dict[str, Any]] = {
    "sector": {
        "fields": [
            {"key": "name", "type": "text", "label": "Name"},
            {"key": "region", "type": "select", "label": "Region", "options": options("n", "s")},
        ]
    },
    "person": {"fields": [{"key": "name", "type": "text", "label": "Name"}]},
    "acc": {
        "title_field": "name",
        "fields": [
            {"key": "name", "type": "text", "label": "Name"},
            {"key": "tier", "type": "select", "label": "Tier", "options": options("a", "b", "c")},
            {"key": "amt", "type": "currency", "label": "Amount"},
            {"key": "score", "type": "number", "label": "Score"},
            {"key": "signed", "type": "date", "label": "Signed"},
            {"key": "active", "type": "boolean", "label": "Active"},
            {"key": "tags", "type": "multi_select", "label": "Tags", "options": options("x", "y", "z")},
            {"key": "sector", "type": "relation", "target": "sector", "label": "Sector", "on_delete": "set_null"},
            {"key": "contacts", "type": "multi_relation", "target": "person", "label": "Contacts"},
            {"key": "owner", "type": "user", "label": "Owner"},
            {"key": "notes", "type": "textarea", "label": "Notes"},
            {"key": "files", "type": "attachment", "label": "Files"},
            {
                "key": "items",
                "type": "subtable",
                "label": "Items",
                "fields": [{"key": "q", "type": "number", "label": "Q"}],
            },
        ],
        "list": {"sort": [{"field": "name"}]},
    },
    "con": {
        "fields": [
            {"key": "name", "type": "text", "label": "Name"},
            {"key": "acc", "type": "relation", "target": "acc", "label": "Account", "on_delete": "cascade"},
        ]
    },
}
SECTORS = {"tech": "n", "food": "s", "farm": "n"}
PEOPLE = ["p1", "p2", "p3"]
# name, tier, amt, score, signed, active, tags, sector, contacts, owner, notes
ACCOUNTS: list[tuple[Any, ...]] = [
    ("Alpha", "a", "100.50", 3, "2024-01-10", True, ["x"], "tech", ["p1", "p2"], 1, ""),
    ("Beta", "b", "20", 3, "2024-02-01", False, ["x", "y"], "food", ["p2"], 2, "hello"),
    ("Gamma", "a", None, 1, "2024-01-10", True, [], None, [], 1, None),
    ("delta", None, "20", None, None, None, None, "tech", [], None, None),
    ("Epsilon", "c", "5.25", 7, "2023-12-31", True, ["z"], "farm", [], None, None),
    ("Zeta", "b", "100.50", 3, "2024-03-15", False, ["y"], "food", [], None, None),
    ("Eta", "a", "0", 0, "2024-02-29", True, ["x", "z"], "tech", ["p3"], None, None),
    ("Theta", None, None, 7, "2024-01-10", False, None, None, [], None, None),
    ("Iota", "c", "999.99", 2, None, True, ["y", "z"], "farm", [], None, None),
    ("Kappa", "b", "20", None, "2024-02-01", None, ["x"], "tech", [], None, None),
    ("Lambda", "a", "-3", 5, "2025-06-30", False, [], "food", [], None, None),
    ("Mu%_", "c", "7", 5, "2024-05-05", True, ["z"], None, [], None, None),
]
COLUMNS = ("name", "tier", "amt", "score", "signed", "active", "tags", "sector", "contacts", "owner", "notes")
ALL = frozenset(a[0] for a in ACCOUNTS)
CONS = {"c1": "Alpha", "c2": "Beta", "c3": "Eta", "c4": None, "c5": "Iota"}
BULK = 60


@dataclass
class Seeded:
    """The seeded database, its lister, and the ids of what was created by name."""

    database: Database
    catalog: Catalog
    lister: RecordLister
    ids: dict[str, int]
    accounts: list[dict[str, Any]]

    def page(self, form: str, query: ListQuery, locale: Any = "en") -> Page:
        runtime = self.catalog.form(form)
        with self.database.read() as connection:
            return self.lister.page(connection, runtime, query, locale)

    def names(self, form: str, *filters: tuple[str, str, Any]) -> set[str]:
        query = ListQuery(filters=tuple(FilterSpec(*f) for f in filters), limit=500)
        return {item["name"] for item in self.page(form, query).items}


@pytest.fixture(scope="module")
def seeded(shared_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    root = tmp_path_factory.mktemp("bundle")
    (root / "forms").mkdir()
    (root / "app.json").write_text(json.dumps({"kind": "app", "key": "t", "schema_version": 1, "label": "T"}))
    for key, document in {**FORMS, "bulk": FORMS["acc"]}.items():
        full = {"kind": "form", "key": key, "schema_version": 1, "label": key, **document}
        (root / "forms" / f"{key}.json").write_text(json.dumps(full), encoding="utf-8")
    bundle, issues = load_bundle(Path(root))
    assert bundle is not None, issues
    assert install_bundle(shared_database, bundle, apply=True).applied
    with shared_database.begin() as connection:
        directory.add_users(connection, [{"login": "u1", "name": "Ann"}, {"login": "u2", "name": "Bob"}])
    catalog = Catalog(shared_database)
    records = RecordsService(database=shared_database, catalog=catalog)
    ids: dict[str, int] = {}

    def create(form: str, values: dict[str, Any]) -> dict[str, Any]:
        record = records.create(form, values, actor=SYSTEM_ACTOR)
        ids[values["name"]] = record["id"]
        return record

    for sector, region in SECTORS.items():
        create("sector", {"name": sector, "region": region})
    for person in PEOPLE:
        create("person", {"name": person})
    accounts = []
    for row in ACCOUNTS:
        values = dict(zip(COLUMNS, row, strict=True))
        values["sector"] = ids.get(values["sector"]) if values["sector"] else None
        values["contacts"] = [ids[p] for p in values["contacts"]]
        values["items"] = [{"q": 1}, {"q": 2}] if values["name"] == "Alpha" else []
        accounts.append(create("acc", {k: v for k, v in values.items() if v is not None or k != "notes"}))
    for con, account in CONS.items():
        create("con", {"name": con, "acc": ids[account] if account else None})
    for i in range(BULK):
        create(
            "bulk",
            {
                "name": f"b{i:02d}",
                "sector": ids["tech"],
                "owner": 1 + i % 2,
                "items": [{"q": i}, {"q": 1}],
                "contacts": [ids["p1"], ids["p3"]],
                "tags": ["x"],
            },
        )
    return Seeded(shared_database, catalog, RecordLister(catalog, shared_database.dialect), ids, accounts)


def but(*names: str) -> set[str]:
    return set(ALL - set(names))


# (path, op, value, expected account names)
ACCOUNT_FILTERS: list[tuple[str, str, Any, set[str]]] = [
    # text
    ("name", "eq", "Alpha", {"Alpha"}),
    ("name", "ne", "Alpha", but("Alpha")),
    ("name", "in", "Alpha,Beta", {"Alpha", "Beta"}),
    ("name", "in", ["Eta", "nope"], {"Eta"}),
    ("name", "contains", "eta", {"Beta", "Zeta", "Eta", "Theta"}),
    ("name", "contains", "ETA", {"Beta", "Zeta", "Eta", "Theta"}),
    ("name", "contains", "%_", {"Mu%_"}),
    ("name", "contains", "_", {"Mu%_"}),
    ("name", "starts_with", "E", {"Epsilon", "Eta"}),
    ("name", "starts_with", "D", {"delta"}),
    ("notes", "is_empty", True, but("Beta")),
    ("notes", "is_empty", "false", {"Beta"}),
    # number
    ("score", "eq", 3, {"Alpha", "Beta", "Zeta"}),
    ("score", "eq", "3", {"Alpha", "Beta", "Zeta"}),
    ("score", "ne", 3, but("Alpha", "Beta", "Zeta")),
    ("score", "lt", 2, {"Gamma", "Eta"}),
    ("score", "lte", 2, {"Gamma", "Eta", "Iota"}),
    ("score", "gt", 5, {"Epsilon", "Theta"}),
    ("score", "gte", 5, {"Epsilon", "Theta", "Lambda", "Mu%_"}),
    ("score", "in", "0,7", {"Eta", "Epsilon", "Theta"}),
    ("score", "between", "2,3", {"Alpha", "Beta", "Zeta", "Iota"}),
    ("score", "between", [2, 3], {"Alpha", "Beta", "Zeta", "Iota"}),
    ("score", "is_empty", True, {"delta", "Kappa"}),
    ("score", "is_empty", False, but("delta", "Kappa")),
    # currency
    ("amt", "eq", "100.5", {"Alpha", "Zeta"}),
    ("amt", "gt", "20", {"Alpha", "Zeta", "Iota"}),
    ("amt", "lte", "5.25", {"Epsilon", "Eta", "Lambda"}),
    ("amt", "lt", 0, {"Lambda"}),
    ("amt", "between", "0,20", {"Beta", "delta", "Epsilon", "Eta", "Kappa", "Mu%_"}),
    ("amt", "in", "20,7", {"Beta", "delta", "Kappa", "Mu%_"}),
    ("amt", "is_empty", "true", {"Gamma", "Theta"}),
    # date
    ("signed", "eq", "2024-01-10", {"Alpha", "Gamma", "Theta"}),
    ("signed", "ne", "2024-01-10", but("Alpha", "Gamma", "Theta")),
    ("signed", "lt", "2024-01-10", {"Epsilon"}),
    ("signed", "gte", "2024-03-01", {"Zeta", "Lambda", "Mu%_"}),
    ("signed", "between", "2024-02-01,2024-02-29", {"Beta", "Eta", "Kappa"}),
    ("signed", "in", "2024-02-01,2025-06-30", {"Beta", "Kappa", "Lambda"}),
    ("signed", "is_empty", True, {"delta", "Iota"}),
    # select
    ("tier", "eq", "a", {"Alpha", "Gamma", "Eta", "Lambda"}),
    ("tier", "ne", "a", but("Alpha", "Gamma", "Eta", "Lambda")),
    ("tier", "in", "b,c", {"Beta", "Zeta", "Kappa", "Epsilon", "Iota", "Mu%_"}),
    ("tier", "is_empty", True, {"delta", "Theta"}),
    # boolean
    ("active", "eq", True, {"Alpha", "Gamma", "Epsilon", "Eta", "Iota", "Mu%_"}),
    ("active", "eq", "false", {"Beta", "Zeta", "Theta", "Lambda"}),
    ("active", "ne", True, {"Beta", "Zeta", "Theta", "Lambda", "delta", "Kappa"}),
    ("active", "is_empty", True, {"delta", "Kappa"}),
    # multi-select (stored as a JSON array); several values match any of them
    ("tags", "contains", "x", {"Alpha", "Beta", "Eta", "Kappa"}),
    ("tags", "contains", "y,z", {"Beta", "Epsilon", "Zeta", "Eta", "Iota", "Mu%_"}),
    ("tags", "contains", ["y"], {"Beta", "Zeta", "Iota"}),
    ("tags", "is_empty", True, {"Gamma", "delta", "Theta", "Lambda"}),
    ("tags", "is_empty", False, but("Gamma", "delta", "Theta", "Lambda")),
    # multi-relation (link table)
    ("contacts", "contains", "@p2", {"Alpha", "Beta"}),
    ("contacts", "contains", "@p1,@p3", {"Alpha", "Eta"}),
    ("contacts", "is_empty", False, {"Alpha", "Beta", "Eta"}),
    ("contacts", "is_empty", True, but("Alpha", "Beta", "Eta")),
    # user and relation
    ("owner", "eq", 1, {"Alpha", "Gamma"}),
    ("owner", "in", "1,2", {"Alpha", "Beta", "Gamma"}),
    ("owner", "is_empty", False, {"Alpha", "Beta", "Gamma"}),
    ("sector", "eq", "@tech", {"Alpha", "delta", "Eta", "Kappa"}),
    ("sector", "is_empty", True, {"Gamma", "Theta", "Mu%_"}),
    # attachments: an empty list is empty
    ("files", "is_empty", False, set()),
    # paths through a relation
    ("sector.name", "eq", "tech", {"Alpha", "delta", "Eta", "Kappa"}),
    ("sector.region", "eq", "n", {"Alpha", "delta", "Eta", "Kappa", "Epsilon", "Iota"}),
    ("sector.name", "starts_with", "F", {"Beta", "Zeta", "Lambda", "Epsilon", "Iota"}),
]


def resolve(seeded: Seeded, value: Any) -> Any:
    """Replace ``@name`` by the id of the record created with that name."""
    if isinstance(value, str) and "@" in value:
        return ",".join(str(seeded.ids[part[1:]]) for part in value.split(","))
    return value


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"), ACCOUNT_FILTERS, ids=[f"{p} {o} {v}" for p, o, v, _ in ACCOUNT_FILTERS]
)
def test_filter_operators(seeded: Seeded, path: str, op: str, value: Any, expected: set[str]) -> None:
    assert seeded.names("acc", (path, op, resolve(seeded, value))) == expected


CON_FILTERS: list[tuple[str, str, Any, set[str]]] = [
    ("acc", "eq", "@Alpha", {"c1"}),
    ("acc", "is_empty", True, {"c4"}),
    ("acc.tier", "eq", "a", {"c1", "c3"}),
    ("acc.name", "starts_with", "b", {"c2"}),
    ("acc.score", "between", "0,2", {"c3", "c5"}),
    ("acc.tags", "contains", "x", {"c1", "c2", "c3"}),
    ("acc.contacts", "contains", "@p2", {"c1", "c2"}),
    ("acc.sector.region", "eq", "n", {"c1", "c3", "c5"}),
    ("acc.sector.name", "in", "food,farm", {"c2", "c5"}),
]


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"), CON_FILTERS, ids=[f"{p} {o} {v}" for p, o, v, _ in CON_FILTERS]
)
def test_filters_follow_relation_paths(seeded: Seeded, path: str, op: str, value: Any, expected: set[str]) -> None:
    assert seeded.names("con", (path, op, resolve(seeded, value))) == expected


def test_filters_combine_with_and(seeded: Seeded) -> None:
    found = seeded.names("acc", ("tier", "eq", "a"), ("score", "gte", 1), ("sector.region", "eq", "n"))
    assert found == {"Alpha"}


def test_search_looks_in_the_title_ignoring_case(seeded: Seeded) -> None:
    page = seeded.page("acc", ListQuery(search="ALP"))
    assert [item["name"] for item in page.items] == ["Alpha"]


def python_order(rows: list[dict[str, Any]], sort: tuple[tuple[str, bool], ...]) -> list[str]:
    """``rows`` sorted like the database must: NULLs last in either direction, ties by id ascending."""

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for key, desc in sort:
            a, b = left[key], right[key]
            if a == b:
                continue
            if a is None or b is None:
                return 1 if a is None else -1
            return (1 if a > b else -1) * (-1 if desc else 1)
        return -1 if left["id"] < right["id"] else 1

    return [r["name"] for r in sorted(rows, key=functools.cmp_to_key(compare))]


SORTS: list[tuple[tuple[str, bool], ...]] = [
    (("score", False),),
    (("score", True),),
    (("amt", True), ("signed", False)),
    (("signed", False),),
    (("signed", True), ("score", True)),
    (("tier", False), ("score", True)),
    (("active", True),),
    (("id", True),),
    (("created_at", False),),
    (("owner", False), ("sector", True)),
]


@pytest.mark.parametrize("sort", SORTS, ids=[",".join(("-" if d else "") + k for k, d in s) for s in SORTS])
def test_sort_puts_nulls_last_and_breaks_ties_by_id(seeded: Seeded, sort: tuple[tuple[str, bool], ...]) -> None:
    page = seeded.page("acc", ListQuery(sort=sort, limit=100))
    assert [item["name"] for item in page.items] == python_order(seeded.accounts, sort)
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [1, 2, 5])
@pytest.mark.parametrize("sort", SORTS, ids=[",".join(("-" if d else "") + k for k, d in s) for s in SORTS])
def test_keyset_pages_walk_every_row_exactly_once(
    seeded: Seeded, sort: tuple[tuple[str, bool], ...], limit: int
) -> None:
    walked: list[str] = []
    cursor: str | None = None
    for _ in range(len(ACCOUNTS) + 1):
        page = seeded.page("acc", ListQuery(sort=sort, limit=limit, cursor=cursor))
        assert len(page.items) <= limit
        walked += [item["name"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == python_order(seeded.accounts, sort)


def test_keyset_pages_apply_filters_on_every_page(seeded: Seeded) -> None:
    filters = (FilterSpec("tier", "ne", "a"),)
    walked, cursor = [], None
    while True:
        page = seeded.page("acc", ListQuery(filters=filters, sort=(("amt", False),), limit=2, cursor=cursor))
        walked += [item["name"] for item in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(walked) == sorted(but("Alpha", "Gamma", "Eta", "Lambda"))
    assert len(walked) == len(set(walked))


def test_default_sort_is_the_forms_list_sort(seeded: Seeded) -> None:
    page = seeded.page("acc", ListQuery(limit=2))
    assert [item["name"] for item in page.items] == ["Alpha", "Beta"]
    newest_first = seeded.page("sector", ListQuery())
    assert [item["name"] for item in newest_first.items] == ["farm", "food", "tech"]


def test_count_is_of_all_matching_rows_not_the_page(seeded: Seeded) -> None:
    page = seeded.page("acc", ListQuery(filters=(FilterSpec("tier", "in", "a,b"),), limit=2, count=True))
    assert (len(page.items), page.count, page.count_capped) == (2, 7, False)
    assert page.to_dict()["count"] == 7
    assert "count" not in seeded.page("acc", ListQuery(limit=1)).to_dict()
    unfiltered = seeded.page("acc", ListQuery(limit=1, count=True))
    assert (unfiltered.count, unfiltered.count_capped) == (len(ACCOUNTS), False)


@pytest.mark.parametrize(("cap", "expected"), [(5, (5, True)), (11, (11, True)), (12, (12, False)), (100, (12, False))])
def test_capped_count(seeded: Seeded, cap: int, expected: tuple[int, bool]) -> None:
    table = seeded.catalog.form("acc").table
    with seeded.database.read() as connection:
        assert q.capped_count(connection, sa.select(table).order_by(table.c.name), cap) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            [("tierr", "eq", "a"), ("score", "contains", "1"), ("score", "gt", "abc")],
            [
                ("filter[0]", "unknown_field", "did you mean 'tier'?"),
                ("filter[1]", "unsupported_operator", "supported: between, eq, gt, gte, in, is_empty, lt, lte, ne"),
                ("filter[2]", "bad_filter_value", None),
            ],
        ),
        (
            [("sector.nmae", "eq", "x"), ("tier.name", "eq", "x"), ("tier", "eq", "zz"), ("name", "eq", "ok")],
            [
                ("filter[0]", "unknown_field", "did you mean 'name'?"),
                ("filter[1]", "unknown_field", None),
                ("filter[2]", "bad_filter_value", None),
            ],
        ),
        (
            [("signed", "between", "2024-01-01"), ("signed", "gt", "soon"), ("score", "is_empty", "maybe")],
            [
                ("filter[0]", "bad_filter_value", None),
                ("filter[1]", "bad_filter_value", None),
                ("filter[2]", "bad_filter_value", None),
            ],
        ),
        (
            [("tags", "eq", "x"), ("contacts", "contains", "p1")],
            [
                ("filter[0]", "unsupported_operator", "supported: contains, is_empty"),
                ("filter[1]", "bad_filter_value", None),
            ],
        ),
        (
            [("tier", "gt", "a"), ("items", "is_empty", True)],
            [
                ("filter[0]", "unsupported_operator", "supported: eq, in, is_empty, ne"),
                ("filter[1]", "unknown_field", None),
            ],
        ),
    ],
)
def test_bad_filters_are_all_reported_in_one_error(
    seeded: Seeded, filters: list[tuple[str, str, Any]], expected: list[tuple[str, str, str | None]]
) -> None:
    with pytest.raises(ValidationError) as caught:
        seeded.names("acc", *filters)
    assert (caught.value.status, caught.value.code, caught.value.message) == (422, "bad_filter", "invalid filter")
    assert [(i.field, i.code, i.hint) for i in caught.value.issues] == expected
    assert all(filters[int(str(i.field)[7:-1])][0].split(".")[0] in i.message for i in caught.value.issues)


def test_bad_filter_summary_in_chinese(seeded: Seeded) -> None:
    with pytest.raises(ValidationError) as caught:
        seeded.page("acc", ListQuery(filters=(FilterSpec("nope", "eq", 1),)), locale="zh")
    assert caught.value.message == "筛选条件有误"


def test_bad_sort_names_the_key(seeded: Seeded) -> None:
    with pytest.raises(ValidationError) as caught:
        seeded.page("acc", ListQuery(sort=(("scor", False), ("tags", False))))
    assert [(i.code, i.hint) for i in caught.value.issues] == [
        ("not_sortable", "did you mean 'score'?"),
        ("not_sortable", None),
    ]


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "", "!!!", q.encode_cursor([1]), q.encode_cursor(["x", 1, 2]), "eyJhIjogMX0"],
)
def test_a_bad_cursor_is_a_422(seeded: Seeded, cursor: str) -> None:
    query = ListQuery(sort=(("score", False),), cursor=cursor or "=")
    with pytest.raises(EngineError) as caught:
        seeded.page("acc", query)
    assert (caught.value.status, caught.value.code) == (422, "bad_cursor")


def test_a_cursor_with_values_of_the_wrong_type_is_a_422(seeded: Seeded) -> None:
    with pytest.raises(EngineError) as caught:
        seeded.page("acc", ListQuery(sort=(("signed", False),), cursor=q.encode_cursor(["not a date", 3])))
    assert (caught.value.status, caught.value.code) == (422, "bad_cursor")


def test_expand_replaces_ids_by_titles(seeded: Seeded) -> None:
    page = seeded.page(
        "acc", ListQuery(filters=(FilterSpec("name", "in", "Alpha,Gamma"),), expand=("sector", "owner", "contacts"))
    )
    by_name = {item["name"]: item for item in page.items}
    alpha, gamma = by_name["Alpha"], by_name["Gamma"]
    assert alpha["sector"] == {"id": seeded.ids["tech"], "title": "tech"}
    assert alpha["owner"] == {"id": 1, "title": "Ann"}
    assert alpha["contacts"] == [{"id": seeded.ids["p1"], "title": "p1"}, {"id": seeded.ids["p2"], "title": "p2"}]
    assert (gamma["sector"], gamma["owner"], gamma["contacts"]) == (None, {"id": 1, "title": "Ann"}, [])
    cons = seeded.page("con", ListQuery(filters=(FilterSpec("name", "in", "c1,c4"),), expand=("acc",)))
    assert {c["name"]: c["acc"] for c in cons.items} == {
        "c1": {"id": seeded.ids["Alpha"], "title": "Alpha"},
        "c4": None,
    }


def test_expand_of_a_plain_field_is_refused(seeded: Seeded) -> None:
    with pytest.raises(ValidationError) as caught:
        seeded.page("acc", ListQuery(expand=("tier",)))
    assert [(i.code, i.field) for i in caught.value.issues] == [("not_expandable", "expand")]


def test_pages_carry_sub_table_rows_and_links(seeded: Seeded) -> None:
    (alpha,) = seeded.page("acc", ListQuery(filters=(FilterSpec("name", "eq", "Alpha"),))).items
    assert [row["q"] for row in alpha["items"]] == [1, 2]
    assert alpha["contacts"] == [seeded.ids["p1"], seeded.ids["p2"]]
    assert alpha["tags"] == ["x"] and alpha["amt"] == 100.5 and alpha["signed"] == "2024-01-10"


@pytest.mark.parametrize("limit", [5, 50])
def test_listing_runs_a_constant_number_of_queries(seeded: Seeded, limit: int) -> None:
    runtime = seeded.catalog.form("bulk")
    query = ListQuery(
        limit=limit,
        count=True,
        expand=("sector", "owner", "contacts"),
        filters=(FilterSpec("sector.name", "eq", "tech"),),
    )
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with seeded.database.read() as connection:
        event.listen(connection, "before_cursor_execute", record)
        page = seeded.lister.page(connection, runtime, query, "en")
        event.remove(connection, "before_cursor_execute", record)

    assert len(page.items) == limit and page.count == BULK
    assert all(len(item["items"]) == 2 and len(item["contacts"]) == 2 for item in page.items)
    # rows, 2 side tables (sub-table rows, links), 3 expansions, the count
    assert len(statements) == 7, statements
