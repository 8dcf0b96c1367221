"""Passwords, sign-in, throttling, sessions and API tokens (engine/identity), on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from engine.identity import directory
from engine.identity.auth import FREE_FAILURES, MAX_LOCK, SESSION_LIFETIME, Authenticator, AuthError
from engine.identity.passwords import hash_password, needs_rehash, password_problem, verify_password
from engine.issues import ConflictError, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.database import Database

pytestmark = pytest.mark.pg

PASSWORD = "correct horse 42"


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 28, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(database: Database, clock: Clock) -> Authenticator:
    with database.begin() as connection:
        directory.create_user(connection, login="alice", name="Alice 张", password=PASSWORD, roles=["rm"])
        directory.create_user(connection, login="bob", name="Bob 李", password="another secret 7")
    return Authenticator(database, clock=clock)


def _user_id(database: Database, login: str) -> int:
    with database.read() as connection:
        found = directory.find_user(connection, login)
    assert found is not None
    return int(found["id"])


# -- passwords ----------------------------------------------------------------------------------


def test_hashes_are_argon2id_salted_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)
    assert not verify_password(first, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(first) and needs_rehash("not a hash")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("x" * 257, "at most 256"),
        ("alice123", None),
        ("Alice", "at least 8"),
        ("aaaaaaaaaa", "too simple"),
    ],
)
def test_password_policy(password: str, problem: str | None) -> None:
    found = password_problem(password, login="somebody", locale="en")
    assert (found is None) if problem is None else (problem in (found or ""))
    assert password_problem("alice.wong", login="ALICE.WONG", locale="en") == "the password must differ from the login"
    assert password_problem("short", locale="zh") == "密码至少需要 8 个字符"


# -- login ------------------------------------------------------------------------------------------


def test_login_opens_a_session_that_the_cookie_finds(auth: Authenticator, database: Database) -> None:
    session = auth.login("ALICE", PASSWORD, remote="10.0.0.1")
    assert session.principal.login == "alice" and session.principal.roles == frozenset({"rm"})
    assert session.expires_at == auth.clock() + SESSION_LIFETIME
    found = auth.session(session.cookie)
    assert found is not None and found.principal.user_id == _user_id(database, "alice")
    assert found.csrf == session.csrf and len(session.csrf) >= 24
    with database.read() as connection:
        stored = connection.execute(sa.select(system.sessions.c.token_hash)).scalars().all()
    token = session.cookie.rpartition(".")[0]
    assert token not in stored and len(stored) == 1, "only the token's hash is stored"


@pytest.mark.parametrize(("login", "password"), [("alice", "wrong password"), ("nobody", PASSWORD), ("", PASSWORD)])
def test_wrong_password_and_unknown_login_look_the_same(auth: Authenticator, login: str, password: str) -> None:
    with pytest.raises(AuthError) as caught:
        auth.login(login, password, locale="en")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        401,
        "bad_credentials",
        "wrong login or password",
    )


def test_a_disabled_user_cannot_sign_in_and_loses_sessions_and_tokens(auth: Authenticator, database: Database) -> None:
    session = auth.login("alice", PASSWORD)
    secret, _token = auth.create_token(_user_id(database, "alice"), "ci")
    with database.begin() as connection:
        directory.set_active(connection, _user_id(database, "alice"), False)
    with pytest.raises(AuthError) as caught:
        auth.login("alice", PASSWORD, locale="zh")
    assert (caught.value.code, caught.value.message) == ("user_disabled", "该账号已停用，请联系管理员")
    assert auth.session(session.cookie) is None
    assert auth.token(secret) is None


def test_repeated_failures_lock_the_login_with_growing_waits(auth: Authenticator, clock: Clock) -> None:
    for _ in range(FREE_FAILURES - 1):
        with pytest.raises(AuthError):
            auth.login("alice", "nope", remote="10.0.0.9")
    with pytest.raises(AuthError) as caught:
        auth.login("alice", "nope", remote="10.0.0.9")
    assert caught.value.code == "bad_credentials"  # the 5th failure itself is still a plain failure
    with pytest.raises(AuthError) as caught:
        auth.login("alice", PASSWORD, remote="10.0.0.9", locale="en")  # even the right password waits
    assert (caught.value.status, caught.value.code) == (429, "too_many_attempts")
    assert caught.value.headers["Retry-After"] == "30"
    assert "try again in 30 s" in caught.value.message
    clock.advance(seconds=31)
    with pytest.raises(AuthError):
        auth.login("alice", "nope", remote="10.0.0.9")  # 6th failure: the lock doubles
    with pytest.raises(AuthError) as caught:
        auth.login("alice", PASSWORD, remote="10.0.0.9")
    assert caught.value.headers["Retry-After"] == "60"
    clock.advance(seconds=61)
    assert auth.login("alice", PASSWORD, remote="10.0.0.9").principal.login == "alice"


def test_the_lock_is_capped_and_per_subject(auth: Authenticator, clock: Clock) -> None:
    for _ in range(FREE_FAILURES + 12):
        with pytest.raises(AuthError):
            auth.login("alice", "nope")
        clock.advance(seconds=MAX_LOCK.total_seconds() + 1)
        clock.advance(seconds=-MAX_LOCK.total_seconds())  # stay within the failure window
    with pytest.raises(AuthError) as caught:
        auth.login("alice", PASSWORD)
    assert int(caught.value.headers["Retry-After"]) <= MAX_LOCK.total_seconds()
    assert auth.login("bob", "another secret 7").principal.login == "bob", "another login is not locked"


def test_failures_from_one_address_lock_that_address_for_every_login(auth: Authenticator) -> None:
    for login in ("x1", "x2", "x3", "x4", "x5"):
        with pytest.raises(AuthError):
            auth.login(login, "nope", remote="203.0.113.5")
    with pytest.raises(AuthError) as caught:
        auth.login("bob", "another secret 7", remote="203.0.113.5")
    assert caught.value.code == "too_many_attempts"
    assert auth.login("bob", "another secret 7", remote="203.0.113.6").principal.login == "bob"


# -- sessions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forge",
    [
        lambda cookie: cookie[:-1] + ("0" if cookie[-1] != "0" else "1"),  # signature changed
        lambda cookie: "x" + cookie,  # token changed, old signature
        lambda cookie: cookie.rpartition(".")[0],  # signature dropped
        lambda cookie: "",
        lambda cookie: "." * 300,
        lambda cookie: cookie + "." + cookie,
    ],
)
def test_a_tampered_cookie_is_refused(auth: Authenticator, forge: object) -> None:
    session = auth.login("alice", PASSWORD)
    assert callable(forge)
    assert auth.session(forge(session.cookie)) is None


def test_sessions_expire_and_logout_ends_them(auth: Authenticator, clock: Clock) -> None:
    first, second = auth.login("alice", PASSWORD), auth.login("alice", PASSWORD)
    auth.logout(first.cookie)
    assert auth.session(first.cookie) is None and auth.session(second.cookie) is not None
    clock.advance(seconds=SESSION_LIFETIME.total_seconds())
    assert auth.session(second.cookie) is None


def test_a_password_change_needs_the_old_one_and_ends_other_sessions(auth: Authenticator, database: Database) -> None:
    other = auth.login("alice", PASSWORD)
    alice = _user_id(database, "alice")
    with pytest.raises(ValidationError) as caught:
        auth.change_password(alice, "not it", "brand new secret", locale="en")
    assert [(i.field, i.code) for i in caught.value.issues] == [("old_password", "wrong_password")]
    with pytest.raises(ValidationError) as weak:
        auth.change_password(alice, PASSWORD, "short", locale="en")
    assert weak.value.code == "weak_password"
    fresh = auth.change_password(alice, PASSWORD, "brand new secret")
    assert auth.session(other.cookie) is None and auth.session(fresh.cookie) is not None
    with pytest.raises(AuthError):
        auth.login("alice", PASSWORD)
    assert auth.login("alice", "brand new secret").principal.login == "alice"


def test_the_signing_key_is_shared_by_every_process(auth: Authenticator, database: Database) -> None:
    session = auth.login("alice", PASSWORD)
    assert Authenticator(database, clock=auth.clock).session(session.cookie) is not None


# -- API tokens -------------------------------------------------------------------------------------


def test_tokens_are_shown_once_stored_hashed_and_revocable(auth: Authenticator, database: Database) -> None:
    alice = _user_id(database, "alice")
    secret, token = auth.create_token(alice, "reporting")
    assert secret.startswith("tsr_") and len(secret) > 40
    assert token["prefix"] == secret[:10] and token["revoked"] is False
    with database.read() as connection:
        stored = connection.execute(sa.select(system.api_tokens)).mappings().one()
    assert secret not in {str(v) for v in stored.values()}
    found = auth.token(secret)
    assert found is not None and found.login == "alice"
    assert [t["name"] for t in auth.tokens(alice)] == ["reporting"]
    assert "secret" not in auth.tokens(alice)[0]
    with pytest.raises(NotFoundError):
        auth.revoke_token(_user_id(database, "bob"), token["id"])  # someone else's token: unknown to bob
    auth.revoke_token(alice, token["id"])
    assert auth.token(secret) is None
    assert auth.tokens(alice)[0]["revoked"] is True
    with pytest.raises(NotFoundError):
        auth.revoke_token(alice, token["id"])  # already revoked


def test_expired_and_malformed_tokens_are_refused(auth: Authenticator, database: Database, clock: Clock) -> None:
    alice = _user_id(database, "alice")
    secret, _token = auth.create_token(alice, "short-lived", expires_at=clock.now + dt.timedelta(hours=1))
    assert auth.token(secret) is not None
    clock.advance(hours=1)
    assert auth.token(secret) is None
    for bad in ("", "tsr_", "tsr_" + "a" * 300, "Bearer x", secret[:-1]):
        assert auth.token(bad) is None
    with pytest.raises(ValidationError):
        auth.create_token(alice, "past", expires_at=clock.now - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError):
        auth.create_token(alice, "   ")


# -- directory ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"login": "has space", "name": "X"}, "login"),
        ({"login": "", "name": "X"}, "login"),
        ({"login": "ok", "name": "  "}, "name"),
        ({"login": "ok", "name": "X", "locale": "fr"}, "locale"),
        ({"login": "ok", "name": "X", "password": "short"}, "password"),
        ({"login": "ok", "name": "X", "department_id": 999}, "department"),
    ],
)
def test_bad_users_are_refused_by_field(database: Database, values: dict[str, object], field: str) -> None:
    with database.begin() as connection, pytest.raises(ValidationError) as caught:
        directory.create_user(connection, **values)  # type: ignore[arg-type]
    assert [issue.field for issue in caught.value.issues] == [field]


def test_a_taken_login_is_a_conflict_whatever_its_case(auth: Authenticator, database: Database) -> None:
    with database.begin() as connection, pytest.raises(ConflictError) as caught:
        directory.create_user(connection, login="Alice", name="Another Alice", caller_locale="zh")
    assert caught.value.message == "登录名 'Alice' 已被使用"


def test_a_users_manager_comes_from_the_department_tree(database: Database) -> None:
    with database.begin() as connection:
        ceo = directory.create_user(connection, login="ceo", name="CEO")
        head = directory.create_user(connection, login="head", name="Head")
        rm = directory.create_user(connection, login="rm", name="RM")
        top = directory.add_department(connection, "总部", head_id=ceo)
        sales = directory.add_department(connection, "销售部", parent_id=top, head_id=head)
        team = directory.add_department(connection, "华东组", parent_id=sales)  # no head: go up
        for user, department in ((ceo, top), (head, sales), (rm, team)):
            connection.execute(
                sa.update(system.users).where(system.users.c.id == user).values(department_id=department)
            )
        assert directory.manager_of(connection, rm) == head
        assert directory.manager_of(connection, head) == ceo
        assert directory.manager_of(connection, ceo) is None


def test_directory_changes_are_audited(database: Database) -> None:
    with database.begin() as connection:
        user = directory.create_user(connection, login="carol", name="Carol", roles=["b", "a"], via="cli")
        directory.set_roles(connection, user, ["a"], actor_id=user, via="api")
        directory.set_active(connection, user, False)
        rows = connection.execute(sa.select(system.audit).order_by(system.audit.c.id)).mappings().all()
    assert [(r["action"], r["via"], r["target_key"]) for r in rows] == [
        ("user_create", "cli", "carol"),
        ("roles_set", "api", "carol"),
        ("user_disable", "system", "carol"),
    ]
    assert rows[1]["changes"] == {"roles": [["a", "b"], ["a"]]}
