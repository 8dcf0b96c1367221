"""The pages that create and edit records, fetched from a real server (the CRM app).

What the browser receives: an input per field (prefilled when editing), the form's sections,
the JSON spec its runtime reads, escaped user content, and the one error shape for bad URLs.
How the page behaves once its script runs is tested in a real browser (tests/browser/).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_checks import admin_token, create, unique
from crm_app import Served

from engine.definitions import load_bundle
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.fields import FIELD_TYPES
from forms.install import install_bundle

HTML = {"Accept": "text/html"}
SCRIPT = "<script>alert(1)</script>"


class _Editor(HTMLParser):
    """The elements of an editor page by id, its headings, links and embedded spec."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.headings: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.selected: dict[str, list[str]] = {}
        self.spec_text = ""
        self._stack: list[str] = []
        self._select: str | None = None
        self._capture: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.elements[str(found["id"])] = (tag, found)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "select":
            self._select = found.get("id")
        if tag == "option" and self._select and "selected" in found:
            self.selected.setdefault(self._select, []).append(str(found.get("value")))
        if tag in ("h2", "h3") or (tag == "script" and found.get("id") == "form-spec"):
            self._capture, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == self._capture:
            text = "".join(self._text)
            if tag == "script":
                self.spec_text = text
            else:
                self.headings.append((tag, text.strip()))
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._text.append(data)

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads(self.spec_text)
        return spec


def _editor(response: httpx.Response) -> _Editor:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = _Editor()
    page.feed(response.text)
    return page


def _tag(page: _Editor, element_id: str) -> str:
    return page.elements[element_id][0]


def _attr(page: _Editor, element_id: str, name: str) -> str | None:
    return page.elements[element_id][1].get(name)


def test_the_new_page_has_an_input_per_field_and_the_runtime_spec(shared: Served) -> None:
    page = _editor(shared.client.get("/forms/account/new", headers=HTML))
    assert page.headings == [("h2", "新建 · 客户"), ("h3", "基本信息"), ("h3", "财务"), ("h3", "其他")]
    assert (_tag(page, "in-name"), _attr(page, "in-name", "type")) == ("input", "text")
    assert _attr(page, "in-name", "aria-required") == "true" and "required" in page.elements["in-name"][1]
    assert _attr(page, "in-name", "maxlength") == "60"
    assert (_tag(page, "in-revenue"), _attr(page, "in-revenue", "type")) == ("input", "number")
    assert (_attr(page, "in-revenue", "min"), _attr(page, "in-revenue", "max")) == ("0.0", "1000000.0")
    assert _attr(page, "in-since", "type") == "date" and _attr(page, "in-active", "type") == "checkbox"
    assert _tag(page, "in-tier") == "select" and _tag(page, "in-tags") == "fieldset"
    assert _tag(page, "in-owner") == "select" and _tag(page, "in-notes") == "textarea"
    assert (_tag(page, "in-parent"), _attr(page, "in-parent", "data-target")) == ("select", "account")
    assert _tag(page, "search-parent") == "input"
    assert _tag(page, "in-items") == "table" and _tag(page, "row-items") == "template"
    assert _tag(page, "in-code") == "output", "an auto-number is the server's"
    assert _tag(page, "in-docs") == "output", "uploads go through the API"
    spec = page.spec
    assert (spec["form"], spec["record_id"], spec["version"], spec["lang"]) == ("account", None, None, "zh")
    fields = {field["key"]: field for field in spec["fields"]}
    assert list(fields) == [
        "code", "name", "tier", "revenue", "employees", "email", "since", "active", "tags",
        "parent", "owner", "items", "docs", "notes",
    ]  # fmt: skip
    assert fields["tier"]["options"] == [["core", "核心客户"], ["growth", "成长客户"]]
    assert fields["items"]["columns"][1] == {
        "key": "qty", "type": "number", "widget": "number", "editable": True, "required": True,
        "hidden": False, "label": "数量", "min": 1.0, "scale": 0,
    }  # fmt: skip
    assert spec["title_keys"] == {"parent": "name"}


def test_english_labels_with_lang_en(shared: Served) -> None:
    page = _editor(shared.client.get("/forms/account/new", params={"lang": "en"}, headers=HTML))
    assert page.headings[:3] == [("h2", "New · Account"), ("h3", "Basics"), ("h3", "Finance")]
    assert page.spec["lang"] == "en"
    assert {field["key"]: field["label"] for field in page.spec["fields"]}["tier"] == "Tier"


def test_the_edit_page_is_prefilled_with_the_record(shared: Served) -> None:
    parent = create(shared.client, name=unique("parent"))
    record = create(
        shared.client,
        tier="core",
        revenue=1234.5,
        tags=["vip"],
        parent=parent["id"],
        owner=2,
        items=[{"sku": "A", "qty": 2}],
    )
    response = shared.client.get(f"/forms/account/{record['id']}/edit", headers=HTML)
    page = _editor(response)
    assert page.headings[0] == ("h2", f"编辑 · 客户 #{record['id']}")
    assert _attr(page, "in-name", "value") == record["name"]
    assert _attr(page, "in-revenue", "value") == "1234.5"
    assert page.selected == {"in-tier": ["core"], "in-parent": [str(parent["id"])], "in-owner": ["2"]}
    assert f">{parent['name']}</option>" in response.text, "the related record's title"
    assert 'name="tags" value="vip" checked' in response.text
    assert page.spec["record_id"] == record["id"] and page.spec["version"] == record["version"]
    assert page.spec["values"]["items"] == record["items"]
    assert f"/forms/account/{record['id']}?lang=zh" in page.links


def test_the_list_and_record_pages_link_to_the_editor(shared: Served) -> None:
    record = create(shared.client)
    listing = shared.client.get("/forms/account", headers=HTML)
    assert 'href="/forms/account/new?lang=zh"' in listing.text and "新建" in listing.text
    detail = shared.client.get(f"/forms/account/{record['id']}", params={"lang": "en"}, headers=HTML)
    assert f'href="/forms/account/{record["id"]}/edit?lang=en"' in detail.text and ">Edit</a>" in detail.text


def test_user_content_is_escaped_on_the_editor(shared: Served) -> None:
    record = create(shared.client, name=SCRIPT, notes='"><img src=x onerror=alert(2)>')
    response = shared.client.get(f"/forms/account/{record['id']}/edit", headers=HTML)
    page = _editor(response)
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    assert _attr(page, "in-name", "value") == SCRIPT, "shown as text in the input"
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;</textarea>" in response.text
    assert "</" not in page.spec_text, "the JSON spec cannot end its script element"
    assert page.spec["values"]["name"] == SCRIPT


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/forms/nosuch/new", 404),
        ("/forms/nosuch/1/edit", 404),
        ("/forms/account/987654321/edit", 404),
        ("/forms/account/abc/edit", 422),
        ("/forms/account/0/edit", 422),
        ("/forms/account/new?lang=fr", 422),
        ("/forms/account/new?colour=red", 422),
    ],
)
def test_editor_errors_are_html_for_browsers_and_json_otherwise(shared: Served, path: str, status: int) -> None:
    page = shared.client.get(path, headers=HTML)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h2>{status}</h2>" in page.text
    data = shared.client.get(path)
    assert data.status_code == status
    assert data.json()["ok"] is False and data.json()["status"] == status


def _every_type_form() -> dict[str, Any]:
    """A form with one field of every registered type (a sub-table holds a text column)."""
    options = [{"value": "a", "label": "A"}]
    extra: dict[str, dict[str, Any]] = {
        "select": {"options": options},
        "multi_select": {"options": options},
        "relation": {"target": "every"},
        "multi_relation": {"target": "every"},
        "subtable": {"fields": [{"key": "line", "type": "text", "label": "Line"}]},
    }
    fields = [{"key": f"f_{name}", "type": name, "label": name, **extra.get(name, {})} for name in sorted(FIELD_TYPES)]
    return {"kind": "form", "key": "every", "schema_version": 1, "label": "Every", "fields": fields}


@pytest.fixture
def every_type_server(db_url: str, tmp_path: Path, live_server: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    root = tmp_path / "every"
    (root / "forms").mkdir(parents=True)
    app = {"kind": "app", "key": "every", "schema_version": 1, "label": "Every"}
    (root / "app.json").write_text(json.dumps(app), encoding="utf-8")
    (root / "forms" / "every.json").write_text(json.dumps(_every_type_form()), encoding="utf-8")
    database = Database(db_url)
    ensure_current(database)
    bundle, issues = load_bundle(root)
    assert bundle is not None, [issue.render() for issue in issues]
    assert install_bundle(database, bundle, apply=True).applied
    token = admin_token(database)
    database.dispose()
    yield live_server().url, token


def test_every_field_type_renders_on_both_pages(every_type_server: tuple[str, str]) -> None:
    url, token = every_type_server
    with httpx.Client(base_url=url, timeout=15, headers={"Authorization": f"Bearer {token}"}) as client:
        page = _editor(client.get("/forms/every/new", headers=HTML))
        assert {f"in-f_{name}" for name in FIELD_TYPES} <= set(page.elements)
        created = client.post("/api/v1/forms/every/records", json={"f_text": "x", "f_subtable": [{"line": "1"}]})
        assert created.status_code == 201, created.text
        edit = _editor(client.get(f"/forms/every/{created.json()['record']['id']}/edit", headers=HTML))
        assert _attr(edit, "in-f_text", "value") == "x"
        assert edit.spec["values"]["f_subtable"][0]["line"] == "1"
