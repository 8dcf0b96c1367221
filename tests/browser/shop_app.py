"""The app the browser tests install: quotes for clients, exercising every kind of form rule.

``quote`` has a formula over its own fields (``total``), one through a relation
(``client_discount``), one over a sub-table (``items_total``), one reading a singleton
(``gross``), ``visible_if`` + ``required_if`` (``spec``), ``readonly_if`` (``approval_note``),
an expression default (``valid_until``), two ``assert`` rules, a unique field (``code``), a
bounded number (``qty``: the browser leaves ``min`` to the server) and a label with markup in it.
``client.open_quotes`` reads the quotes pointing at a client: a formula only the server computes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

XSS_LABEL = "备注 <img src=x onerror=window.__xss=1>"
XSS_VALUE = "<script>window.__xss=2</script>"


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _options(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"value": value, "label": _label(zh, en)} for value, zh, en in pairs]


CLIENT: dict[str, Any] = {
    "label": _label("客户", "Client"),
    "title_field": "name",
    "fields": [
        {"key": "name", "type": "text", "label": _label("客户名称", "Client name"), "required": True, "unique": True},
        {"key": "discount", "type": "percent", "label": _label("折扣", "Discount"), "min": 0, "max": 1},
        {
            "key": "open_quotes",
            "type": "number",
            "label": _label("未结报价", "Open quotes"),
            "formula": 'COUNTIF(quote, status = "draft")',
        },
    ],
}

SETTINGS: dict[str, Any] = {
    "label": _label("参数", "Settings"),
    "singleton": True,
    "fields": [{"key": "vat", "type": "percent", "label": _label("增值税率", "VAT")}],
}

QUOTE: dict[str, Any] = {
    "label": _label("报价单", "Quote"),
    "title_field": "title",
    "fields": [
        {"key": "title", "type": "text", "label": _label("标题", "Title"), "required": True, "max_length": 80},
        {"key": "code", "type": "text", "label": _label("编号", "Code"), "unique": True},
        {
            "key": "client",
            "type": "relation",
            "target": "client",
            "on_delete": "set_null",
            "label": _label("客户", "Client"),
        },
        {
            "key": "kind",
            "type": "select",
            "label": _label("类型", "Kind"),
            "required": True,
            "default": "standard",
            "options": _options(("standard", "标准", "Standard"), ("custom", "定制", "Custom")),
        },
        {
            "key": "spec",
            "type": "textarea",
            "label": _label("定制说明", "Custom spec"),
            "visible_if": 'kind = "custom"',
            "required_if": 'kind = "custom"',
        },
        {"key": "qty", "type": "number", "label": _label("数量", "Quantity"), "min": 0},
        {"key": "price", "type": "currency", "label": _label("单价", "Unit price")},
        {"key": "total", "type": "currency", "label": _label("金额", "Total"), "formula": "qty * price"},
        {
            "key": "client_discount",
            "type": "percent",
            "label": _label("客户折扣", "Client discount"),
            "formula": "client.discount",
        },
        {
            "key": "net",
            "type": "currency",
            "label": _label("折后金额", "Net"),
            "formula": "ROUND(total * (1 - client_discount), 2)",
        },
        {
            "key": "gross",
            "type": "currency",
            "label": _label("含税金额", "Gross"),
            "formula": "ROUND(net * (1 + shop_settings.vat), 2)",
        },
        {
            "key": "status",
            "type": "select",
            "label": _label("状态", "Status"),
            "default": "draft",
            "options": _options(("draft", "草稿", "Draft"), ("approved", "已批准", "Approved")),
        },
        {
            "key": "approval_note",
            "type": "text",
            "label": _label("审批意见", "Approval note"),
            "readonly_if": 'status = "approved"',
        },
        {"key": "valid_until", "type": "date", "label": _label("有效期至", "Valid until"), "default": "=TODAY() + 30"},
        {"key": "urgent", "type": "boolean", "label": _label("加急", "Urgent")},
        {
            "key": "tags",
            "type": "multi_select",
            "label": _label("标签", "Tags"),
            "options": _options(("hot", "重点", "Hot"), ("renewal", "续约", "Renewal")),
        },
        {"key": "owner", "type": "user", "label": _label("负责人", "Owner")},
        {
            "key": "items",
            "type": "subtable",
            "label": _label("明细", "Items"),
            "fields": [
                {"key": "sku", "type": "text", "label": "SKU", "required": True, "max_length": 20},
                {"key": "amount", "type": "currency", "label": _label("金额", "Amount")},
            ],
        },
        {
            "key": "items_total",
            "type": "currency",
            "label": _label("明细合计", "Items total"),
            "formula": "SUM(items.amount)",
        },
        {"key": "notes", "type": "textarea", "label": _label(XSS_LABEL, XSS_LABEL)},
    ],
    "layout": [
        {"section": _label("基本信息", "Basics"), "fields": ["title", "code", "client", "kind", "spec", "status"]},
        {"section": _label("金额", "Amounts"), "fields": ["qty", "price", "total", "client_discount", "net", "gross"]},
    ],
    "rules": [
        {"assert": "qty <= 100", "field": "qty", "message": _label("数量不能超过 100", "at most 100 units")},
        {
            "assert": "OR(ISBLANK(valid_until), valid_until >= TODAY())",
            "field": "valid_until",
            "message": _label("有效期不能早于今天", "must not be in the past"),
        },
    ],
}

USERS = [{"id": 1, "login": "alice", "name": "Alice 张"}, {"id": 2, "login": "bob", "name": "Bob 李"}]


def write_bundle(root: Path) -> Path:
    """Write the ``shop`` bundle (forms ``client``, ``shop_settings``, ``quote``) under ``root``."""
    (root / "forms").mkdir(parents=True)
    app = {"kind": "app", "key": "shop", "schema_version": 1, "label": _label("报价", "Quotes")}
    (root / "app.json").write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
    for key, document in (("client", CLIENT), ("shop_settings", SETTINGS), ("quote", QUOTE)):
        full = {"kind": "form", "key": key, "schema_version": 1, **document}
        (root / "forms" / f"{key}.json").write_text(json.dumps(full, ensure_ascii=False), encoding="utf-8")
    return root
