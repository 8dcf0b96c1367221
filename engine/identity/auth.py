"""Signing in: passwords, sessions, API tokens and the throttling of repeated failures.

* **Sessions**: a random token, stored as its SHA-256 (a leaked table gives no usable cookie),
  sent to the browser HMAC-signed with a key kept in the database (so every app process
  checks the same signature and a tampered cookie is refused before any lookup), with its own
  CSRF token. They expire; logout, a password change and disabling the user end them.
* **API tokens**: ``tsr_<random>``, shown once, stored as SHA-256, revocable, optionally
  expiring, always acting as the user who made them (and only while that user is active).
* **Throttling**: failures are counted per login and per client address in the database;
  after :data:`FREE_FAILURES` within :data:`WINDOW` the subject is locked for a time that
  doubles with each further failure (at most :data:`MAX_LOCK`). A locked subject is refused
  before the password is even checked, with the time to wait.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.i18n import Locale
from engine.identity import audit, directory
from engine.identity.passwords import hash_password, needs_rehash, verify_password
from engine.identity.principal import Principal
from engine.issues import EngineError, Issue, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.database import Database

SESSION_LIFETIME = dt.timedelta(hours=12)
FREE_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
FIRST_LOCK = dt.timedelta(seconds=30)
MAX_LOCK = dt.timedelta(minutes=15)
TOKEN_PREFIX = "tsr_"  # noqa: S105 - the marker of a token, not a secret
OWNER: Final = "owner"  # the acting user of a token change is its owner (self-service)
TokenActor = int | None | Literal["owner"]


@functools.cache
def _dummy_hash() -> str:
    """A real argon2 hash of a random password: unknown logins cost the same time as wrong passwords."""
    return hash_password(secrets.token_urlsafe(16))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class AuthError(EngineError):
    """A refused sign-in or credential (401), or a locked subject (429)."""


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, the signed cookie value and the CSRF token its forms must send."""

    principal: Principal
    cookie: str
    csrf: str
    expires_at: dt.datetime


def signing_key(connection: Connection) -> bytes:
    """The installation's cookie-signing key, made on first use and shared by every process."""
    s = system.secrets
    value = connection.execute(sa.select(s.c.value).where(s.c.name == "session_key")).scalar()
    if value is None:
        candidate = secrets.token_hex(32)
        try:
            with connection.begin_nested():
                connection.execute(sa.insert(s).values(name="session_key", value=candidate))
            value = candidate
        except sa.exc.IntegrityError:  # another process made it first
            value = connection.execute(sa.select(s.c.value).where(s.c.name == "session_key")).scalar_one()
    return bytes.fromhex(value)


class Authenticator:
    """Sign-in, sessions and tokens over one database."""

    def __init__(self, database: Database, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.database = database
        self.clock = clock
        self._key: bytes | None = None

    # -- keys and cookies --------------------------------------------------------------------
    def _signing_key(self) -> bytes:
        if self._key is None:
            with self.database.begin() as connection:
                self._key = signing_key(connection)
        return self._key

    def _sign(self, token: str) -> str:
        mac = hmac.new(self._signing_key(), token.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{token}.{mac}"

    def _unsign(self, cookie: str) -> str | None:
        token, _, mac = cookie.rpartition(".")
        if not token or len(cookie) > 200:
            return None
        expected = hmac.new(self._signing_key(), token.encode(), hashlib.sha256).hexdigest()[:32]
        return token if hmac.compare_digest(mac, expected) else None

    # -- passwords ---------------------------------------------------------------------------
    def login(self, login: str, password: str, *, remote: str = "", locale: Locale = "zh") -> Session:
        """Check the password and open a session.

        Raises:
            AuthError: 401 ``bad_credentials`` (unknown login and wrong password look the same),
                ``user_disabled``, or 429 ``too_many_attempts`` while the login or address is locked.
        """
        now = self.clock()
        subjects = [f"login:{login.strip().lower()[:150]}"] + ([f"addr:{remote[:150]}"] if remote else [])
        with self.database.begin() as connection:
            self._refuse_locked(connection, subjects, now, locale)
            user = directory.find_user(connection, login.strip()) if login.strip() else None
            stored = None
            if user is not None:
                c = system.credentials
                stored = connection.execute(sa.select(c.c.password_hash).where(c.c.user_id == user["id"])).scalar()
            ok = verify_password(stored or _dummy_hash(), password) and stored is not None
        if not ok or user is None:
            with self.database.begin() as connection:
                self._fail(connection, subjects, now)
                audit.record(
                    connection, user_id=user["id"] if user else None, via="ui", action="login_failed",
                    target_kind="user", target_key=login.strip()[:50] or "-",
                )  # fmt: skip
            text = "登录名或密码错误" if locale == "zh" else "wrong login or password"
            raise AuthError(text, status=401, code="bad_credentials")
        if not user["active"]:
            text = "该账号已停用，请联系管理员" if locale == "zh" else "this account is disabled; ask an administrator"
            raise AuthError(text, status=401, code="user_disabled")
        with self.database.begin() as connection:
            self._clear(connection, subjects[:1])
            if stored is not None and needs_rehash(stored):
                connection.execute(
                    sa.update(system.credentials)
                    .where(system.credentials.c.user_id == user["id"])
                    .values(password_hash=hash_password(password))
                )
            session = self._open(connection, user["id"], now)
            audit.record(
                connection, user_id=user["id"], via="ui", action="login", target_kind="user", target_key=user["login"],
                record_id=user["id"],
            )  # fmt: skip
        return session

    def _refuse_locked(self, connection: Connection, subjects: list[str], now: dt.datetime, locale: Locale) -> None:
        f = system.login_failures
        until = connection.execute(
            sa.select(sa.func.max(f.c.locked_until)).where(f.c.subject.in_(subjects), f.c.locked_until > now)
        ).scalar()
        if until is not None:
            seconds = max(1, int((until - now).total_seconds() + 0.999))
            text = (
                f"尝试次数过多，请 {seconds} 秒后再试"
                if locale == "zh"
                else f"too many failed attempts; try again in {seconds} s"
            )
            raise AuthError(text, status=429, code="too_many_attempts", headers={"Retry-After": str(seconds)})

    def _fail(self, connection: Connection, subjects: list[str], now: dt.datetime) -> None:
        f = system.login_failures
        for subject in subjects:
            row = connection.execute(sa.select(f).where(f.c.subject == subject)).mappings().first()
            if row is None or now - row["first_at"] > WINDOW:
                values = {"failures": 1, "first_at": now, "locked_until": None}
                if row is None:
                    try:
                        with connection.begin_nested():
                            connection.execute(sa.insert(f).values(subject=subject, **values))
                        continue
                    except sa.exc.IntegrityError:
                        pass
                connection.execute(sa.update(f).where(f.c.subject == subject).values(values))
                continue
            failures = row["failures"] + 1
            locked = None
            if failures >= FREE_FAILURES:
                lock = min(FIRST_LOCK * 2 ** (failures - FREE_FAILURES), MAX_LOCK)
                locked = now + lock
            connection.execute(
                sa.update(f).where(f.c.subject == subject).values(failures=failures, locked_until=locked)
            )

    def _clear(self, connection: Connection, subjects: list[str]) -> None:
        f = system.login_failures
        connection.execute(sa.delete(f).where(f.c.subject.in_(subjects)))

    # -- sessions ----------------------------------------------------------------------------
    def _open(self, connection: Connection, user_id: int, now: dt.datetime) -> Session:
        if self._key is None:  # in this transaction: a second one would wait for it on SQLite
            self._key = signing_key(connection)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        expires = now + SESSION_LIFETIME
        connection.execute(
            sa.insert(system.sessions).values(
                token_hash=_digest(token), user_id=user_id, csrf=csrf, created_at=now, expires_at=expires
            )
        )
        found = directory.principal(connection, user_id)
        assert found is not None
        return Session(found, self._sign(token), csrf, expires)

    def session(self, cookie: str) -> Session | None:
        """The live session of a signed cookie, or None (tampered, unknown, expired, user disabled)."""
        token = self._unsign(cookie)
        if token is None:
            return None
        s = system.sessions
        with self.database.read() as connection:
            row = connection.execute(sa.select(s).where(s.c.token_hash == _digest(token))).mappings().first()
            if row is None or row["expires_at"] <= self.clock():
                return None
            found = directory.principal(connection, row["user_id"])
        if found is None:
            return None
        return Session(found, cookie, row["csrf"], row["expires_at"])

    def logout(self, cookie: str) -> None:
        """End the session of this cookie (nothing happens for an unknown one)."""
        token = self._unsign(cookie)
        if token is None:
            return
        with self.database.begin() as connection:
            connection.execute(sa.delete(system.sessions).where(system.sessions.c.token_hash == _digest(token)))

    def change_password(self, user_id: int, old: str, new: str, *, locale: Locale = "zh") -> Session:
        """Change one's own password (the old one is required); other sessions end, a new one opens."""
        with self.database.begin() as connection:
            c = system.credentials
            stored = connection.execute(sa.select(c.c.password_hash).where(c.c.user_id == user_id)).scalar()
            if stored is None or not verify_password(stored, old):
                text = "原密码不正确" if locale == "zh" else "the current password is wrong"
                issue = Issue("wrong_password", text, field="old_password")
                raise ValidationError(text, [issue], code="wrong_password")
            directory.set_password(connection, user_id, new, actor_id=user_id, via="ui", locale=locale)
            return self._open(connection, user_id, self.clock())

    # -- API tokens --------------------------------------------------------------------------
    def create_token(
        self,
        user_id: int,
        name: str,
        *,
        expires_at: dt.datetime | None = None,
        locale: Locale = "zh",
        actor_id: TokenActor = OWNER,
        via: str = "api",
    ) -> tuple[str, dict[str, Any]]:
        """Make a token for ``user_id``; return the secret (shown once, never stored) and its record.

        The audit entry names ``actor_id`` (by default the owner, managing their own tokens) and
        ``via``; the CLI passes ``actor_id=None, via="cli"``: an operator, not a signed-in user.
        """
        name = (name or "").strip()
        if not name or len(name) > 100:
            text = (
                "请为令牌命名（最长 100 个字符）"
                if locale == "zh"
                else "give the token a name (at most 100 characters)"
            )
            raise ValidationError(text, [Issue("invalid", text, field="name")], code="invalid")
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            text = "过期时间必须晚于现在" if locale == "zh" else "the expiry must be in the future"
            raise ValidationError(text, [Issue("invalid", text, field="expires_at")], code="invalid")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        t = system.api_tokens
        with self.database.begin() as connection:
            user = directory.get_user(connection, user_id, locale=locale)
            token_id = connection.execute(
                sa.insert(t)
                .values(
                    user_id=user_id,
                    name=name,
                    prefix=secret[: len(TOKEN_PREFIX) + 6],
                    token_hash=_digest(secret),
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(t.c.id)
            ).scalar_one()
            audit.record(
                connection, user_id=_actor(actor_id, user_id), via=via, action="token_create", target_kind="user",
                target_key=user["login"], record_id=user_id, changes={"token": [None, name]},
            )  # fmt: skip
            row = connection.execute(sa.select(t).where(t.c.id == token_id)).mappings().one()
        return secret, _token(row)

    def token(self, secret: str) -> Principal | None:
        """The user a token acts as, or None (unknown, revoked, expired, user disabled)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        t = system.api_tokens
        now = self.clock()
        with self.database.read() as connection:
            row = connection.execute(sa.select(t).where(t.c.token_hash == _digest(secret))).mappings().first()
            if row is None or row["revoked_at"] is not None:
                return None
            if row["expires_at"] is not None and row["expires_at"] <= now:
                return None
            found = directory.principal(connection, row["user_id"])
        last = row["last_used_at"]
        if found is not None and (last is None or now - last > dt.timedelta(minutes=5)):
            with self.database.begin() as connection:  # at most one write per token per 5 minutes
                connection.execute(sa.update(t).where(t.c.id == row["id"]).values(last_used_at=now))
        return found

    def tokens(self, user_id: int) -> list[dict[str, Any]]:
        """The user's tokens (never the secrets), newest first."""
        t = system.api_tokens
        with self.database.read() as connection:
            rows = connection.execute(sa.select(t).where(t.c.user_id == user_id).order_by(t.c.id.desc())).mappings()
            return [_token(row) for row in rows]

    def revoke_token(
        self, user_id: int, token_id: int, *, locale: Locale = "zh", actor_id: TokenActor = OWNER, via: str = "api"
    ) -> None:
        """Revoke one of the user's tokens (404 for someone else's: no existence leak; audited as
        :meth:`create_token` is)."""
        t = system.api_tokens
        with self.database.begin() as connection:
            done = connection.execute(
                sa.update(t)
                .where(t.c.id == token_id, t.c.user_id == user_id, t.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            ).rowcount
            if not done:
                text = f"令牌 {token_id} 不存在" if locale == "zh" else f"no token {token_id}"
                raise NotFoundError(text, code="unknown_token")
            user = directory.get_user(connection, user_id)
            audit.record(
                connection, user_id=_actor(actor_id, user_id), via=via, action="token_revoke", target_kind="user",
                target_key=user["login"], record_id=user_id, changes={"token": [token_id, None]},
            )  # fmt: skip


def _actor(actor_id: TokenActor, owner: int) -> int | None:
    return owner if actor_id == OWNER else actor_id


def _token(row: Any) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row["id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "created_at": iso(row["created_at"]),
        "expires_at": iso(row["expires_at"]),
        "last_used_at": iso(row["last_used_at"]),
        "revoked": row["revoked_at"] is not None,
    }
