"""Bad input over real HTTP: every mistake gets the one error shape with a place, never a 500.

The cases are tables: a request and the answer it must get. The client of every server fails
the test on a 5xx answer or a leaked traceback (see ``api_checks.check_no_server_error``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from api_checks import RECORDS, create, error_body, issue_fields, unique
from crm_app import Served

pytestmark = pytest.mark.pg

FILES = "/api/v1/forms/account/fields/docs/files"


@pytest.fixture(scope="module")
def anchor(shared: Served) -> dict[str, Any]:
    """One account and one uploaded file that the route tables refer to as ``{id}`` and ``{file}``."""
    record = create(shared.client, name=unique("anchor"))
    upload = shared.client.post(FILES, files={"file": ("a.txt", b"anchor", "text/plain")})
    assert upload.status_code == 201
    return {"id": record["id"], "file": upload.json()["file"]["id"]}


# --- the JSON body -----------------------------------------------------------------------------

MALFORMED = [
    (b'{"name": "x",\n "employees": }', "Expecting value", 2, 15),
    (b"", "Expecting value", 1, 1),
    (b'{"name": "x",}', "Expecting property name enclosed in double quotes", 1, 14),
    (b"{'name': 'x'}", "Expecting property name enclosed in double quotes", 1, 2),
    (b'{"name": "x"} trailing', "Extra data", 1, 15),
    (b'{"name": "x\n"}', "Invalid control character at", 1, 12),
    (b'{\n\n  "name": "x"\n  "tier": "core"\n}', "Expecting ',' delimiter", 4, 3),
]


@pytest.mark.parametrize(("body", "message", "line", "col"), MALFORMED)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_malformed_json_names_line_and_column(
    shared: Served, anchor: dict[str, Any], method: str, body: bytes, message: str, line: int, col: int
) -> None:
    url = RECORDS if method == "POST" else f"{RECORDS}/{anchor['id']}"
    response = shared.client.request(
        method, url, content=body, headers={"If-Match": '"1"', "Content-Type": "application/json"}
    )
    error = error_body(response, 422, "invalid_json")
    assert error["issues"] == [
        {"code": "invalid_json", "message": f"invalid JSON: {message}", "line": line, "col": col}
    ]


@pytest.mark.parametrize("body", [b'{"name": "caf\xe9"}', b"\xff\xfe\x00"])
def test_a_body_that_is_not_utf8_is_refused(shared: Served, body: bytes) -> None:
    error_body(shared.client.post(RECORDS, content=body), 422, "invalid_json")


def test_deeply_nested_json_is_refused_not_crashed(shared: Served) -> None:
    body = error_body(shared.client.post(RECORDS, content=b"[" * 50_000 + b"]" * 50_000), 422, "invalid_json")
    assert body["error"] == "the request body is nested too deeply"
    assert body["issues"] == [{"code": "invalid_json", "message": "invalid JSON: nested too deeply"}]


@pytest.mark.parametrize("body", [b"[]", b'["name", "x"]', b'"x"', b"42", b"null", b"true"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_not_an_object_is_refused(
    shared: Served, anchor: dict[str, Any], method: str, body: bytes
) -> None:
    url = RECORDS if method == "POST" else f"{RECORDS}/{anchor['id']}"
    error = error_body(shared.client.request(method, url, content=body, headers={"If-Match": '"1"'}), 422)
    assert [issue["code"] for issue in error["issues"]] == ["not_an_object"]
    assert error["error"] == "请求体应为 JSON 对象"


# --- submissions: every problem at once, by field --------------------------------------------


def test_every_problem_of_a_submission_is_listed_with_its_field(shared: Served) -> None:
    submission = {
        "nmae": "typo",
        "tier": "gold",
        "revenue": -5,
        "employees": "many",
        "email": "not-an-address",
        "since": "2024-13-45",
        "active": "maybe",
        "tags": ["vip", "vip"],
        "owner": 0,
        "code": "AC-0001",
        "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 0}, {"qty": "x"}, {"sku": "C", "qty": 1, "x": 1}],
    }
    body = error_body(shared.client.post(RECORDS, json=submission, headers={"Accept-Language": "en"}), 422, "invalid")
    assert issue_fields(body) == {
        "nmae": "extra_forbidden",
        "name": "missing",
        "tier": "literal_error",
        "revenue": "greater_than_equal",
        "employees": "int_parsing",
        "email": "string_pattern_mismatch",
        "since": "date_from_datetime_parsing",
        "active": "bool_parsing",
        "tags": "items_repeat",
        "owner": "greater_than_equal",
        "code": "read_only",
        "items[1].qty": "greater_than_equal",
        "items[2].sku": "missing",
        "items[2].qty": "int_parsing",
        "items[3].x": "extra_forbidden",
    }
    by_field = {issue["field"]: issue for issue in body["issues"]}
    assert by_field["nmae"]["hint"] == "did you mean 'name'?"
    assert by_field["tier"]["message"] == "must be one of: core or growth"
    assert by_field["items[1].qty"]["message"] == "must be at least 1"
    assert by_field["code"]["message"] == "is read-only"


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"name": "x" * 61}, "name", "string_too_long"),
        ({"name": "长" * 61}, "name", "string_too_long"),
        ({"notes": "n" * 201}, "notes", "string_too_long"),
        ({"items": [{"sku": "s" * 21, "qty": 1}]}, "items[0].sku", "string_too_long"),
        ({"employees": 100_001}, "employees", "less_than_equal"),
        ({"revenue": 1_000_000.01}, "revenue", "less_than_equal"),
        ({"revenue": "NaN"}, "revenue", "finite_number"),
        ({"items": [{"sku": "s", "qty": 10**30}]}, "items[0].qty", "less_than_equal"),
        ({"items": [{"sku": "s", "qty": 1, "price": 10**30}]}, "items[0].price", "less_than"),
        ({"items": [{"sku": "s", "qty": 1, "price": "-1e25"}]}, "items[0].price", "greater_than"),
        ({"parent": 2**62 + 1}, "parent", "less_than_equal"),
        ({"owner": 999}, "owner", "not_found_reference"),
        ({"docs": [{"id": "f" * 32}]}, "docs[0]", "file_not_found"),
        ({"docs": "a.txt"}, "docs", "list_type"),
        ({"tags": ["vip", "gold"]}, "tags[1]", "literal_error"),
        ({"name": "nul\x00byte"}, "name", "nul_character"),
        ({"id": 5}, "id", "extra_forbidden"),
        ({"version": 1}, "version", "extra_forbidden"),
    ],
)
def test_values_out_of_range_are_refused_with_their_field(
    shared: Served, values: dict[str, Any], field: str, code: str
) -> None:
    body = error_body(shared.client.post(RECORDS, json={"name": unique("range"), **values}), 422)
    assert issue_fields(body) == {field: code}


@pytest.mark.parametrize("name", ["x" * 60, "长" * 60])
def test_text_at_its_maximum_length_is_accepted(shared: Served, name: str) -> None:
    record = create(shared.client, name=name[:-10] + unique("")[-10:])
    assert len(record["name"]) == 60


# --- query parameters --------------------------------------------------------------------------

NO_PARAMETERS = [
    ("GET", "/healthz"),
    ("GET", "/api/v1/apps"),
    ("GET", "/api/v1/forms"),
    ("GET", "/api/v1/forms/account"),
    ("POST", RECORDS),
    ("GET", RECORDS + "/{id}"),
    ("PATCH", RECORDS + "/{id}"),
    ("DELETE", RECORDS + "/{id}"),
    ("POST", FILES),
    ("GET", "/api/v1/files/{file}"),
]


@pytest.mark.parametrize(("method", "path"), NO_PARAMETERS)
def test_routes_without_parameters_refuse_any(shared: Served, anchor: dict[str, Any], method: str, path: str) -> None:
    url = path.format(**anchor) + "?colour=red&lang=en"
    extra: dict[str, Any] = {"json": {"notes": "changed"}} if method in ("POST", "PATCH") else {}
    if path == FILES:
        extra = {"files": {"file": ("b.txt", b"b", "text/plain")}}
    body = error_body(
        shared.client.request(method, url, headers={"If-Match": '"1"'}, **extra), 422, "unknown_parameter"
    )
    assert [(i["field"], i["hint"]) for i in body["issues"]] == [
        ("colour", "this route takes no parameters"),
        ("lang", "this route takes no parameters"),
    ]
    record = shared.client.get(f"{RECORDS}/{anchor['id']}").json()["record"]
    assert (record["version"], record["notes"]) == (1, None), "a refused request changes nothing"


def test_the_list_route_names_an_unknown_parameter_and_what_it_accepts(shared: Served) -> None:
    body = error_body(
        shared.client.get(RECORDS, params={"filters": "tier:eq:core", "limit": 5}), 422, "unknown_parameter"
    )
    assert body["issues"] == [
        {
            "code": "unknown_parameter",
            "message": "unknown query parameter 'filters'",
            "field": "filters",
            "hint": "accepted: filter, sort, limit, cursor, count, expand, q",
        }
    ]


@pytest.mark.parametrize(
    ("params", "issues"),
    [
        ({"filter": "name"}, [("filter", "bad_filter")]),
        ({"filter": "nmae:eq:x"}, [("filter[0]", "unknown_field")]),
        ({"filter": "tags:gt:vip"}, [("filter[0]", "unsupported_operator")]),
        ({"filter": "name:like:x"}, [("filter[0]", "unsupported_operator")]),
        ({"filter": "employees:gt:many"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "since:eq:2024-02-30"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "employees:between:1,2,3"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "active:is_empty:maybe"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "tier:eq:gold"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "owner:eq:0"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "revenue:gt:NaN"}, [("filter[0]", "bad_filter_value")]),
        ({"filter": "name.x:eq:1"}, [("filter[0]", "unknown_field")]),
        ({"filter": "parent.nmae:eq:x"}, [("filter[0]", "unknown_field")]),
        ({"filter": "items:is_empty:true"}, [("filter[0]", "unknown_field")]),
        ({"filter": "name:eq:a\x00b"}, [("filter", "nul_character")]),
        (
            {"filter": ["nosuch:eq:1", "tier:eq:core", "employees:gt:x"]},
            [("filter[0]", "unknown_field"), ("filter[2]", "bad_filter_value")],
        ),
        ({"sort": "nosuch"}, [("sort", "not_sortable")]),
        ({"sort": "tags"}, [("sort", "not_sortable")]),
        ({"expand": "tier"}, [("expand", "not_expandable")]),
        ({"limit": 0}, [("query.limit", "greater_than_equal")]),
        ({"limit": 501}, [("query.limit", "less_than_equal")]),
        ({"limit": "ten"}, [("query.limit", "int_parsing")]),
        ({"count": "maybe"}, [("query.count", "bool_parsing")]),
        ({"q": "x" * 201}, [("query.q", "string_too_long")]),
        ({"q": "a\x00"}, [("q", "nul_character")]),
    ],
)
def test_bad_list_parameters_name_every_problem(
    shared: Served, params: dict[str, Any], issues: list[tuple[str, str]]
) -> None:
    body = error_body(shared.client.get(RECORDS, params=params), 422)
    assert [(issue["field"], issue["code"]) for issue in body["issues"]] == issues


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/files/a%00b", "file_id"),
        ("/api/v1/forms/acc%00/records", "form"),
        (RECORDS + "/1?q=%00", "q"),
        ("/forms/acc%00", "form"),
    ],
)
def test_nul_characters_in_parameters_are_refused(shared: Served, path: str, field: str) -> None:
    body = error_body(shared.client.get(path), 422, "nul_character")
    assert [issue["field"] for issue in body["issues"]] == [field]


def test_nul_characters_in_an_upload_are_refused(shared: Served) -> None:
    multipart = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--xyz--\r\n"
    )
    response = shared.client.post(
        FILES, content=multipart, headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert issue_fields(error_body(response, 422, "nul_character")) == {"file": "nul_character"}


def test_filter_problems_carry_hints(shared: Served) -> None:
    body = error_body(
        shared.client.get(RECORDS, params={"filter": ["nmae:eq:x", "tags:gt:vip", "parent.nmae:eq:x"]}),
        422,
        "bad_filter",
    )
    assert [issue.get("hint") for issue in body["issues"]] == [
        "did you mean 'name'?",
        "supported: contains, is_empty",
        "did you mean 'name'?",
    ]


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        (None, "not a cursor!"),
        (None, "A" * 5000),
        (None, _cursor({"id": 1})),
        (None, _cursor([1, 2])),
        (None, _cursor(["abc"])),
        (None, _cursor([{"id": 1}])),
        (None, _cursor([True])),
        ("since", _cursor(["not-a-date", 1])),
        ("-created_at", _cursor(["yesterday", 1])),
        ("revenue", _cursor(["abc", 1])),
        ("employees", _cursor(["abc", 1])),
        ("employees", _cursor([1.5, 1])),
        ("name", _cursor([5, 1])),
        ("employees", _cursor([1, 2**70])),
    ],
)
def test_a_bad_cursor_is_refused(shared: Served, sort: str | None, cursor: str) -> None:
    params = {"cursor": cursor, **({"sort": sort} if sort else {})}
    body = error_body(shared.client.get(RECORDS, params=params), 422, "bad_cursor")
    assert "next_cursor" in body["error"]


def test_a_cursor_of_another_sort_is_refused(shared: Served) -> None:
    for _ in range(3):
        create(shared.client, employees=5)
    cursor = shared.client.get(RECORDS, params={"sort": "employees", "limit": 1}).json()["next_cursor"]
    assert cursor is not None
    error_body(shared.client.get(RECORDS, params={"sort": "tier,employees", "cursor": cursor}), 422, "bad_cursor")
    error_body(shared.client.get(RECORDS, params={"sort": "since", "cursor": cursor}), 422, "bad_cursor")


# --- unknown forms and records -----------------------------------------------------------------

FORM_ROUTES = [
    ("GET", "/api/v1/forms/{form}"),
    ("GET", "/api/v1/forms/{form}/records"),
    ("POST", "/api/v1/forms/{form}/records"),
    ("GET", "/api/v1/forms/{form}/records/1"),
    ("PATCH", "/api/v1/forms/{form}/records/1"),
    ("DELETE", "/api/v1/forms/{form}/records/1"),
    ("POST", "/api/v1/forms/{form}/fields/docs/files"),
]


@pytest.mark.parametrize(("method", "path"), FORM_ROUTES)
def test_an_unknown_form_is_404_with_a_suggestion(shared: Served, method: str, path: str) -> None:
    extra: dict[str, Any] = {"json": {"name": "x"}} if method in ("POST", "PATCH") else {}
    if "files" in path:
        extra = {"files": {"file": ("a.txt", b"a", "text/plain")}}
    for form, message in (("acount", "unknown form 'acount' (did you mean 'account'?)"), ("zzz", "unknown form 'zzz'")):
        response = shared.client.request(method, path.format(form=form), headers={"If-Match": '"1"'}, **extra)
        assert error_body(response, 404, "unknown_form")["error"] == message


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("GET", {}),
        ("PATCH", {"json": {"notes": "x"}, "headers": {"If-Match": '"1"'}}),
        ("DELETE", {}),
        ("DELETE", {"headers": {"If-Match": '"1"'}}),
    ],
)
def test_an_unknown_record_is_404(shared: Served, method: str, extra: dict[str, Any]) -> None:
    body = error_body(shared.client.request(method, f"{RECORDS}/987654321", **extra), 404, "unknown_record")
    assert body["error"] == "记录 account/987654321 不存在"  # the same words for a record one may not read


@pytest.mark.parametrize("record_id", ["abc", "1.5", "1e3", "0x10", "%20", "0", "-1", "99999999999999999999"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_record_id_that_is_not_a_positive_integer_is_422(shared: Served, method: str, record_id: str) -> None:
    extra: dict[str, Any] = {"json": {"notes": "x"}, "headers": {"If-Match": '"1"'}} if method == "PATCH" else {}
    body = error_body(shared.client.request(method, f"{RECORDS}/{record_id}", **extra), 422, "invalid_request")
    assert [issue["field"] for issue in body["issues"]] == ["path.record_id"]


@pytest.mark.parametrize(
    ("if_match", "body_version"),
    [
        ('"abc"', None),
        ("*", None),
        ('"99999999999999999999"', None),
        ('"-1"', None),
        (None, "abc"),
        (None, 1.5),
        (None, True),
        (None, [1]),
        (None, 2**70),
    ],
)
def test_a_version_that_is_not_a_positive_integer_is_422(
    shared: Served, anchor: dict[str, Any], if_match: str | None, body_version: Any
) -> None:
    headers = {"If-Match": if_match} if if_match else {}
    payload: dict[str, Any] = {"notes": "x"}
    if body_version is not None:
        payload["version"] = body_version
    url = f"{RECORDS}/{anchor['id']}"
    body = error_body(shared.client.patch(url, json=payload, headers=headers), 422, "bad_version")
    assert [issue["field"] for issue in body["issues"]] == ["version"]
    if if_match:
        error_body(shared.client.delete(url, headers=headers), 422, "bad_version")
    assert shared.client.get(url).json()["record"]["version"] == 1


# --- body size ---------------------------------------------------------------------------------


def _chunks(total: int, size: int = 512) -> Iterator[bytes]:
    """A streaming body (sent chunked, without Content-Length): a JSON object padded to ``total`` bytes."""
    text = json.dumps({"name": unique("chunked")}).encode()
    text += b" " * (total - len(text))
    for start in range(0, len(text), size):
        yield text[start : start + size]


@pytest.fixture
def small(serve: Callable[..., Served]) -> Served:
    """A server that takes JSON bodies up to 1000 bytes and uploads up to 4000 bytes."""
    return serve(max_json_bytes=1000, max_upload_bytes=4000)


def test_a_body_over_the_limit_is_413_with_or_without_content_length(small: Served) -> None:
    client = small.client
    record = create(client)
    big = json.dumps({"name": unique(), "notes": "n" * 1500}).encode()
    for method, url, headers in (("POST", RECORDS, {}), ("PATCH", f"{RECORDS}/{record['id']}", {"If-Match": '"1"'})):
        declared = client.request(method, url, content=big, headers=headers)
        assert declared.request.headers["content-length"] == str(len(big))
        body = error_body(declared, 413, "body_too_large")
        assert body["error"] == "request body larger than 1000 bytes"

        streamed = client.request(method, url, content=_chunks(3000), headers=headers)
        assert streamed.request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in streamed.request.headers
        error_body(streamed, 413, "body_too_large")

    accepted = client.post(RECORDS, content=_chunks(400))
    assert accepted.status_code == 201, "a chunked body under the limit is read"
    assert client.get("/healthz").status_code == 200
    assert client.get(f"{RECORDS}/{record['id']}").json()["record"]["version"] == 1


def test_an_upload_over_the_server_limit_is_413(small: Served) -> None:
    declared = small.client.post(FILES, files={"file": ("big.txt", b"x" * 5000, "text/plain")})
    error_body(declared, 413, "body_too_large")

    def stream() -> Iterator[bytes]:
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        yield b"Content-Type: text/plain\r\n\r\n"
        for _ in range(10):
            yield b"x" * 1000
        yield b"\r\n--xyz--\r\n"

    streamed = small.client.post(FILES, content=stream(), headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert "content-length" not in streamed.request.headers
    error_body(streamed, 413, "body_too_large")


# --- files -------------------------------------------------------------------------------------


def test_a_file_over_the_field_limit_is_413(shared: Served) -> None:
    body = error_body(
        shared.client.post(FILES, files={"file": ("big.txt", b"x" * 2049, "text/plain")}), 413, "file_too_large"
    )
    assert body["issues"] == [
        {"code": "file_too_large", "message": "文件过大：2049 字节，上限 2048 字节", "field": "docs"}
    ]


@pytest.mark.parametrize("name", ["evil.exe", "noextension", "report.pdf.exe", "txt"])
def test_a_file_of_another_type_is_422(shared: Served, name: str) -> None:
    body = error_body(
        shared.client.post(
            FILES, files={"file": (name, b"data", "application/octet-stream")}, headers={"Accept-Language": "en"}
        ),
        422,
    )
    assert body["issues"] == [
        {"code": "file_type", "message": "file type not accepted; allowed: .pdf, .txt", "field": "docs"}
    ]


@pytest.mark.parametrize(
    ("path", "files", "status", "code"),
    [
        ("/api/v1/forms/account/fields/name/files", {"file": ("a.txt", b"a")}, 422, "invalid"),
        ("/api/v1/forms/account/fields/nosuch/files", {"file": ("a.txt", b"a")}, 404, "unknown_field"),
        (FILES, {"other": ("a.txt", b"a")}, 422, "invalid_request"),
        (FILES, None, 422, "invalid_request"),
    ],
)
def test_uploads_to_the_wrong_place_are_refused(
    shared: Served, path: str, files: dict[str, Any] | None, status: int, code: str
) -> None:
    error_body(shared.client.post(path, files=files), status, code)


def test_a_good_upload_is_referenced_and_downloaded_byte_identical(shared: Served) -> None:
    client = shared.client
    data = bytes(range(256)) * 8
    upload = client.post(FILES, files={"file": ("报告 2024.PDF", data, "application/pdf")})
    assert upload.status_code == 201
    meta = upload.json()["file"]
    assert {k: meta[k] for k in ("name", "size", "content_type")} == {
        "name": "报告 2024.PDF",
        "size": 2048,
        "content_type": "application/pdf",
    }

    record = create(client, docs=[{"id": meta["id"]}])
    assert record["docs"] == [meta]
    assert client.get(f"{RECORDS}/{record['id']}").json()["record"]["docs"] == [meta]

    download = client.get(f"/api/v1/files/{meta['id']}")
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A%202024.PDF"
    error_body(client.get("/api/v1/files/" + "0" * 32), 404, "unknown_file")


# --- the sweep: odd requests never give a 5xx --------------------------------------------------

SWEEP: list[tuple[str, str, dict[str, Any], set[int]]] = [
    ("PUT", RECORDS + "/{id}", {"json": {}}, {405}),
    ("TRACE", "/api/v1/forms", {}, {405}),
    ("OPTIONS", "/api/v1/forms", {}, {405}),
    ("HEAD", "/api/v1/forms", {}, {200, 405}),
    ("DELETE", "/api/v1/forms", {}, {405}),
    ("POST", "/healthz", {}, {405}),
    ("PROPFIND", "/", {}, {405}),
    ("GET", "/api/v1/forms/客户/records", {}, {404}),
    ("GET", "/api/v1/forms/%00/records", {}, {422}),
    ("GET", "/api/v1/forms/" + "f" * 5000, {}, {404}),
    ("GET", RECORDS + "/%F0%9F%98%80", {}, {422}),
    ("GET", RECORDS + "/{id}/extra", {}, {404}),
    ("GET", "/api/v2/forms", {}, {404}),
    ("GET", "/api/v1/files/..%2F..%2Fetc%2Fpasswd", {}, {404}),
    ("GET", "/api/v1/files/" + "a" * 300, {}, {404}),
    ("GET", RECORDS + "?limit=99999999999999999999999", {}, {422}),
    ("GET", RECORDS + "?limit=-5", {}, {422}),
    ("GET", RECORDS + "?limit=", {}, {422}),
    ("GET", RECORDS + "?filter=", {}, {422}),
    ("GET", RECORDS + "?filter=::", {}, {422}),
    ("GET", RECORDS + "?filter=:::::", {}, {422}),
    ("GET", RECORDS + "?sort=", {}, {200}),
    ("GET", RECORDS + "?sort=-", {}, {422}),
    ("GET", RECORDS + "?sort=,,,", {}, {200}),
    ("GET", RECORDS + "?expand=,,,", {}, {200}),
    ("GET", RECORDS + "?count=yes&count=no", {}, {200}),
    ("GET", RECORDS + "?cursor=", {}, {200}),
    ("GET", RECORDS + "?q=%F0%9F%98%80%E4%B8%AD", {}, {200}),
    ("GET", RECORDS + "?filter=name:eq:%F0%9F%98%80", {}, {200}),
    ("GET", RECORDS + "?filter=employees:in:" + ",".join(str(i) for i in range(1, 2001)), {}, {200}),
    ("GET", RECORDS + "?filter=employees:gt:1e400", {}, {422}),
    ("GET", RECORDS + "?filter=revenue:gt:Infinity", {}, {422}),
    ("GET", RECORDS + "?filter=since:eq:99999-01-01", {}, {422}),
    ("GET", RECORDS + "?filter=parent.parent.parent.name:eq:x", {}, {200}),
    ("GET", RECORDS, {"headers": {"Accept-Language": "*;q=abc,,,;"}}, {200}),
    ("GET", RECORDS, {"headers": {"Accept-Language": "x" * 4000}}, {200}),
    ("POST", RECORDS, {"content": b"{}", "headers": {"Content-Type": "text/plain"}}, {422}),
    ("POST", RECORDS, {"content": b'{"name": "caf\xe9"}', "headers": {"Content-Type": "application/json"}}, {422}),
    ("POST", RECORDS, {"content": b'{"name": "nan", "revenue": NaN}'}, {422}),
    ("POST", RECORDS, {"content": b'{"name": "inf", "employees": -Infinity}'}, {422}),
    ("POST", RECORDS, {"content": b'{"name": "\\ud800"}'}, {422}),
    ("POST", RECORDS, {"content": b'{"name": {"nested": [1, {"deep": null}]}}'}, {422}),
    ("POST", RECORDS, {"json": {"name": "x", "items": [{"sku": "a", "qty": 1}] * 10_000}}, {201, 422}),
    ("PATCH", RECORDS + "/{id}", {"json": {}}, {422}),
    ("PATCH", RECORDS + "/{id}", {"json": {}, "headers": {"If-Match": ""}}, {422}),
    ("PATCH", RECORDS + "/{id}", {"json": {}, "headers": {"If-Match": "W/"}}, {422}),
    (
        "POST",
        FILES,
        {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=xx"}},
        {400, 422},
    ),
    ("POST", FILES, {"content": b"x", "headers": {"Content-Type": "multipart/form-data"}}, {400, 422}),
    ("POST", FILES, {"files": {"file": ("", b"x")}}, {422}),
    ("GET", "/forms/account/99999999999999999999", {}, {422}),
    ("GET", "/forms/account?cursor=zz", {}, {422}),
    ("GET", "/forms/%E2%80%AE", {}, {404}),
    ("GET", "/forms/account?lang=fr", {}, {422}),
    ("GET", "/forms/account?q=%00", {}, {422}),
]


@pytest.mark.parametrize(("method", "path", "extra", "statuses"), SWEEP, ids=[f"{m} {p[:60]}" for m, p, _, _ in SWEEP])
def test_odd_requests_never_give_a_server_error(
    shared: Served, anchor: dict[str, Any], method: str, path: str, extra: dict[str, Any], statuses: set[int]
) -> None:
    response = shared.client.request(method, path.format(**anchor), **extra)
    assert response.status_code in statuses, response.text
    if response.status_code >= 400 and method != "HEAD" and path.startswith("/api/"):
        error_body(response, response.status_code)


def test_the_server_still_answers_after_the_sweep(shared: Served, anchor: dict[str, Any]) -> None:
    response = shared.client.get(f"{RECORDS}/{anchor['id']}")
    assert response.status_code == 200
    assert response.json()["record"]["version"] == 1
    assert httpx.get(f"{shared.url}/healthz").json()["ok"] is True
