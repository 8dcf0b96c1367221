"""The site the browser tests run against: the shop app and the KAM starter on one database."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from shop_app import USERS, XSS_VALUE, write_bundle

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.identity import directory as identity
from engine.identity.auth import Authenticator
from engine.storage import directory
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.catalog import Catalog
from forms.install import install_bundle
from forms.records import SYSTEM_ACTOR, RecordsService

KAM = Path(__file__).parents[2] / "templates" / "kam_starter"
LOGIN, PASSWORD = "alice", "alice-browser-secret"  # the signed-in user of every browser test (an administrator)


@dataclass
class Site:
    """The running server, an API client for it, and the ids of the records installed with it."""

    url: str
    api: httpx.Client
    ids: dict[str, int]
    token: str = ""

    def record(self, form: str, record_id: int) -> dict[str, Any]:
        """A record as the API gives it (what the database holds)."""
        answer = self.api.get(f"/api/v1/forms/{form}/records/{record_id}")
        assert answer.status_code == 200, answer.text
        record: dict[str, Any] = answer.json()["record"]
        return record


def unique(prefix: str) -> str:
    """A value no other test uses (tests share the database)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def install_site(url: str, folder: Path) -> tuple[dict[str, int], str]:
    """Install the shop app and the KAM starter, users and the records the tests pick.

    Returns the records' ids and an API token of the administrator ``alice``.
    """
    database = Database(url)
    try:
        ensure_current(database)
        shop = write_bundle(folder / "shop")
        (shop / "roles").mkdir()
        role = {"kind": "role", "key": "shop_admin", "schema_version": 1, "label": "Admin", "admin": True}
        (shop / "roles" / "shop_admin.json").write_text(json.dumps(role), encoding="utf-8")
        for root in (shop, KAM):
            bundle, issues = load_bundle(root)
            assert bundle is not None, [issue.render() for issue in issues]
            assert install_bundle(database, bundle, apply=True).applied
        with database.begin() as connection:
            directory.add_users(connection, USERS)
            identity.set_roles(connection, 1, ["shop_admin"])
            identity.set_password(connection, 1, PASSWORD)
        token, _meta = Authenticator(database).create_token(1, "browser tests")
        records = RecordsService(database=database, catalog=Catalog(database))

        def create(form: str, **values: Any) -> int:
            return int(records.create(form, values, actor=SYSTEM_ACTOR)["id"])

        ids = {
            "settings": create("shop_settings", vat=0.13),
            "acme": create("client", name="Acme 公司", discount=0.1),
            "xss_client": create("client", name=XSS_VALUE, discount=0.2),
            "product": create("product_catalog", code="SCF-001", name="供应链金融"),
            "account": create(
                "account",
                name="华东精密制造",
                industry="manufacturing",
                region="east",
                customer_since="2020-01-01",
                primary_rm=1,
                tier="general",
            ),
        }
        return ids, token
    finally:
        database.dispose()
