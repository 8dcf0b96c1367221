"""The records API over real HTTP: catalogue, form schema, CRUD with versions, lists and languages.

Every test talks to a real uvicorn server (``shared``: one per module and backend) with httpx;
the client fails any test that gets a 5xx answer. Tests write records with names unique to
the test, so they can share the server's database.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_checks import RECORDS, create, error_body, issue_fields, unique
from crm_app import ACCOUNT, APP_KEY, Served
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.pg

Record = dict[str, Any]


# --- catalogue -------------------------------------------------------------------------------


def test_healthz_names_the_database(shared: Served, shared_backend: str) -> None:
    response = shared.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": shared_backend}


def _remove_database(db_url: str, served: Served) -> None:
    """Make the server's database unreachable: the SQLite file becomes a folder, a PostgreSQL one is dropped."""
    assert served.database is not None
    served.database.dispose()
    url = sa.engine.make_url(db_url)
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        Path(str(url.database)).mkdir()
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{url.database}" WITH (FORCE)')
    admin.dispose()


def test_healthz_is_503_in_the_error_shape_without_a_database(serve: Callable[..., Served], db_url: str) -> None:
    served = serve()
    assert served.client.get("/healthz").status_code == 200
    _remove_database(db_url, served)
    response = httpx.get(f"{served.url}/healthz")  # not served.client: it fails every 5xx
    assert error_body(response, 503, "database_unreachable")["error"] == "database unreachable"


def test_apps_lists_the_installed_app_with_its_forms(shared: Served) -> None:
    body = shared.client.get("/api/v1/apps").json()
    assert body["ok"] is True
    assert body["items"] == [
        {"key": APP_KEY, "version": "0.1.0", "label": {"zh": "客户管理", "en": "CRM"}, "forms": ["account", "contact"]}
    ]


@pytest.mark.parametrize(
    ("accept_language", "labels"),
    [
        (None, {"account": "客户", "contact": "联系人"}),
        ("en", {"account": "Account", "contact": "Contact"}),
    ],
)
def test_forms_lists_every_form_with_localised_labels(
    shared: Served, accept_language: str | None, labels: dict[str, str]
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    body = shared.client.get("/api/v1/forms", headers=headers).json()
    assert body["ok"] is True
    assert {item["key"]: item["label"] for item in body["items"]} == labels
    account = next(item for item in body["items"] if item["key"] == "account")
    assert account == {
        "key": "account",
        "label": labels["account"],
        "app": APP_KEY,
        "version": 1,
        "title_field": "name",
        "actions": ["create", "read", "update", "delete", "export", "manage"],
    }


def test_form_answers_its_definition_and_json_schema(shared: Served) -> None:
    body = shared.client.get("/api/v1/forms/account").json()
    assert (body["ok"], body["key"], body["app"], body["version"], body["title_field"]) == (
        True,
        "account",
        APP_KEY,
        1,
        "name",
    )
    definition = body["definition"]
    assert [f["key"] for f in definition["fields"]] == [f["key"] for f in ACCOUNT["fields"]]
    assert definition["list"] == {"columns": ACCOUNT["list"]["columns"], "sort": []}
    assert definition["layout"][0]["section"] == {"zh": "基本信息", "en": "Basics"}

    schema = body["json_schema"]
    Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["name"]
    assert "code" not in schema["properties"], "the auto-number is filled by the server"
    assert schema["properties"]["tier"]["anyOf"][0]["enum"] == ["core", "growth"]


def _good_submission() -> Record:
    return {
        "name": unique("schema"),
        "tier": "core",
        "revenue": 1234.5,
        "employees": 40,
        "email": "a@b.cn",
        "since": "2024-02-29",
        "active": True,
        "tags": ["vip", "new"],
        "owner": 1,
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
        "notes": None,
    }


def _validator(client: httpx.Client) -> Draft202012Validator:
    schema = client.get("/api/v1/forms/account").json()["json_schema"]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_a_submission_the_schema_accepts_is_stored(shared: Served) -> None:
    submission = _good_submission()
    _validator(shared.client).validate(submission)
    record = create(shared.client, **submission)
    assert {key: record[key] for key in ("name", "tier", "revenue", "employees", "since", "tags", "owner")} == {
        key: submission[key] for key in ("name", "tier", "revenue", "employees", "since", "tags", "owner")
    }
    assert [(row["sku"], row["qty"]) for row in record["items"]] == [("A-1", 2), ("B-2", 1)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": "gold"}, "tier"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"employees": 0}, "employees"),
        ({"revenue": 2_000_000}, "revenue"),
        ({"since": "2024-02-30"}, "since"),
        ({"tags": ["vip", "vip"]}, "tags"),
        ({"items": [{"sku": "A"}]}, "items[0].qty"),
        ({"bogus": 1}, "bogus"),
        ({"code": "AC-9999"}, "code"),
    ],
)
def test_the_schema_and_the_server_reject_the_same_submissions(shared: Served, change: Record, field: str) -> None:
    submission = {**_good_submission(), **change}
    assert list(_validator(shared.client).iter_errors(submission)), "the JSON Schema accepts it"
    body = error_body(shared.client.post(RECORDS, json=submission), 422)
    assert field in issue_fields(body), body


# --- create, read, update, delete --------------------------------------------------------------


def test_crud_round_trip_with_etags(shared: Served) -> None:
    client = shared.client
    created = client.post(
        RECORDS, json={"name": unique("crud"), "tier": "growth", "employees": 12, "items": [{"sku": "X", "qty": 3}]}
    )
    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    record = created.json()["record"]
    assert record["version"] == 1 and record["form_version"] == 1
    assert record["code"].startswith("AC-") and len(record["code"]) == 7
    url = f"{RECORDS}/{record['id']}"

    fetched = client.get(url)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    assert fetched.json()["record"] == record

    patched = client.patch(url, json={"employees": 13}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200 and patched.headers["etag"] == '"2"'
    after = patched.json()["record"]
    assert after["version"] == 2 and after["employees"] == 13
    assert {k: v for k, v in after.items() if k not in ("version", "employees", "updated_at", "items")} == {
        k: v for k, v in record.items() if k not in ("version", "employees", "updated_at", "items")
    }
    assert [(r["sku"], r["qty"]) for r in after["items"]] == [("X", 3)], "rows not in the patch are kept"

    by_body = client.patch(url, json={"items": [{"sku": "Y", "qty": 1}, {"sku": "Z", "qty": 2}], "version": 2})
    assert by_body.status_code == 200 and by_body.json()["record"]["version"] == 3
    assert [(r["sku"], r["qty"]) for r in by_body.json()["record"]["items"]] == [("Y", 1), ("Z", 2)]

    weak = client.patch(url, json={"items": []}, headers={"If-Match": 'W/"3"'})
    assert weak.status_code == 200 and weak.json()["record"]["items"] == []

    error_body(client.delete(url, headers={"If-Match": '"3"'}), 409, "stale_version")
    deleted = client.delete(url, headers={"If-Match": '"4"'})
    assert deleted.status_code == 204 and deleted.content == b""
    error_body(client.get(url), 404, "unknown_record")
    error_body(client.delete(url), 404, "unknown_record")


@pytest.mark.parametrize(
    ("accept_language", "text"),
    [
        (None, "需要提供记录版本（If-Match 或 version）"),
        ("en", "the record's version is required (If-Match header or 'version' in the body)"),
    ],
)
def test_patch_without_a_version_is_refused(shared: Served, accept_language: str | None, text: str) -> None:
    record = create(shared.client)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    body = error_body(
        shared.client.patch(f"{RECORDS}/{record['id']}", json={"employees": 5}, headers=headers),
        422,
        "version_required",
    )
    assert body["error"] == text
    assert body["issues"] == [{"code": "version_required", "message": text, "field": "version"}]
    assert shared.client.get(f"{RECORDS}/{record['id']}").json()["record"]["version"] == 1


@pytest.mark.parametrize(
    "send_version",
    [
        lambda url, client: client.patch(url, json={"employees": 7}, headers={"If-Match": '"1"'}),
        lambda url, client: client.patch(url, json={"employees": 7, "version": 1}),
    ],
    ids=["if-match", "body"],
)
def test_a_stale_version_is_a_conflict_naming_the_version(
    shared: Served, send_version: Callable[[str, httpx.Client], httpx.Response]
) -> None:
    client = shared.client
    record = create(client, employees=1)
    url = f"{RECORDS}/{record['id']}"
    assert client.patch(url, json={"employees": 2}, headers={"If-Match": '"1"'}).status_code == 200

    body = error_body(send_version(url, client), 409, "stale_version")
    assert body["error"] == "记录已被他人修改（当前版本 2，提交的版本 1），请刷新后重试"
    assert body["issues"] == [
        {"code": "stale_version", "message": body["error"], "field": "version", "hint": "current version: 2"}
    ]
    assert client.get(url).json()["record"]["employees"] == 2, "the stale change was not applied"


def test_concurrent_edits_of_one_version_let_exactly_one_win(shared: Served) -> None:
    record = create(shared.client, employees=1)
    url = f"{shared.url}{RECORDS}/{record['id']}"
    start = threading.Barrier(6)

    def edit(value: int) -> int:
        with httpx.Client(timeout=30, headers=shared.client.headers) as client:
            start.wait()
            return client.patch(url, json={"employees": value}, headers={"If-Match": '"1"'}).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(edit, range(10, 16)))
    assert sorted(statuses) == [200] + [409] * 5
    final = shared.client.get(url).json()["record"]
    assert final["version"] == 2
    assert final["employees"] == 10 + statuses.index(200)


def test_a_duplicate_unique_value_is_a_conflict_naming_the_field(shared: Served) -> None:
    client = shared.client
    taken = create(client)
    body = error_body(client.post(RECORDS, json={"name": taken["name"]}), 409, "unique")
    assert issue_fields(body) == {"name": "unique"}
    assert taken["name"] in body["issues"][0]["message"]

    other = create(client)
    body = error_body(
        client.patch(
            f"{RECORDS}/{other['id']}", json={"name": taken["name"], "version": 1}, headers={"Accept-Language": "en"}
        ),
        409,
        "unique",
    )
    assert body["issues"] == [{"code": "unique", "message": f"value already exists: {taken['name']}", "field": "name"}]
    assert client.get(f"{RECORDS}/{other['id']}").json()["record"] == other


def test_a_record_others_refer_to_cannot_be_deleted(shared: Served) -> None:
    client = shared.client
    account = create(client)
    contact = client.post("/api/v1/forms/contact/records", json={"name": "王五", "account": account["id"]})
    assert contact.status_code == 201
    error_body(client.delete(f"{RECORDS}/{account['id']}"), 409, "still_referenced")
    assert client.get(f"{RECORDS}/{account['id']}").status_code == 200

    contact_id = contact.json()["record"]["id"]
    assert client.delete(f"/api/v1/forms/contact/records/{contact_id}").status_code == 204
    assert client.delete(f"{RECORDS}/{account['id']}").status_code == 204


def test_deleting_a_parent_clears_the_relation(shared: Served) -> None:
    parent = create(shared.client)
    child = create(shared.client, parent=parent["id"])
    assert shared.client.delete(f"{RECORDS}/{parent['id']}").status_code == 204
    assert shared.client.get(f"{RECORDS}/{child['id']}").json()["record"]["parent"] is None


# --- listing -----------------------------------------------------------------------------------

ROWS = 23


def _row(index: int) -> Record:
    """Values with repeats and gaps, so that sorting has ties and NULLs."""
    row: Record = {
        "employees": None if index % 7 == 3 else (index % 9) * 10 + 10,
        "tier": ["core", "growth", None][index % 3],
        "since": None if index % 5 == 4 else dt.date(2024, 1 + index % 6, 1 + index).isoformat(),
        "tags": [["vip"], ["new", "合作"], ["vip", "new"], None][index % 4],
        "active": index % 2 == 0,
        "owner": [1, 2, None][(index // 3) % 3],
        "revenue": float((index * 37) % 11 * 100),
    }
    return {key: value for key, value in row.items() if value is not None}


@pytest.fixture(scope="module")
def dataset(shared: Served) -> tuple[str, list[Record]]:
    """``ROWS`` accounts named ``<prefix>-000`` ...; the first three are parents of the rest."""
    prefix = unique("list")
    records: list[Record] = []
    for index in range(ROWS):
        values = _row(index)
        if index >= 3:
            values["parent"] = records[index % 3]["id"]
        records.append(create(shared.client, name=f"{prefix}-{index:03d}", **values))
    return prefix, records


def _walk(client: httpx.Client, params: dict[str, Any]) -> tuple[list[Record], list[dict[str, Any]]]:
    """Follow ``next_cursor`` to the end; return the records and the pages."""
    items: list[Record] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(RECORDS, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert len(pages) <= ROWS + 1, "pagination does not end"


def _compare(keys: list[tuple[str, bool]], a: Record, b: Record) -> int:
    for key, desc in keys:
        x, y = a[key], b[key]
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1  # NULLs last in both directions
        return (1 if x > y else -1) * (-1 if desc else 1)
    return 0


def _expected_order(records: list[Record], sort: str) -> list[int]:
    keys = [(part.lstrip("-"), part.startswith("-")) for part in sort.split(",")]
    if "id" not in [key for key, _ in keys]:
        keys.append(("id", False))
    return [r["id"] for r in sorted(records, key=functools.cmp_to_key(functools.partial(_compare, keys)))]


@pytest.mark.parametrize(
    "sort",
    [
        "employees",
        "-employees",
        "name",
        "-name",
        "since",
        "-since",
        "tier,-employees",
        "-revenue,since",
        "-created_at",
        "-id",
        "revenue,-id",
    ],
)
@pytest.mark.parametrize("limit", [1, 4])
def test_pages_walk_every_record_once_in_order(
    shared: Served, dataset: tuple[str, list[Record]], sort: str, limit: int
) -> None:
    prefix, records = dataset
    items, pages = _walk(
        shared.client, {"filter": f"name:starts_with:{prefix}-", "sort": sort, "limit": limit, "count": "true"}
    )
    assert [item["id"] for item in items] == _expected_order(records, sort)
    assert [len(page["items"]) for page in pages] == [limit] * (ROWS // limit) + (
        [ROWS % limit] if ROWS % limit else []
    )
    assert {(page["count"], page["count_capped"]) for page in pages} == {(ROWS, False)}


def test_the_default_order_is_the_newest_first(shared: Served, dataset: tuple[str, list[Record]]) -> None:
    prefix, records = dataset
    body = shared.client.get(RECORDS, params={"filter": f"name:starts_with:{prefix}-", "limit": 500}).json()
    assert [item["id"] for item in body["items"]] == sorted((r["id"] for r in records), reverse=True)
    assert "count" not in body and body["next_cursor"] is None


def _by_id(records: list[Record]) -> dict[int, Record]:
    return {r["id"]: r for r in records}


Predicate = Callable[[Record, dict[int, Record]], bool]
FILTERS: list[tuple[list[str], Predicate]] = [
    (["employees:gt:50"], lambda r, _: r["employees"] is not None and r["employees"] > 50),
    (["employees:lte:30"], lambda r, _: r["employees"] is not None and r["employees"] <= 30),
    (["employees:between:20,60"], lambda r, _: r["employees"] is not None and 20 <= r["employees"] <= 60),
    (["employees:in:10,30,90"], lambda r, _: r["employees"] in (10, 30, 90)),
    (["employees:ne:10"], lambda r, _: r["employees"] != 10),
    (["employees:is_empty:true"], lambda r, _: r["employees"] is None),
    (["employees:is_empty:false"], lambda r, _: r["employees"] is not None),
    (["tier:eq:core"], lambda r, _: r["tier"] == "core"),
    (["tier:growth"], lambda r, _: r["tier"] == "growth"),
    (["tier:ne:core"], lambda r, _: r["tier"] != "core"),
    (["tier:in:core,growth"], lambda r, _: r["tier"] in ("core", "growth")),
    (["tier:is_empty:true"], lambda r, _: r["tier"] is None),
    (["since:gte:2024-03-01"], lambda r, _: r["since"] is not None and r["since"] >= "2024-03-01"),
    (["since:lt:2024-03-01"], lambda r, _: r["since"] is not None and r["since"] < "2024-03-01"),
    (["revenue:gte:500.5"], lambda r, _: r["revenue"] is not None and r["revenue"] >= 500.5),
    (["tags:contains:vip"], lambda r, _: "vip" in (r["tags"] or [])),
    (["tags:contains:vip,new"], lambda r, _: bool(set(r["tags"] or []) & {"vip", "new"})),
    (["tags:contains:合作"], lambda r, _: "合作" in (r["tags"] or [])),
    (["tags:is_empty:true"], lambda r, _: not r["tags"]),
    (["active:eq:true"], lambda r, _: r["active"] is True),
    (["active:eq:false"], lambda r, _: r["active"] is False),
    (["owner:eq:1"], lambda r, _: r["owner"] == 1),
    (["parent:is_empty:false"], lambda r, _: r["parent"] is not None),
    (["name:contains:-01"], lambda r, _: "-01" in r["name"]),
    (["parent.tier:eq:core"], lambda r, by_id: r["parent"] is not None and by_id[r["parent"]]["tier"] == "core"),
    (
        ["parent.employees:gt:15"],
        lambda r, by_id: r["parent"] is not None and (by_id[r["parent"]]["employees"] or 0) > 15,
    ),
    (["tier:eq:core", "employees:gte:40"], lambda r, _: r["tier"] == "core" and (r["employees"] or 0) >= 40),
]


@pytest.mark.parametrize(("filters", "predicate"), FILTERS, ids=[" & ".join(f) for f, _ in FILTERS])
def test_filters_select_exactly_the_matching_records(
    shared: Served, dataset: tuple[str, list[Record]], filters: list[str], predicate: Predicate
) -> None:
    prefix, records = dataset
    by_id = _by_id(records)
    response = shared.client.get(
        RECORDS, params={"filter": [f"name:starts_with:{prefix}-", *filters], "limit": 500, "count": "true"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = {r["id"] for r in records if predicate(r, by_id)}
    assert expected, "the case should select something"
    assert {item["id"] for item in body["items"]} == expected
    assert body["count"] == len(expected)


def test_expand_replaces_ids_by_titles(shared: Served, dataset: tuple[str, list[Record]]) -> None:
    prefix, records = dataset
    by_id = _by_id(records)
    body = shared.client.get(
        RECORDS, params={"filter": f"name:starts_with:{prefix}-", "limit": 500, "expand": "owner,parent"}
    ).json()
    owners = {None: None, 1: {"id": 1, "title": "Alice 张"}, 2: {"id": 2, "title": "Bob 李"}}
    for item in body["items"]:
        original = by_id[item["id"]]
        assert item["owner"] == owners[original["owner"]]
        parent = original["parent"]
        assert item["parent"] == (None if parent is None else {"id": parent, "title": by_id[parent]["name"]})


def test_q_searches_the_title_field_literally(shared: Served, dataset: tuple[str, list[Record]]) -> None:
    prefix, _ = dataset
    found = shared.client.get(RECORDS, params={"q": f"{prefix}-00", "limit": 500}).json()["items"]
    assert {item["name"] for item in found} == {f"{prefix}-{i:03d}" for i in range(10)}

    literal = unique("like")
    percent = create(shared.client, name=f"{literal} 100% sure")
    create(shared.client, name=f"{literal} 1000 sure")
    create(shared.client, name=f"{literal} 10_0 sure")
    by_percent = shared.client.get(RECORDS, params={"q": f"{literal} 100%"}).json()["items"]
    assert [item["id"] for item in by_percent] == [percent["id"]]
    assert (
        shared.client.get(RECORDS, params={"q": "0_0 sure", "filter": f"name:starts_with:{literal}"}).json()["items"][
            0
        ]["name"]
        == f"{literal} 10_0 sure"
    )


# --- languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [
        (None, "zh"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR", "zh"),
        ("fr, en;q=0.5", "en"),
        ("de, zh-TW;q=0.8, en;q=0.5", "zh"),
        ("", "zh"),
    ],
)
def test_messages_follow_accept_language_with_chinese_by_default(
    shared: Served, accept_language: str | None, locale: str
) -> None:
    headers = {} if accept_language is None else {"Accept-Language": accept_language}
    body = error_body(shared.client.post(RECORDS, json={"employees": 0}, headers=headers), 422, "invalid")
    texts = {
        "zh": ("提交的数据有误", "必填", "不能小于 1"),
        "en": ("the submission is not valid", "is required", "must be at least 1"),
    }[locale]
    assert body["error"] == texts[0]
    assert {i["field"]: i["message"] for i in body["issues"]} == {"name": texts[1], "employees": texts[2]}
