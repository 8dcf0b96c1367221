"""The identity API: the caller's own account and tokens, users and roles (administrators),
and "explain access" (why a user may or may not do something)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from engine.i18n import Locale, localize
from engine.identity import directory
from engine.identity.principal import Principal
from engine.issues import EngineError, ForbiddenError, Issue, NotFoundError
from forms.access import explain
from web.api import MAX_ID, LocaleDep, ServicesDep, json_body, known_params
from web.app import Services
from web.auth import SESSION_COOKIE, PrincipalDep, _set_session, via
from web.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES, tags=["identity"])
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
NoParams = Depends(known_params())


def _require_admin(svc: Services, user: Principal, locale: Locale) -> None:
    if not svc.policy.is_admin(user):
        text = "只有系统管理员可以管理用户和角色" if locale == "zh" else "only administrators manage users and roles"
        raise ForbiddenError(text, code="admin_only")


def _body_dict(body: Any, locale: Locale) -> dict[str, Any]:
    if not isinstance(body, dict):
        text = "请求体须为 JSON 对象" if locale == "zh" else "the body must be a JSON object"
        raise EngineError(text, status=422, code="invalid")
    return body


def _string(body: dict[str, Any], key: str, locale: Locale, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        text = f"'{key}' 须为文本" if locale == "zh" else f"'{key}' must be text"
        raise EngineError(text, status=422, code="invalid", issues=[Issue("invalid", text, field=key)])
    return value


@router.get("/me", dependencies=[NoParams])
def me(request: Request, user: PrincipalDep, svc: ServicesDep) -> dict[str, Any]:
    """The caller, their roles, and (for a browser session) the CSRF token its mutations must send."""
    session = getattr(request.state, "session", None)
    return {
        "ok": True,
        "user": {
            "id": user.user_id,
            "login": user.login,
            "name": user.name,
            "locale": user.locale,
            "roles": sorted(user.roles),
            "department_id": user.department_id,
            "admin": svc.policy.is_admin(user),
        },
        "csrf_token": session.csrf if session is not None else None,
    }


@router.post("/me/password", dependencies=[NoParams])
async def change_password(request: Request, user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> JSONResponse:
    """``{"old_password", "new_password"}``: other sessions end; this browser gets a new one."""
    body = _body_dict(await json_body(request), lang)
    old = _string(body, "old_password", lang) or ""
    new = _string(body, "new_password", lang) or ""
    assert user.user_id is not None
    session = await run_in_threadpool(svc.auth.change_password, user.user_id, old, new, locale=lang)
    response = JSONResponse({"ok": True, "csrf_token": session.csrf})
    if request.cookies.get(SESSION_COOKIE):
        _set_session(response, request, session)
    return response


@router.get("/me/tokens", dependencies=[NoParams])
def list_tokens(user: PrincipalDep, svc: ServicesDep) -> dict[str, Any]:
    """The caller's API tokens (never their secrets)."""
    assert user.user_id is not None
    return {"ok": True, "items": svc.auth.tokens(user.user_id)}


@router.post("/me/tokens", status_code=201, dependencies=[NoParams])
async def create_token(request: Request, user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> JSONResponse:
    """``{"name", "expires_at"?}`` -> the token secret, shown this once only."""
    body = _body_dict(await json_body(request), lang)
    name = _string(body, "name", lang) or ""
    expires_raw = _string(body, "expires_at", lang, required=False)
    expires = None
    if expires_raw is not None:
        try:
            expires = dt.datetime.fromisoformat(expires_raw)
        except ValueError:
            text = "expires_at 须为 ISO 日期时间" if lang == "zh" else "expires_at must be an ISO date-time"
            raise EngineError(
                text, status=422, code="invalid", issues=[Issue("invalid", text, field="expires_at")]
            ) from None
        if expires.tzinfo is not None:
            expires = expires.astimezone(dt.UTC).replace(tzinfo=None)
    assert user.user_id is not None
    secret, token = await run_in_threadpool(svc.auth.create_token, user.user_id, name, expires_at=expires, locale=lang)
    return JSONResponse({"ok": True, "token": token, "secret": secret}, status_code=201)


@router.delete("/me/tokens/{token_id}", status_code=204, dependencies=[NoParams])
def revoke_token(token_id: ObjectId, user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> JSONResponse:
    """Revoke one of the caller's tokens."""
    assert user.user_id is not None
    svc.auth.revoke_token(user.user_id, token_id, locale=lang)
    return JSONResponse(None, status_code=204)


# -- administration --------------------------------------------------------------------------------


@router.get("/users", dependencies=[NoParams])
def list_users(user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> dict[str, Any]:
    """Every user with their roles (administrators)."""
    _require_admin(svc, user, lang)
    with svc.database.read() as connection:
        return {"ok": True, "items": directory.list_users(connection)}


@router.post("/users", status_code=201, dependencies=[NoParams])
async def add_user(request: Request, user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> JSONResponse:
    """``{"login", "name", "password"?, "email"?, "roles"?: [...], "department"?}`` (administrators)."""
    _require_admin(svc, user, lang)
    body = _body_dict(await json_body(request), lang)
    roles = body.get("roles", [])
    known = svc.policy.roles()
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise EngineError("roles must be a list of role keys", status=422, code="invalid")
    unknown = [r for r in roles if r not in known]
    if unknown:
        issues = [Issue("unknown_role", f"unknown role '{r}'", field="roles") for r in unknown]
        raise EngineError(f"unknown role(s): {', '.join(unknown)}", status=422, code="unknown_role", issues=issues)
    department = body.get("department")
    if department is not None and (not isinstance(department, int) or isinstance(department, bool)):
        raise EngineError("department must be a department id", status=422, code="invalid")

    def work() -> dict[str, Any]:
        with svc.database.begin() as connection:
            new_id = directory.create_user(
                connection,
                login=_string(body, "login", lang) or "",
                name=_string(body, "name", lang) or "",
                password=_string(body, "password", lang, required=False),
                email=_string(body, "email", lang, required=False),
                department_id=department,
                locale=_string(body, "locale", lang, required=False) or "zh",
                roles=roles,
                actor_id=user.user_id,
                via=via(request),
                caller_locale=lang,
            )
            return directory.get_user(connection, new_id)

    return JSONResponse({"ok": True, "user": await run_in_threadpool(work)}, status_code=201)


@router.patch("/users/{user_id}", dependencies=[NoParams])
async def change_user(
    user_id: ObjectId, request: Request, user: PrincipalDep, svc: ServicesDep, lang: LocaleDep
) -> JSONResponse:
    """``{"active"?, "roles"?, "password"?}`` (administrators; each change is audited)."""
    _require_admin(svc, user, lang)
    body = _body_dict(await json_body(request), lang)
    unknown_keys = sorted(set(body) - {"active", "roles", "password"})
    if unknown_keys:
        issues = [Issue("unknown_field", f"unknown field '{k}'", field=k) for k in unknown_keys]
        raise EngineError("unknown field(s)", status=422, code="unknown_field", issues=issues)

    def work() -> dict[str, Any]:
        with svc.database.begin() as connection:
            directory.get_user(connection, user_id, locale=lang)
            if "active" in body:
                if not isinstance(body["active"], bool):
                    raise EngineError("active must be true or false", status=422, code="invalid")
                directory.set_active(connection, user_id, body["active"], actor_id=user.user_id, via=via(request))
            if "roles" in body:
                roles = body["roles"]
                if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                    raise EngineError("roles must be a list of role keys", status=422, code="invalid")
                unknown = [r for r in roles if r not in svc.policy.roles()]
                if unknown:
                    raise EngineError(f"unknown role(s): {', '.join(unknown)}", status=422, code="unknown_role")
                directory.set_roles(connection, user_id, roles, actor_id=user.user_id, via=via(request))
            if "password" in body:
                password = _string(body, "password", lang) or ""
                directory.set_password(
                    connection, user_id, password, actor_id=user.user_id, via=via(request), locale=lang
                )
            return directory.get_user(connection, user_id)

    return JSONResponse({"ok": True, "user": await run_in_threadpool(work)})


@router.get("/roles", dependencies=[NoParams])
def list_roles(user: PrincipalDep, svc: ServicesDep, lang: LocaleDep) -> dict[str, Any]:
    """The installed roles with their labels and permissions."""
    roles = svc.policy.roles()
    items = [
        {
            "key": key,
            "label": localize(role.label, lang),
            "admin": role.admin,
            "permissions": [p.model_dump(mode="json", exclude_none=True) for p in role.permissions],
        }
        for key, role in sorted(roles.items())
    ]
    return {"ok": True, "items": items}


@router.get("/access/explain", dependencies=[Depends(known_params("user", "form", "record"))])
def explain_access(
    user: PrincipalDep,
    svc: ServicesDep,
    lang: LocaleDep,
    form: Annotated[str, Query(max_length=50)],
    who: Annotated[str | None, Query(alias="user", max_length=80, description="login or id; default: yourself")] = None,
    record: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    """Which role and permission grant or deny each action and field (administrators, or about yourself)."""
    target = user
    if who is not None and who not in (user.login, str(user.user_id)):
        _require_admin(svc, user, lang)
        with svc.database.read() as connection:
            found = directory.find_user(connection, who)
            if found is None and who.isdigit():
                found = directory.get_user(connection, int(who), locale=lang)
            if found is None:
                raise NotFoundError(f"no user '{who}'", code="unknown_user")
            principal = directory.principal(connection, found["id"])
        target = principal or Principal(user_id=found["id"], login=found["login"], name=found["name"])
    svc.catalog.form(form)
    return {"ok": True, **explain(svc.policy, target, form, record, today=svc.records.clock().date())}
