"""The record editor in a real browser: live formulas and rules, saving through the API.

Clicks and types like a person on the ``quote`` form of ``shop_app.py`` and reads what the page
shows; saved records are read back through the API (what the database holds).
"""

from __future__ import annotations

import datetime as dt
import re

from browser_site import Site, unique
from playwright.sync_api import Page, expect
from shop_app import XSS_LABEL, XSS_VALUE

NEW = "/forms/quote/new"


def open_form(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#record-form")).to_have_attribute("data-ready", "true")


def computed(page: Page, key: str) -> str:
    return page.locator(f"#in-{key}").inner_text()


def test_formula_previews_follow_typing_relations_settings_and_rows(page: Page, site: Site) -> None:
    open_form(page, NEW)
    page.fill("#in-qty", "3")
    page.fill("#in-price", "12.5")
    expect(page.locator("#in-total")).to_have_text("37.50")
    expect(page.locator("#in-total")).to_have_class(re.compile(r"\bcomputed\b"))
    page.fill("#in-qty", "4")
    expect(page.locator("#in-total")).to_have_text("50.00")

    page.select_option("#in-client", str(site.ids["acme"]))  # fetched from the API: client.discount
    expect(page.locator("#in-client_discount")).to_have_text("10.0%")
    expect(page.locator("#in-net")).to_have_text("45.00")
    expect(page.locator("#in-gross")).to_have_text("50.85")  # the shop_settings singleton: VAT 13 %
    page.select_option("#in-client", "")
    expect(page.locator("#in-client_discount")).to_have_text("")
    expect(page.locator("#in-net")).to_have_text("50.00")

    page.click("button.add-row")
    page.click("button.add-row")
    rows = page.locator("#in-items tbody tr")
    rows.nth(0).locator('input[data-col="amount"]').fill("5")
    rows.nth(1).locator('input[data-col="amount"]').fill("7.25")
    expect(page.locator("#in-items_total")).to_have_text("12.25")
    rows.nth(0).locator("button.remove-row").click()
    expect(page.locator("#in-items_total")).to_have_text("7.25")


def test_visible_if_and_required_if_show_mark_and_block_the_save(page: Page) -> None:
    open_form(page, NEW)
    spec = page.locator("#field-spec")
    expect(spec).to_be_hidden()
    page.select_option("#in-kind", "custom")
    expect(spec).to_be_visible()
    expect(spec.locator(".req")).to_be_visible()
    expect(page.locator("#in-spec")).to_have_attribute("aria-required", "true")
    expect(page.locator("#in-spec")).to_have_attribute("required", "")

    page.fill("#in-title", unique("required"))
    page.click("#save")
    expect(spec.locator(".msg-required")).to_have_text("必填")
    expect(page.locator("#form-messages")).to_contain_text("请修正标出的问题")
    expect(page).to_have_url(re.compile(r"/forms/quote/new$"))
    page.fill("#in-spec", "蓝色外壳")
    expect(spec.locator(".msg-required")).to_be_hidden()

    page.select_option("#in-kind", "standard")
    expect(spec).to_be_hidden()
    expect(page.locator("#in-spec")).to_have_attribute("aria-required", "false")


def test_readonly_if_disables_the_input(page: Page) -> None:
    open_form(page, NEW)
    note = page.locator("#in-approval_note")
    expect(note).to_be_enabled()
    page.select_option("#in-status", "approved")
    expect(note).to_be_disabled()
    page.select_option("#in-status", "draft")
    expect(note).to_be_enabled()


def test_defaults_prefill_a_new_record_until_the_user_changes_them(page: Page) -> None:
    open_form(page, NEW)
    today = dt.datetime.now(dt.UTC).date()
    expect(page.locator("#in-valid_until")).to_have_value((today + dt.timedelta(days=30)).isoformat())
    expect(page.locator("#in-kind")).to_have_value("standard")
    expect(page.locator("#in-status")).to_have_value("draft")
    chosen = (today + dt.timedelta(days=3)).isoformat()
    page.fill("#in-valid_until", chosen)
    page.fill("#in-qty", "2")
    expect(page.locator("#in-valid_until")).to_have_value(chosen)


def test_assert_messages_appear_and_disappear_at_their_field(page: Page) -> None:
    open_form(page, NEW)
    messages = page.locator("#field-qty .msg-rules")
    expect(messages).to_be_hidden()
    page.fill("#in-qty", "150")
    expect(messages).to_be_visible()
    expect(messages).to_have_text("数量不能超过 100")
    page.fill("#in-qty", "100")
    expect(messages).to_be_hidden()

    page.fill("#in-valid_until", "2001-01-01")
    expect(page.locator("#field-valid_until .msg-rules")).to_have_text("有效期不能早于今天")
    page.fill("#in-title", unique("assert"))
    page.click("#save")
    expect(page).to_have_url(re.compile(r"/forms/quote/new$"))
    page.fill("#in-valid_until", "")
    expect(page.locator("#field-valid_until .msg-rules")).to_be_hidden()


def test_server_errors_the_browser_cannot_know_show_next_to_their_field(page: Page, site: Site) -> None:
    taken = unique("Q")
    assert site.api.post("/api/v1/forms/quote/records", json={"title": "first", "code": taken}).status_code == 201
    open_form(page, NEW)
    page.fill("#in-title", unique("server"))
    page.fill("#in-code", taken)
    page.fill("#in-qty", "-1")  # the field's minimum is the server's to check
    page.click("#save")
    expect(page.locator("#field-qty .msg-server")).to_have_text("不能小于 0")
    expect(page.locator("#form-messages")).to_contain_text("提交的数据有误")

    page.fill("#in-qty", "1")
    expect(page.locator("#field-qty .msg-server")).to_be_hidden()
    page.click("#save")
    expect(page.locator("#field-code .msg-server")).to_have_text(f"该值已存在：{taken}")
    expect(page).to_have_url(re.compile(r"/forms/quote/new$"))


def test_a_saved_record_lands_on_its_page_with_the_stored_values(page: Page, site: Site) -> None:
    title = unique("saved")
    open_form(page, NEW)
    page.fill("#in-title", title)
    page.select_option("#in-client", str(site.ids["acme"]))
    page.fill("#in-qty", "3")
    page.fill("#in-price", "12.5")
    page.check("#in-urgent")
    page.check('#in-tags input[value="hot"]')
    page.select_option("#in-owner", "2")
    page.click("button.add-row")
    page.locator('#in-items input[data-col="sku"]').fill("A-1")
    page.locator('#in-items input[data-col="amount"]').fill("9.99")
    expect(page.locator("#in-gross")).to_have_text("38.14")
    page.click("#save")

    page.wait_for_url(re.compile(r"/forms/quote/\d+\?lang=zh$"))
    expect(page.locator("h2")).to_have_text(title)
    record_id = int(page.url.split("/")[-1].split("?")[0])
    record = site.record("quote", record_id)
    expected = {"title": title, "client": site.ids["acme"], "qty": 3, "price": 12.5, "total": 37.5}
    expected |= {"client_discount": 0.1, "net": 33.75, "gross": 38.14, "kind": "standard", "status": "draft"}
    expected |= {"urgent": True, "tags": ["hot"], "owner": 2, "items_total": 9.99, "spec": None}
    assert {key: record[key] for key in expected} == expected
    assert [(row["sku"], row["amount"]) for row in record["items"]] == [("A-1", 9.99)]
    today = dt.datetime.now(dt.UTC).date()
    assert record["valid_until"] == (today + dt.timedelta(days=30)).isoformat()


def test_the_edit_page_sends_the_changes_with_the_version(page: Page, site: Site) -> None:
    created = site.api.post(
        "/api/v1/forms/quote/records",
        json={
            "title": unique("edit"),
            "qty": 2,
            "price": 10,
            "tags": ["renewal"],
            "items": [{"sku": "S", "amount": 1}],
        },
    ).json()["record"]
    page.goto(f"/forms/quote/{created['id']}?lang=zh")
    page.click("text=编辑")
    expect(page.locator("#record-form")).to_have_attribute("data-ready", "true")
    expect(page.locator("#in-qty")).to_have_value("2")
    expect(page.locator("#in-total")).to_have_text("20.00")
    expect(page.locator('#in-tags input[value="renewal"]')).to_be_checked()
    page.fill("#in-price", "11")
    expect(page.locator("#in-total")).to_have_text("22.00")
    page.click("#save")
    page.wait_for_url(re.compile(rf"/forms/quote/{created['id']}\?lang=zh$"))
    record = site.record("quote", created["id"])
    assert (record["version"], record["price"], record["total"], record["qty"]) == (2, 11, 22, 2)
    assert record["tags"] == ["renewal"] and [row["sku"] for row in record["items"]] == ["S"]

    open_form(page, f"/forms/quote/{created['id']}/edit")
    assert site.api.patch(f"/api/v1/forms/quote/records/{created['id']}", json={"qty": 5, "version": 2}).is_success
    page.fill("#in-price", "12")
    page.click("#save")
    expect(page.locator("#form-messages")).to_contain_text("记录已被他人修改")
    assert site.record("quote", created["id"])["price"] == 11


def test_user_content_in_labels_and_values_is_shown_as_text(page: Page, site: Site) -> None:
    created = site.api.post("/api/v1/forms/quote/records", json={"title": XSS_VALUE, "notes": XSS_VALUE})
    assert created.status_code == 201
    open_form(page, f"/forms/quote/{created.json()['record']['id']}/edit")
    expect(page.locator("#label-notes")).to_have_text(XSS_LABEL, use_inner_text=True)
    expect(page.locator("#in-title")).to_have_value(XSS_VALUE)
    expect(page.locator("#in-notes")).to_have_value(XSS_VALUE)
    option = page.locator(f'#in-client option[value="{site.ids["xss_client"]}"]')
    expect(option).to_have_text(XSS_VALUE)
    page.select_option("#in-client", str(site.ids["xss_client"]))
    expect(page.locator("#in-client_discount")).to_have_text("20.0%")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#field-notes img").count() == 0


def test_english_labels_with_lang_en(page: Page) -> None:
    open_form(page, f"{NEW}?lang=en")
    expect(page.locator("#label-qty")).to_contain_text("Quantity")
    expect(page.locator("h2")).to_have_text("New · Quote")
    page.fill("#in-qty", "101")
    expect(page.locator("#field-qty .msg-rules")).to_have_text("at most 100 units")
