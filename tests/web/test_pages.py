"""The read-only HTML pages and the API documentation, fetched from a real server.

Pages are read the way a person reads them: the text of the table cells, the section titles,
and what the browser would see of user content (escaped, never markup).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from api_checks import create, unique
from crm_app import Served
from fastapi.routing import APIRoute

from web import api, auth, identity_api

HTML = {"Accept": "text/html"}
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Page(HTMLParser):
    """The text of a page's table rows, headings and links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.headings: dict[str, list[str]] = {"h2": [], "h3": []}
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._heading: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in self.headings:
            self._heading, self._text = tag, []
        elif tag == "a":
            self.links += [value or "" for name, value in attrs if name == "href"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == self._heading:
            self.headings[tag].append("".join(self._text).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._text.append(data)


def _page(response: httpx.Response) -> _Page:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(response.text)
    return page


def _rows_by_first_cell(page: _Page) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in page.rows[1:]}


def test_the_index_lists_the_installed_app_and_its_forms(shared: Served) -> None:
    zh = shared.client.get("/", headers=HTML)
    page = _page(zh)
    assert page.headings["h2"] == ["客户管理"]
    assert {"/forms/account?lang=zh", "/forms/contact?lang=zh"} <= set(page.links)
    assert '<html lang="zh-CN">' in zh.text and "客户" in zh.text and "联系人" in zh.text

    en = shared.client.get("/", params={"lang": "en"}, headers=HTML)
    assert _page(en).headings["h2"] == ["CRM"]
    assert '<html lang="en">' in en.text
    assert ">Account</a>" in en.text and ">Contact</a>" in en.text


@pytest.fixture(scope="module")
def accounts(shared: Served) -> dict[str, dict[str, Any]]:
    """Accounts whose values the pages show: option labels, a user, several tags."""
    return {
        "core": create(
            shared.client,
            name=unique("page"),
            tier="core",
            revenue=1234.5,
            owner=1,
            tags=["vip", "new"],
            notes="一条备注",
        ),
        "growth": create(shared.client, name=unique("page"), tier="growth", employees=12),
        "script": create(shared.client, name=SCRIPT, notes='"><img src=x onerror=alert(2)>'),
    }


@pytest.mark.parametrize(
    ("lang", "headers", "tiers"),
    [
        (None, ["#", "编号", "名称", "等级", "收入", "负责人"], {"core": "核心客户", "growth": "成长客户"}),
        ("en", ["#", "No.", "Name", "Tier", "Revenue", "Owner"], {"core": "Core account", "growth": "Growth account"}),
    ],
)
def test_the_form_page_shows_records_with_option_labels(
    shared: Served, accounts: dict[str, dict[str, Any]], lang: str | None, headers: list[str], tiers: dict[str, str]
) -> None:
    page = _page(shared.client.get("/forms/account", params={"lang": lang} if lang else {}, headers=HTML))
    assert page.rows[0] == headers
    rows = _rows_by_first_cell(page)
    core, growth = accounts["core"], accounts["growth"]
    assert rows[str(core["id"])] == [core["code"], core["name"], tiers["core"], "1,234.50", "Alice 张"]
    assert rows[str(growth["id"])] == [growth["code"], growth["name"], tiers["growth"], "", ""]
    suffix = lang or "zh"
    assert f"/forms/account/{core['id']}?lang={suffix}" in page.links


def test_the_record_page_lays_out_the_form_sections(shared: Served, accounts: dict[str, dict[str, Any]]) -> None:
    core = accounts["core"]
    zh = _page(shared.client.get(f"/forms/account/{core['id']}", headers=HTML))
    assert zh.headings == {"h2": [core["name"]], "h3": ["基本信息", "财务"]}
    text = shared.client.get(f"/forms/account/{core['id']}", headers=HTML).text
    assert "核心客户" in text and "重要、新客户" in text and "Alice 张" in text and "一条备注" in text

    en = shared.client.get(f"/forms/account/{core['id']}", params={"lang": "en"}, headers=HTML)
    assert _page(en).headings["h3"] == ["Basics", "Finance"]
    assert "Core account" in en.text and "VIP、New" in en.text


def test_user_content_is_escaped_everywhere(shared: Served, accounts: dict[str, dict[str, Any]]) -> None:
    record = accounts["script"]
    listing = shared.client.get("/forms/account", params={"q": SCRIPT}, headers=HTML)
    assert _rows_by_first_cell(_page(listing))[str(record["id"])][1] == SCRIPT, "shown as text"
    detail = shared.client.get(f"/forms/account/{record['id']}", headers=HTML)
    missing = shared.client.get("/forms/<svg onload=alert(3)>", headers=HTML)
    assert missing.status_code == 404
    for response in (listing, detail, missing):
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text and "<svg" not in response.text
    assert listing.text.count(ESCAPED_SCRIPT) == 2, "the cell and the search box"
    assert ESCAPED_SCRIPT in detail.text and "&lt;img src=x onerror=alert(2)&gt;" in detail.text
    assert "unknown form &#39;&lt;svg onload=alert(3)&gt;&#39;" in missing.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/forms/nosuch", 404),
        ("/forms/account/987654321", 404),
        ("/forms/account/abc", 422),
        ("/forms/account?lang=fr", 422),
        ("/forms/account?colour=red", 422),
        ("/?page=2", 422),
    ],
)
def test_page_errors_are_html_for_browsers_and_json_otherwise(shared: Served, path: str, status: int) -> None:
    page = shared.client.get(path, headers=HTML)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h2>{status}</h2>" in page.text
    data = shared.client.get(path)
    assert data.status_code == status
    assert data.json()["ok"] is False and data.json()["status"] == status


API_ROUTES = {
    ("get", "/api/v1/apps"),
    ("get", "/api/v1/forms"),
    ("get", "/api/v1/forms/{form}"),
    ("get", "/api/v1/forms/{form}/records"),
    ("post", "/api/v1/forms/{form}/records"),
    ("get", "/api/v1/forms/{form}/records/{record_id}"),
    ("patch", "/api/v1/forms/{form}/records/{record_id}"),
    ("delete", "/api/v1/forms/{form}/records/{record_id}"),
    ("post", "/api/v1/forms/{form}/fields/{field}/files"),
    ("get", "/api/v1/files/{file_id}"),
    ("get", "/api/v1/forms/{form}/records/{record_id}/history"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/me/password"),
    ("get", "/api/v1/me/tokens"),
    ("post", "/api/v1/me/tokens"),
    ("delete", "/api/v1/me/tokens/{token_id}"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("patch", "/api/v1/users/{user_id}"),
    ("get", "/api/v1/roles"),
    ("get", "/api/v1/access/explain"),
}


def _declared_routes() -> set[tuple[str, str]]:
    """The routes the API router declares (so a new route cannot go undocumented unnoticed)."""
    return {
        (method.lower(), route.path)
        for router in (api.router, identity_api.router, auth.api_router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def test_openapi_documents_every_api_route(shared: Served) -> None:
    schema = shared.client.get("/openapi.json").json()
    documented = {
        (method, path) for path, item in schema["paths"].items() if path.startswith("/api/v1") for method in item
    }
    assert documented == API_ROUTES == _declared_routes()
    assert not any(path.startswith("/forms") or path == "/" for path in schema["paths"]), "pages are not API"
    for method in ("post", "patch"):
        operation = schema["paths"]["/api/v1/forms/{form}/records" + ("" if method == "post" else "/{record_id}")]
        assert operation[method]["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    listing = schema["paths"]["/api/v1/forms/{form}/records"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"filter", "sort", "limit", "cursor", "count", "expand", "q"}


def test_openapi_documents_the_error_shape_on_every_api_operation(shared: Served) -> None:
    schema = shared.client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"ok", "status", "error", "code", "issues"}
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in item.items():
            for status in ("404", "409", "413", "422"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_the_formula_interpreter_is_served_as_an_es_module(shared: Served) -> None:
    answer = shared.client.get("/static/expr/interpreter.js")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]
    assert "export function evaluate" in answer.text


def test_docs_page_is_served(shared: Served) -> None:
    docs = shared.client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert re.search(r"url: ['\"]/openapi\.json['\"]", docs.text)
