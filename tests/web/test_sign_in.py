"""Signing in over real HTTP: what is anonymous, the login page, session cookies, CSRF, tokens, admin routes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from api_checks import error_body
from crm_app import Served

from engine.identity import directory
from engine.storage.database import Database

pytestmark = pytest.mark.pg

ALICE_PASSWORD = "alice's long secret"  # alice administers the CRM app (crm_admin); bob has no role
BOB_PASSWORD = "bob's long secret 2"


OPEN: list[httpx.Client] = []


@pytest.fixture
def site(served: Served) -> Iterator[Served]:
    assert served.database is not None
    with served.database.begin() as connection:
        directory.set_password(connection, 1, ALICE_PASSWORD)
        directory.set_password(connection, 2, BOB_PASSWORD)
    yield served
    while OPEN:
        OPEN.pop().close()


def anonymous(site: Served) -> httpx.Client:
    return httpx.Client(base_url=site.url, timeout=15, follow_redirects=False)


def sign_in(site: Served, login: str, password: str) -> httpx.Client:
    """A browser-like client signed in through the login form (closed when the test ends)."""
    client = anonymous(site)
    OPEN.append(client)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login", data={"login": login, "password": password, "csrf_token": token.group(1), "next": "/forms/account"}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/forms/account"
    return client


def csrf_of(client: httpx.Client) -> str:
    token = client.get("/api/v1/me").json()["csrf_token"]
    assert isinstance(token, str) and token
    return token


@pytest.mark.parametrize("path", ["/api/v1/forms", "/api/v1/me", "/api/v1/users", "/openapi.json", "/docs"])
def test_the_api_and_its_docs_need_a_signed_in_user(site: Served, path: str) -> None:
    with anonymous(site) as client:
        response = client.get(path)
    assert error_body(response, 401, "not_authenticated")["error"] == "请先登录"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/", "/forms/account", "/forms/account/1"])
def test_pages_send_nobody_to_the_login_page(site: Served, path: str) -> None:
    with anonymous(site) as client:
        response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_only_health_login_and_static_files_are_anonymous(site: Served) -> None:
    with anonymous(site) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/login").status_code == 200
        assert client.get("/static/expr/interpreter.js").status_code == 200
        assert client.post("/api/v1/forms/account/records", json={"name": "x"}).status_code == 401


def test_login_form_sets_a_signed_httponly_cookie_and_logout_ends_it(site: Served) -> None:
    client = sign_in(site, "alice", ALICE_PASSWORD)
    cookie = next(c for c in client.cookies.jar if c.name == "tessera_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert (cookie.get_nonstandard_attr("SameSite") or "").lower() == "lax"
    page = client.get("/forms/account")
    assert page.status_code == 200 and "Alice 张" in page.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None and token.group(1) == csrf_of(client)
    assert client.post("/logout").status_code == 403, "logout is a mutation: it needs the CSRF token"
    old = client.cookies.get("tessera_session")
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    assert client.cookies.get("tessera_session") is None, "the browser is told to forget the cookie"
    with anonymous(site) as replay:
        replay.cookies.set("tessera_session", old or "")
        assert error_body(replay.get("/api/v1/me"), 401, "session_expired"), "and the server forgot the session"


def test_a_wrong_password_shows_the_form_again_with_the_reason(site: Served) -> None:
    with anonymous(site) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post("/login", data={"login": "alice", "password": "nope", "csrf_token": token.group(1)})
        assert answer.status_code == 401
        assert "登录名或密码错误" in answer.text and 'value="alice"' in answer.text
        forged = client.post("/login", data={"login": "alice", "password": ALICE_PASSWORD, "csrf_token": "forged"})
        assert forged.status_code == 403 and "tessera_session" not in forged.headers.get("set-cookie", "")


def test_repeated_failures_are_throttled_over_http(site: Served) -> None:
    with anonymous(site) as client:
        statuses = [
            client.post("/api/v1/auth/login", json={"login": "bob", "password": f"wrong {i}"}).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]
        locked = client.post("/api/v1/auth/login", json={"login": "bob", "password": BOB_PASSWORD})
        assert error_body(locked, 429, "too_many_attempts") and int(locked.headers["retry-after"]) > 0


def test_cookie_mutations_need_the_csrf_token(site: Served) -> None:
    client = sign_in(site, "alice", ALICE_PASSWORD)
    refused = client.post("/api/v1/forms/account/records", json={"name": "No CSRF"})
    assert error_body(refused, 403, "csrf_failed")
    wrong = client.post("/api/v1/forms/account/records", json={"name": "Bad"}, headers={"X-CSRF-Token": "x"})
    assert error_body(wrong, 403, "csrf_failed")
    made = client.post(
        "/api/v1/forms/account/records", json={"name": "With CSRF"}, headers={"X-CSRF-Token": csrf_of(client)}
    )
    assert made.status_code == 201
    history = client.get(f"/api/v1/forms/account/records/{made.json()['record']['id']}/history").json()["items"]
    assert [(h["action"], h["via"], h["user"]["login"]) for h in history] == [("create", "ui", "alice")]


@pytest.mark.parametrize("forge", ["garbage", "a.b", "x" * 500])
def test_a_forged_session_cookie_is_refused(site: Served, forge: str) -> None:
    with anonymous(site) as client:
        client.cookies.set("tessera_session", forge)
        assert error_body(client.get("/api/v1/forms"), 401, "session_expired")


def test_api_login_takes_json_only_and_answers_the_csrf_token(site: Served) -> None:
    with anonymous(site) as client:
        form = client.post("/api/v1/auth/login", data={"login": "alice", "password": ALICE_PASSWORD})
        assert error_body(form, 415, "unsupported_media_type")
        missing = client.post("/api/v1/auth/login", json={"login": "alice"})
        assert [i["field"] for i in error_body(missing, 422, "invalid")["issues"]] == ["password"]
        answer = client.post("/api/v1/auth/login", json={"login": "alice", "password": ALICE_PASSWORD})
        assert answer.status_code == 200 and answer.json()["user"]["login"] == "alice"
        assert client.get("/api/v1/me").json()["csrf_token"] == answer.json()["csrf_token"]


def test_tokens_over_the_api_are_shown_once_and_revocable(site: Served) -> None:
    client = site.client  # alice's token
    made = client.post("/api/v1/me/tokens", json={"name": "script"})
    assert made.status_code == 201
    secret, token = made.json()["secret"], made.json()["token"]
    listed = client.get("/api/v1/me/tokens").json()["items"]
    assert secret not in str(listed) and "script" in [t["name"] for t in listed]
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {secret}"}) as other:
        assert other.get("/api/v1/me").json()["user"]["login"] == "alice"
        assert other.get("/api/v1/me").json()["csrf_token"] is None
        assert client.delete(f"/api/v1/me/tokens/{token['id']}").status_code == 204
        assert error_body(other.get("/api/v1/me"), 401, "bad_token")
    assert error_body(client.post("/api/v1/me/tokens", json={"name": ""}), 422, "invalid")
    bad_expiry = client.post("/api/v1/me/tokens", json={"name": "x", "expires_at": "tomorrow"})
    assert [i["field"] for i in error_body(bad_expiry, 422, "invalid")["issues"]] == ["expires_at"]


def test_a_user_without_a_role_sees_nothing_and_is_told_why(site: Served) -> None:
    client = sign_in(site, "bob", BOB_PASSWORD)
    assert client.get("/api/v1/forms").json()["items"] == []
    assert client.get("/api/v1/apps").json()["items"][0]["forms"] == []
    assert "还没有分配任何角色" in error_body(client.get("/api/v1/forms/account/records"), 404, "no_role")["error"]
    assert error_body(client.get("/api/v1/users"), 403, "admin_only")


def test_administrators_manage_users_and_every_change_is_explained(site: Served) -> None:
    client = site.client
    made = client.post(
        "/api/v1/users", json={"login": "carol", "name": "Carol", "password": "carol's secret", "roles": ["crm_admin"]}
    )
    assert made.status_code == 201 and made.json()["user"]["roles"] == ["crm_admin"]
    assert error_body(client.post("/api/v1/users", json={"login": "carol", "name": "C"}), 409, "login_taken")
    unknown = client.post("/api/v1/users", json={"login": "dave", "name": "D", "roles": ["wizard"]})
    assert error_body(unknown, 422, "unknown_role")
    weak = client.post("/api/v1/users", json={"login": "erin", "name": "E", "password": "short"})
    assert [i["field"] for i in error_body(weak, 422, "weak_password")["issues"]] == ["password"]
    carol = made.json()["user"]["id"]
    assert client.patch(f"/api/v1/users/{carol}", json={"active": False}).json()["user"]["active"] is False
    with anonymous(site) as other:
        denied = other.post("/api/v1/auth/login", json={"login": "carol", "password": "carol's secret"})
        assert error_body(denied, 401, "user_disabled")
    explained = client.get("/api/v1/access/explain", params={"user": "bob", "form": "account"}).json()
    assert explained["actions"]["read"] == {"allowed": False, "reason": "the user has no role", "grants": []}
    mine = client.get("/api/v1/access/explain", params={"form": "account", "record": 1}).json()
    assert mine["actions"]["delete"]["grants"][0]["why"] == "role 'crm_admin' (administrator)"
    assert error_body(client.get("/api/v1/access/explain", params={"user": "zed", "form": "account"}), 404)


def test_injection_in_filters_and_sort_is_refused_or_inert(site: Served) -> None:
    client = site.client
    client.post("/api/v1/forms/account/records", json={"name": "Acme"})
    inert = client.get("/api/v1/forms/account/records", params={"filter": "name:eq:x' OR '1'='1"})
    assert inert.status_code == 200 and inert.json()["items"] == []
    for sort in ("name;DROP TABLE crm__account", "name desc", "(select 1)"):
        assert error_body(client.get("/api/v1/forms/account/records", params={"sort": sort}), 422, "bad_sort")
    assert client.get("/api/v1/forms/account/records").json()["items"][0]["name"] == "Acme"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(site: Served, target: str) -> None:
    with anonymous(site) as client:
        page = client.get("/login", params={"next": target})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/login", data={"login": "alice", "password": ALICE_PASSWORD, "csrf_token": token.group(1), "next": target}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_the_signing_key_survives_a_restart(site: Served, db_url: str) -> None:
    client = sign_in(site, "alice", ALICE_PASSWORD)
    database = Database(db_url)
    try:
        from engine.identity.auth import Authenticator

        cookie = client.cookies.get("tessera_session")
        assert cookie is not None and Authenticator(database).session(cookie) is not None
    finally:
        database.dispose()
