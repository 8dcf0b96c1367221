"""Assertions shared by the web tests: the one error shape, and records made for one test."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from engine.storage.database import Database

RECORDS = "/api/v1/forms/account/records"
ISSUE_KEYS = {"code", "message", "file", "pointer", "line", "col", "hint", "field"}


def error_body(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is the API's one error shape with ``status`` (and ``code``); return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert set(body) == {"ok", "status", "error", "code", "issues"}, body
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["issues"], list), body
    for issue in body["issues"]:
        assert {"code", "message"} <= set(issue) <= ISSUE_KEYS, issue
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


def issue_fields(body: dict[str, Any]) -> dict[str, str]:
    """The issues of an error body as ``{field: code}``."""
    return {issue.get("field"): issue["code"] for issue in body["issues"]}


def unique(prefix: str = "t") -> str:
    """A name no other test uses (tests may share a database)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(client: httpx.Client, **values: Any) -> dict[str, Any]:
    """Create an account and return it (the test fails on anything but 201)."""
    values.setdefault("name", unique())
    response = client.post(RECORDS, json=values)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()["record"]
    return record


def check_no_server_error(response: httpx.Response) -> None:
    """An httpx response hook: no answer may be a 5xx or leak a traceback."""
    response.read()
    if response.status_code >= 500:
        # Let the server thread finish logging its traceback first: on CPython 3.11 formatting a
        # traceback parses source with ``ast`` in both threads at once, which can raise SystemError
        # ("AST constructor recursion depth mismatch") and abort the pytest session.
        time.sleep(0.5)
    assert response.status_code < 500, f"{response.request.method} {response.request.url}: {response.text}"
    assert "Traceback" not in response.text


def admin_token(database: Database, login: str = "admin") -> str:
    """Store an administrator role, a user holding it and an API token for them; return the token.

    For tests whose bundles define no roles: every API and page call needs a signed-in user.
    """
    import datetime as dt

    import sqlalchemy as sa

    from engine.identity import directory
    from engine.identity.auth import Authenticator
    from engine.storage import system

    role = {"kind": "role", "key": "test_admin", "schema_version": 1, "label": "Test admin", "admin": True}
    with database.begin() as connection:
        exists = connection.execute(
            sa.select(system.definitions.c.id).where(
                system.definitions.c.kind == "role", system.definitions.c.key == "test_admin"
            )
        ).first()
        if exists is None:
            connection.execute(
                sa.insert(system.definitions).values(
                    app_key="tests",
                    kind="role",
                    key="test_admin",
                    version=1,
                    content=role,
                    content_hash="test",
                    created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
        user_id = directory.create_user(connection, login=login, name="Admin", roles=["test_admin"])
    secret, _token = Authenticator(database).create_token(user_id, "tests")
    return secret
