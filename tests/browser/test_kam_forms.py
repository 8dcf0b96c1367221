"""The KAM starter's account and opportunity forms in a real browser: its rules, live and on save.

* opportunity: ``probability`` follows the stage (and the adjusted probability while the deal is
  open), ``weighted_amount`` follows it, ``probability_override`` is read-only once won or lost,
  ``lost_reason`` is required when lost;
* account: ``exec_sponsor`` is required for a strategic account (live); ``tier_override_reason``
  is required when the tier differs from ``tier_suggested``, a formula over data the page does
  not have: the server checks it on save and the page shows its answer at the field.
"""

from __future__ import annotations

import re

from browser_site import Site, unique
from playwright.sync_api import Page, expect

SAVED = re.compile(r"/forms/(account|opportunity)/(\d+)\?lang=zh$")


def open_form(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#record-form")).to_have_attribute("data-ready", "true")


def saved_id(page: Page) -> int:
    page.wait_for_url(SAVED)
    match = SAVED.search(page.url)
    assert match is not None
    return int(match.group(2))


def test_opportunity_stage_drives_probability_read_only_and_lost_reason(page: Page, site: Site) -> None:
    open_form(page, "/forms/opportunity/new")
    probability, weighted = page.locator("#in-probability"), page.locator("#in-weighted_amount")
    override, lost_reason = page.locator("#in-probability_override"), page.locator("#field-lost_reason")
    expect(page.locator("#in-stage")).to_have_value("identify")
    expect(probability).to_have_text("10.0%")
    page.fill("#in-amount", "1000000")
    expect(weighted).to_have_text("100,000.00")
    page.select_option("#in-stage", "negotiate")
    expect(probability).to_have_text("60.0%")
    page.fill("#in-probability_override", "75")
    expect(probability).to_have_text("75.0%")
    expect(weighted).to_have_text("750,000.00")

    page.select_option("#in-stage", "won")
    expect(probability).to_have_text("100.0%")
    expect(override).to_be_disabled()
    expect(lost_reason.locator(".req")).to_be_hidden()
    page.select_option("#in-stage", "lost")
    expect(probability).to_have_text("0.0%")
    expect(weighted).to_have_text("0.00")
    expect(override).to_be_disabled()
    expect(lost_reason.locator(".req")).to_be_visible()

    name = unique("商机")
    page.select_option("#in-account", str(site.ids["account"]))
    page.fill("#in-name", name)
    page.select_option("#in-product", str(site.ids["product"]))
    page.select_option("#in-source", "renewal")
    page.select_option("#in-owner", "1")
    page.fill("#in-expected_close", "2027-03-31")
    page.click("#save")
    expect(lost_reason.locator(".msg-required")).to_have_text("必填")
    page.select_option("#in-lost_reason", "price")
    expect(lost_reason.locator(".msg-required")).to_be_hidden()
    page.click("#save")

    record = site.record("opportunity", saved_id(page))
    expected = {"name": name, "stage": "lost", "lost_reason": "price", "probability": 0, "weighted_amount": 0}
    expected |= {"probability_override": None, "amount": 1000000, "account": site.ids["account"], "owner": 1}
    assert {key: record[key] for key in expected} == expected


def test_account_tier_rules_live_and_on_save(page: Page, site: Site) -> None:
    open_form(page, "/forms/account/new")
    sponsor, reason = page.locator("#field-exec_sponsor"), page.locator("#field-tier_override_reason")
    expect(sponsor.locator(".req")).to_be_hidden()
    expect(reason.locator(".note")).to_contain_text("服务器在保存时检查")
    name = unique("客户")
    page.fill("#in-name", name)
    page.select_option("#in-industry", "it")
    page.select_option("#in-region", "south")
    page.fill("#in-customer_since", "2019-06-01")
    expect(page.locator("#in-cooperation_years")).to_have_text(re.compile(r"^\d+\.\d$"))
    page.select_option("#in-primary_rm", "1")
    for key in ("strat_industry_influence", "strat_ecosystem_leverage", "strat_fit", "strat_relationship_depth"):
        page.fill(f"#in-{key}", "4")
    expect(page.locator("#in-score_strategic")).to_have_text("80.0")

    page.select_option("#in-tier", "strategic")
    expect(sponsor.locator(".req")).to_be_visible()
    page.click("#save")
    expect(sponsor.locator(".msg-required")).to_have_text("必填")
    page.select_option("#in-tier", "core")
    expect(sponsor.locator(".req")).to_be_hidden()
    expect(sponsor.locator(".msg-required")).to_be_hidden()

    suggested = site.record("account", site.ids["account"])["tier_suggested"]
    assert suggested != "core", "the server's suggestion for an account without data"
    page.click("#save")
    expect(reason.locator(".msg-server")).to_have_text("必填")
    page.fill("#in-tier_override_reason", "总部指定的核心客户")
    page.click("#save")
    record = site.record("account", saved_id(page))
    assert (record["name"], record["tier"], record["tier_override_reason"]) == (name, "core", "总部指定的核心客户")
    assert record["score_strategic"] == 80
