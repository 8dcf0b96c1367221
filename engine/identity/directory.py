"""Users, departments and role assignments: the directory every other part asks "who is this?".

Functions take the caller's connection (one transaction per use case) and raise the engine's
errors (``ValidationError`` with the field, ``ConflictError``, ``NotFoundError``) with messages
in the caller's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.i18n import Locale
from engine.identity import audit
from engine.identity.passwords import hash_password, password_problem
from engine.identity.principal import Principal
from engine.issues import ConflictError, Issue, NotFoundError, ValidationError
from engine.storage import system

LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
LOCALES = ("zh", "en")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _invalid(field: str, zh: str, en: str, locale: Locale, code: str = "invalid") -> ValidationError:
    text = zh if locale == "zh" else en
    return ValidationError(text, [Issue(code, text, field=field)], code=code)


def create_user(
    connection: Connection,
    *,
    login: str,
    name: str,
    password: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    department_id: int | None = None,
    locale: str = "zh",
    roles: Iterable[str] = (),
    actor_id: int | None = None,
    via: str = "system",
    caller_locale: Locale = "en",
) -> int:
    """Add a user (with an optional password and roles); return the new id."""
    if not LOGIN.match(login or ""):
        raise _invalid(
            "login",
            "登录名只能包含字母、数字和 . _ @ -，最长 80 个字符",
            "the login may hold letters, digits and . _ @ - (at most 80 characters)",
            caller_locale,
        )
    if not name or not name.strip() or len(name) > 100:
        zh, en = "请填写姓名（最长 100 个字符）", "the name is required (at most 100 characters)"
        raise _invalid("name", zh, en, caller_locale)
    if locale not in LOCALES:
        raise _invalid("locale", "语言只能是 zh 或 en", "the locale must be zh or en", caller_locale)
    if password is not None:
        problem = password_problem(password, login=login, locale=caller_locale)
        if problem:
            raise ValidationError(problem, [Issue("weak_password", problem, field="password")], code="weak_password")
    u = system.users
    taken = connection.execute(sa.select(u.c.id).where(sa.func.lower(u.c.login) == login.lower())).first()
    if taken is not None:
        text = f"登录名 '{login}' 已被使用" if caller_locale == "zh" else f"the login '{login}' is taken"
        raise ConflictError(text, code="login_taken")
    if department_id is not None:
        _department(connection, department_id, caller_locale)
    user_id = int(
        connection.execute(
            sa.insert(u)
            .values(
                login=login,
                name=name.strip(),
                email=email,
                phone=phone,
                active=True,
                locale=locale,
                department_id=department_id,
                created_at=_now(),
            )
            .returning(u.c.id)
        ).scalar_one()
    )
    if password is not None:
        secret = hash_password(password)
        connection.execute(
            sa.insert(system.credentials).values(user_id=user_id, password_hash=secret, changed_at=_now())
        )
    granted = sorted(set(roles))
    if granted:
        connection.execute(sa.insert(system.user_roles), [{"user_id": user_id, "role_key": r} for r in granted])
    audit.record(
        connection,
        user_id=actor_id,
        via=via,
        action="user_create",
        target_kind="user",
        target_key=login,
        record_id=user_id,
        changes={"roles": [None, granted], "department_id": [None, department_id]},
    )
    return user_id


def set_password(
    connection: Connection,
    user_id: int,
    password: str,
    *,
    actor_id: int | None = None,
    via: str = "system",
    locale: Locale = "en",
) -> None:
    """Set a new password (policy-checked) and end every session of the user."""
    user = get_user(connection, user_id, locale=locale)
    problem = password_problem(password, login=user["login"], locale=locale)
    if problem:
        raise ValidationError(problem, [Issue("weak_password", problem, field="password")], code="weak_password")
    c = system.credentials
    values = {"password_hash": hash_password(password), "changed_at": _now()}
    if connection.execute(sa.update(c).where(c.c.user_id == user_id).values(values)).rowcount == 0:
        connection.execute(sa.insert(c).values(user_id=user_id, **values))
    connection.execute(sa.delete(system.sessions).where(system.sessions.c.user_id == user_id))
    audit.record(
        connection, user_id=actor_id, via=via, action="password_set", target_kind="user", target_key=user["login"],
        record_id=user_id,
    )  # fmt: skip


def set_active(
    connection: Connection, user_id: int, active: bool, *, actor_id: int | None = None, via: str = "system"
) -> None:
    """Enable or disable a user; disabling ends their sessions (tokens stop working too)."""
    user = get_user(connection, user_id)
    connection.execute(sa.update(system.users).where(system.users.c.id == user_id).values(active=active))
    if not active:
        connection.execute(sa.delete(system.sessions).where(system.sessions.c.user_id == user_id))
    audit.record(
        connection,
        user_id=actor_id,
        via=via,
        action="user_enable" if active else "user_disable",
        target_kind="user",
        target_key=user["login"],
        record_id=user_id,
        changes={"active": [user["active"], active]},
    )


def set_roles(
    connection: Connection, user_id: int, roles: Iterable[str], *, actor_id: int | None = None, via: str = "system"
) -> None:
    """Replace the user's roles (a permission change: audited)."""
    user = get_user(connection, user_id)
    wanted = sorted(set(roles))
    r = system.user_roles
    connection.execute(sa.delete(r).where(r.c.user_id == user_id))
    if wanted:
        connection.execute(sa.insert(r), [{"user_id": user_id, "role_key": key} for key in wanted])
    audit.record(
        connection,
        user_id=actor_id,
        via=via,
        action="roles_set",
        target_kind="user",
        target_key=user["login"],
        record_id=user_id,
        changes={"roles": [user["roles"], wanted]},
    )


def get_user(connection: Connection, user_id: int, *, locale: Locale = "en") -> dict[str, Any]:
    """One user with their roles."""
    u = system.users
    row = connection.execute(sa.select(u).where(u.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"用户 {user_id} 不存在" if locale == "zh" else f"no user {user_id}", code="unknown_user")
    return _user(connection, row)


def find_user(connection: Connection, login: str) -> dict[str, Any] | None:
    """The user with this login (case-insensitive), or None."""
    u = system.users
    row = connection.execute(sa.select(u).where(sa.func.lower(u.c.login) == login.lower())).mappings().first()
    return _user(connection, row) if row is not None else None


def _user(connection: Connection, row: Any) -> dict[str, Any]:
    roles = roles_of(connection, row["id"])
    return {
        "id": row["id"],
        "login": row["login"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "active": bool(row["active"]),
        "locale": row["locale"],
        "department_id": row["department_id"],
        "roles": roles,
    }


def roles_of(connection: Connection, user_id: int) -> list[str]:
    r = system.user_roles
    return sorted(connection.execute(sa.select(r.c.role_key).where(r.c.user_id == user_id)).scalars())


def list_users(connection: Connection, *, limit: int = 1000, include_inactive: bool = True) -> list[dict[str, Any]]:
    """Users ordered by login, with their roles."""
    u, r = system.users, system.user_roles
    query = sa.select(u).order_by(u.c.login).limit(limit)
    if not include_inactive:
        query = query.where(u.c.active.is_(True))
    rows = list(connection.execute(query).mappings())
    roles: dict[int, list[str]] = {}
    ids = [row["id"] for row in rows]
    if ids:
        for user_id, key in connection.execute(
            sa.select(r.c.user_id, r.c.role_key).where(r.c.user_id.in_(ids)).order_by(r.c.role_key)
        ):
            roles.setdefault(user_id, []).append(key)
    return [
        {
            "id": row["id"],
            "login": row["login"],
            "name": row["name"],
            "email": row["email"],
            "active": bool(row["active"]),
            "locale": row["locale"],
            "department_id": row["department_id"],
            "roles": roles.get(row["id"], []),
        }
        for row in rows
    ]


def principal(connection: Connection, user_id: int) -> Principal | None:
    """The principal of an active user, or None (unknown or disabled)."""
    u = system.users
    row = connection.execute(sa.select(u).where(u.c.id == user_id)).mappings().first()
    if row is None or not row["active"]:
        return None
    locale: Locale = "en" if row["locale"] == "en" else "zh"
    return Principal(
        user_id=row["id"],
        login=row["login"],
        name=row["name"],
        locale=locale,
        roles=frozenset(roles_of(connection, row["id"])),
        department_id=row["department_id"],
    )


# -- departments -------------------------------------------------------------------------------


def add_department(
    connection: Connection, name: str, *, parent_id: int | None = None, head_id: int | None = None
) -> int:
    """Add a department under ``parent_id`` (a tree) with an optional head; return its id."""
    if parent_id is not None:
        _department(connection, parent_id, "en")
    d = system.departments
    return int(
        connection.execute(
            sa.insert(d).values(name=name, parent_id=parent_id, head_id=head_id).returning(d.c.id)
        ).scalar_one()
    )


def set_department_head(connection: Connection, department_id: int, head_id: int | None) -> None:
    _department(connection, department_id, "en")
    d = system.departments
    connection.execute(sa.update(d).where(d.c.id == department_id).values(head_id=head_id))


def _department(connection: Connection, department_id: int, locale: Locale) -> Any:
    d = system.departments
    row = connection.execute(sa.select(d).where(d.c.id == department_id)).mappings().first()
    if row is None:
        text = f"部门 {department_id} 不存在" if locale == "zh" else f"no department {department_id}"
        raise ValidationError(text, [Issue("unknown_department", text, field="department")], code="unknown_department")
    return row


def departments(connection: Connection) -> list[dict[str, Any]]:
    """Every department with its parent and head, ordered by id."""
    d = system.departments
    return [dict(row) for row in connection.execute(sa.select(d).order_by(d.c.id)).mappings()]


def manager_of(connection: Connection, user_id: int) -> int | None:
    """The user's manager: the head of their department, or, for the head, the next head up the tree.

    Flows escalate to this user. None at the top of the tree or for a user without a department.
    """
    u, d = system.users, system.departments
    department_id = connection.execute(sa.select(u.c.department_id).where(u.c.id == user_id)).scalar()
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        row = connection.execute(sa.select(d.c.head_id, d.c.parent_id).where(d.c.id == department_id)).first()
        if row is None:
            return None
        if row.head_id is not None and row.head_id != user_id:
            return int(row.head_id)
        department_id = row.parent_id
    return None
