"""The CRM app the web tests install: forms ``account`` and ``contact``, two users."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.identity import directory as identity
from engine.identity.auth import Authenticator
from engine.storage import directory
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.install import install_bundle


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


ACCOUNT: dict[str, Any] = {
    "label": _label("客户", "Account"),
    "title_field": "name",
    "fields": [
        {"key": "code", "type": "autonumber", "label": _label("编号", "No."), "pattern": "AC-{0000}"},
        {
            "key": "name",
            "type": "text",
            "label": _label("名称", "Name"),
            "required": True,
            "unique": True,
            "max_length": 60,
        },
        {
            "key": "tier",
            "type": "select",
            "label": _label("等级", "Tier"),
            "options": [
                {"value": "core", "label": _label("核心客户", "Core account")},
                {"value": "growth", "label": _label("成长客户", "Growth account")},
            ],
        },
        {"key": "revenue", "type": "currency", "label": _label("收入", "Revenue"), "min": 0, "max": 1000000},
        {"key": "employees", "type": "number", "label": _label("员工数", "Employees"), "min": 1, "max": 100000},
        {"key": "email", "type": "email", "label": _label("邮箱", "E-mail")},
        {"key": "since", "type": "date", "label": _label("起始日期", "Since")},
        {"key": "active", "type": "boolean", "label": _label("有效", "Active")},
        {
            "key": "tags",
            "type": "multi_select",
            "label": _label("标签", "Tags"),
            "options": [
                {"value": "vip", "label": _label("重要", "VIP")},
                {"value": "new", "label": _label("新客户", "New")},
                {"value": "合作", "label": _label("合作伙伴", "Partner")},
            ],
        },
        {
            "key": "parent",
            "type": "relation",
            "target": "account",
            "on_delete": "set_null",
            "label": _label("上级客户", "Parent"),
        },
        {"key": "owner", "type": "user", "label": _label("负责人", "Owner")},
        {
            "key": "items",
            "type": "subtable",
            "label": _label("明细", "Items"),
            "fields": [
                {"key": "sku", "type": "text", "label": "SKU", "required": True, "max_length": 20},
                {"key": "qty", "type": "number", "label": _label("数量", "Qty"), "required": True, "min": 1},
                {"key": "price", "type": "currency", "label": _label("单价", "Price")},
            ],
        },
        {
            "key": "docs",
            "type": "attachment",
            "label": _label("附件", "Documents"),
            "max_size": 2048,
            "accept": [".pdf", ".txt"],
        },
        {"key": "notes", "type": "textarea", "label": _label("备注", "Notes"), "max_length": 200},
    ],
    "layout": [
        {"section": _label("基本信息", "Basics"), "fields": ["code", "name", "tier", "owner", "tags"]},
        {"section": _label("财务", "Finance"), "fields": ["revenue", "employees", "notes"]},
    ],
    "list": {"columns": ["code", "name", "tier", "revenue", "owner"]},
}

CONTACT: dict[str, Any] = {
    "label": _label("联系人", "Contact"),
    "fields": [
        {"key": "name", "type": "text", "label": _label("姓名", "Name"), "required": True},
        {
            "key": "account",
            "type": "relation",
            "target": "account",
            "required": True,
            "label": _label("客户", "Account"),
        },
    ],
}

APP_KEY = "crm"
USERS = [{"id": 1, "login": "alice", "name": "Alice 张"}, {"id": 2, "login": "bob", "name": "Bob 李"}]
ROLES: dict[str, dict[str, Any]] = {
    "crm_admin": {"label": _label("管理员", "Administrator"), "admin": True},
}
USER_ROLES = {1: ["crm_admin"]}  # alice administers; bob has no role


def write_bundle(root: Path) -> Path:
    """Write the CRM bundle (app ``crm``: forms ``account`` and ``contact``) under ``root``."""
    (root / "forms").mkdir(parents=True)
    app = {"kind": "app", "key": APP_KEY, "schema_version": 1, "label": _label("客户管理", "CRM")}
    (root / "app.json").write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
    for key, document in (("account", ACCOUNT), ("contact", CONTACT)):
        full = {"kind": "form", "key": key, "schema_version": 1, **document}
        (root / "forms" / f"{key}.json").write_text(json.dumps(full, ensure_ascii=False), encoding="utf-8")
    (root / "roles").mkdir()
    for key, role in ROLES.items():
        full = {"kind": "role", "key": key, "schema_version": 1, **role}
        (root / "roles" / f"{key}.json").write_text(json.dumps(full, ensure_ascii=False), encoding="utf-8")
    return root


def install_crm(db_url: str, root: Path) -> str:
    """Create the engine tables, install the CRM bundle and add the users; return alice's API token."""
    database = Database(db_url)
    try:
        ensure_current(database)
        bundle, issues = load_bundle(write_bundle(root))
        assert bundle is not None, [issue.render() for issue in issues]
        assert install_bundle(database, bundle, apply=True).applied
        with database.begin() as connection:
            directory.add_users(connection, USERS)
            directory.sync_sequences(connection, ["tessera_users"])
            for user_id, roles in USER_ROLES.items():
                identity.set_roles(connection, user_id, roles)
        secret, _token = Authenticator(database).create_token(1, "tests")
        return secret
    finally:
        database.dispose()


@dataclass
class Served:
    """A running server with the CRM app and a client for it."""

    url: str
    client: httpx.Client
    database: Database | None = None  # the server's own connection pool (servers of ``serve`` only)
