"""Who is calling: API tokens, session cookies, CSRF, and the login/logout pages and endpoints.

Every route except ``/healthz``, ``/login`` and ``/static`` depends on :func:`principal`:

* ``Authorization: Bearer tsr_...`` (an API token) acts as the token's user, no CSRF needed;
* otherwise the signed ``tessera_session`` cookie; an unsafe method (POST, PATCH, PUT, DELETE)
  must then carry the session's CSRF token in ``X-CSRF-Token`` (or a ``csrf_token`` form field);
* nobody: the API answers 401, a page redirects to ``/login?next=...``.

The login form itself is protected by a double-submit cookie (``tessera_login_csrf``).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.i18n import Locale, parse_accept_language
from engine.identity.auth import Authenticator, AuthError, Session
from engine.identity.principal import Principal
from engine.issues import EngineError, Issue
from web.schemas import ERROR_RESPONSES

SESSION_COOKIE = "tessera_session"
LOGIN_CSRF_COOKIE = "tessera_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a signed-in user: redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _authenticator(request: Request) -> Authenticator:
    return request.app.state.services.auth  # type: ignore[no-any-return]


def _locale(request: Request) -> Locale:
    if request.query_params.get("lang") == "en":
        return "en"
    return parse_accept_language(request.headers.get("accept-language"))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/openapi.json", "/docs")


async def principal(request: Request) -> Principal:
    """The calling user; 401 (API) or a redirect to the login page (pages) for nobody."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    auth = _authenticator(request)
    locale = _locale(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        found = await run_in_threadpool(auth.token, secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            text = "API 令牌无效、已过期或已撤销" if locale == "zh" else "the API token is invalid, expired or revoked"
            raise EngineError(text, status=401, code="bad_token", headers={"WWW-Authenticate": "Bearer"})
        request.state.principal = found
        request.state.via = "api"
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    session = await run_in_threadpool(auth.session, cookie) if cookie else None
    if session is None:
        if _is_api(request) or request.method not in SAFE_METHODS:
            text = "请先登录" if locale == "zh" else "sign in first"
            code = "session_expired" if cookie else "not_authenticated"
            raise EngineError(text, status=401, code=code, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, session, locale)
    request.state.principal = session.principal
    request.state.session = session
    request.state.via = "ui"
    return session.principal


async def _check_csrf(request: Request, session: Session, locale: Locale) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session.csrf):
        text = (
            "缺少或错误的 CSRF 令牌，请刷新页面后重试"
            if locale == "zh"
            else "missing or wrong CSRF token; reload the page and try again"
        )
        raise EngineError(text, status=403, code="csrf_failed")


PrincipalDep = Annotated[Principal, Depends(principal)]


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session (for templates), or an empty string."""
    session = getattr(request.state, "session", None)
    return session.csrf if isinstance(session, Session) else ""


def via(request: Request) -> str:
    """How the caller came in: ``api`` (token) or ``ui`` (session cookie)."""
    return str(getattr(request.state, "via", "api"))


# -- login and logout ------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


def _safe_next(value: str | None) -> str:
    """Only local paths: ``next=//evil.example`` or ``https://...`` would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_session(response: Response, request: Request, session: Session) -> None:
    max_age = int((session.expires_at - _now_naive()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=max(60, max_age),
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        path="/",
    )


def _now_naive() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _login_page(request: Request, *, error: str | None, login: str, next_url: str, status: int) -> Response:
    locale = _locale(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"lang": locale, "error": error, "login": login, "next": next_url, "csrf": token},
        status_code=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_cookie_secure(request))
    return response  # type: ignore[no-any-return]


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _login_page(request, error=None, login="", next_url=_safe_next(next), status=200)


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success set the session cookie and go on to ``next``."""
    locale = _locale(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf_token):
        text = "页面已过期，请重新提交" if locale == "zh" else "the page expired; please submit again"
        return _login_page(request, error=text, login=login, next_url=_safe_next(next), status=403)
    auth = _authenticator(request)
    remote = request.client.host if request.client else ""
    try:
        session = await run_in_threadpool(auth.login, login, password, remote=remote, locale=locale)
    except AuthError as error:
        response = _login_page(
            request, error=error.message, login=login, next_url=_safe_next(next), status=error.status
        )
        response.headers.update(error.headers)
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, request, session)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, user: PrincipalDep) -> Response:
    """End the session (the CSRF token is checked by :func:`principal`)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(_authenticator(request).logout, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_redirect(request: Request, error: LoginRequired) -> Response:
    """The answer to :class:`LoginRequired`."""
    return RedirectResponse(f"/login?next={quote(error.next_url, safe='/')}", status_code=303)


@api_router.post("/login")
async def api_login(request: Request) -> JSONResponse:
    """``{"login", "password"}`` -> a session cookie and its CSRF token.

    JSON only, so no cross-site HTML form can post it.
    """
    from web.api import json_body

    locale = _locale(request)
    if not request.headers.get("content-type", "").startswith("application/json"):
        text = "请求须为 JSON" if locale == "zh" else "send the credentials as application/json"
        raise EngineError(text, status=415, code="unsupported_media_type")
    body = await json_body(request)
    issues = [
        Issue("required", "required" if locale == "en" else "必填", field=name)
        for name in ("login", "password")
        if not isinstance(body, dict) or not isinstance(body.get(name), str) or not body.get(name)
    ]
    if issues:
        raise EngineError(
            "login and password are required" if locale == "en" else "请输入登录名和密码",
            status=422,
            code="invalid",
            issues=issues,
        )
    remote = request.client.host if request.client else ""
    session = await run_in_threadpool(
        _authenticator(request).login, body["login"], body["password"], remote=remote, locale=locale
    )
    response = JSONResponse({"ok": True, "user": _me(session.principal), "csrf_token": session.csrf})
    _set_session(response, request, session)
    return response


@api_router.post("/logout")
async def api_logout(request: Request, user: PrincipalDep) -> JSONResponse:
    """End the calling session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(_authenticator(request).logout, cookie)
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _me(user: Principal) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "login": user.login,
        "name": user.name,
        "locale": user.locale,
        "roles": sorted(user.roles),
        "department_id": user.department_id,
    }
