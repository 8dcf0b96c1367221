"""The REST API (``/api/v1``). Routes parse the request, call one service function, answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from engine.i18n import Locale, localize, parse_accept_language
from engine.issues import EngineError, Issue
from forms.access import FormAccess
from forms.listing import FilterSpec, ListQuery
from forms.records import Actor
from forms.validation import field_path
from web.app import Services
from web.auth import PrincipalDep, via
from web.schemas import ERROR_RESPONSES, form_summary, record_schema

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
MAX_ID = 2**63 - 1  # ids and versions are BIGINT columns; larger numbers cannot match and overflow the driver
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
NUL_MESSAGE = "text must not contain the NUL character (\\u0000)"
RECORD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Field values by key; GET /api/v1/forms/{form} gives the form's JSON Schema.",
                }
            }
        },
    }
}


async def services(request: Request) -> Services:
    """The app's services."""
    return request.app.state.services  # type: ignore[no-any-return]


async def locale(accept_language: Annotated[str | None, Header()] = None) -> Locale:
    """The caller's language from Accept-Language (Chinese by default)."""
    return parse_accept_language(accept_language)


def known_params(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency that answers 422 naming any query parameter the route does not take."""

    async def check(request: Request) -> None:
        _refuse_nul_parameters(request)
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            issues = [
                Issue(
                    "unknown_parameter",
                    f"unknown query parameter '{name}'",
                    field=name,
                    hint=f"accepted: {', '.join(names)}" if names else "this route takes no parameters",
                )
                for name in unknown
            ]
            raise EngineError(
                f"unknown query parameter(s): {', '.join(unknown)}", status=422, code="unknown_parameter", issues=issues
            )

    return check


def _refuse_nul_parameters(request: Request) -> None:
    """PostgreSQL cannot store or compare NUL characters: refuse them up front, on every backend."""
    given = [*request.query_params.multi_items(), *request.path_params.items()]
    names = sorted({name for name, value in given if "\x00" in f"{name}{value}"})
    if names:
        issues = [Issue("nul_character", NUL_MESSAGE, field=name) for name in names]
        raise EngineError(
            f"parameter(s) {', '.join(names)}: {NUL_MESSAGE}", status=422, code="nul_character", issues=issues
        )


ServicesDep = Annotated[Services, Depends(services)]
LocaleDep = Annotated[Locale, Depends(locale)]
NoParams = Depends(known_params())


async def actor(request: Request, user: PrincipalDep, lang: LocaleDep) -> Actor:
    """The signed-in user as the records service sees them: every call is permission-checked."""
    return Actor(locale=lang, principal=user, via=via(request))


ActorDep = Annotated[Actor, Depends(actor)]


def form_access(svc: Services, form: str, who: Actor) -> FormAccess:
    """The caller's rights on ``form``; a form they can do nothing with is unknown to them (404)."""
    assert who.principal is not None
    access = svc.policy.access(who.principal, form)
    if not any(access.can(action) for action in ("read", "create", "manage")):
        svc.policy.require(access, "read", who.locale)
    return access


def visible_forms(svc: Services, who: Actor) -> set[str]:
    """Keys of the forms the caller can read or create in."""
    assert who.principal is not None
    keys = set()
    for runtime in svc.catalog.forms():
        access = svc.policy.access(who.principal, runtime.key)
        if access.can("read") or access.can("create") or access.can("manage"):
            keys.add(runtime.key)
    return keys


async def json_body(request: Request) -> Any:
    """Read the JSON body; syntax errors answer 422 with line:col, NUL characters 422 by field."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except RecursionError:
        issue = Issue("invalid_json", "invalid JSON: nested too deeply")
        raise EngineError(
            "the request body is nested too deeply", status=422, code="invalid_json", issues=[issue]
        ) from None
    except json.JSONDecodeError as error:
        issue = Issue("invalid_json", f"invalid JSON: {error.msg}", line=error.lineno, col=error.colno)
        raise EngineError(
            "the request body is not valid JSON", status=422, code="invalid_json", issues=[issue]
        ) from None
    except UnicodeDecodeError:
        raise EngineError("the request body is not UTF-8", status=422, code="invalid_json") from None
    issues = _nul_issues(body)
    if issues:
        raise EngineError(f"the request body: {NUL_MESSAGE}", status=422, code="nul_character", issues=issues)
    return body


def _nul_issues(body: Any) -> list[Issue]:
    """One issue per string (or key) holding a NUL character, named by its field path (no recursion)."""
    issues: list[Issue] = []
    pending: list[tuple[tuple[int | str, ...], Any]] = [((), body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            issues.append(Issue("nul_character", NUL_MESSAGE, field=field_path(path) or None))
        elif isinstance(value, dict):
            pending += [((*path, key), child) for key, child in value.items()]
            pending += [((*path, key), key) for key in value if "\x00" in key]
        elif isinstance(value, list):
            pending += [((*path, index), child) for index, child in enumerate(value)]
    return sorted(issues, key=lambda issue: issue.field or "")


def _version(if_match: str | None, body: Any) -> int | None:
    candidate: Any = if_match.strip().removeprefix("W/").strip('"') if if_match else None
    if candidate is None and isinstance(body, dict):
        candidate = body.pop("version", None)
    elif isinstance(body, dict):
        body.pop("version", None)
    if candidate is None:
        return None
    if isinstance(candidate, str) and candidate.isascii() and candidate.isdigit():
        candidate = int(candidate)
    # bool is an int, and int() would truncate 1.5: only whole numbers a BIGINT column holds are versions
    if isinstance(candidate, int) and not isinstance(candidate, bool) and 1 <= candidate <= MAX_ID:
        return candidate
    raise EngineError(
        f"version must be a positive integer, got {candidate!r}",
        status=422,
        code="bad_version",
        issues=[Issue("bad_version", "version must be a positive integer", field="version")],
    )


def _etag(record: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{record["version"]}"'}


@router.get("/apps", dependencies=[NoParams])
def list_apps(svc: ServicesDep, who: ActorDep) -> dict[str, Any]:
    """Installed apps and the forms of each the caller may use."""
    visible = visible_forms(svc, who)
    items = [{**app, "forms": [key for key in app["forms"] if key in visible]} for app in svc.catalog.apps()]
    return {"ok": True, "items": items}


@router.get("/forms", dependencies=[NoParams])
def list_forms(svc: ServicesDep, lang: LocaleDep, who: ActorDep) -> dict[str, Any]:
    """Installed forms the caller may use, with their labels, versions and the caller's actions."""
    visible = visible_forms(svc, who)
    items = []
    for runtime in svc.catalog.forms():
        if runtime.key in visible:
            assert who.principal is not None
            access = svc.policy.access(who.principal, runtime.key)
            actions = [a for a in ("create", "read", "update", "delete", "export", "manage") if access.can(a)]
            items.append({**form_summary(runtime, lang), "actions": actions})
    return {"ok": True, "items": items}


@router.get("/forms/{form}", dependencies=[NoParams])
def get_form(form: str, svc: ServicesDep, lang: LocaleDep, who: ActorDep) -> dict[str, Any]:
    """A form's definition (as stored) and the JSON Schema of its records."""
    form_access(svc, form, who)
    runtime = svc.catalog.form(form)
    definition = runtime.definition.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"ok": True, **form_summary(runtime, lang), "definition": definition, "json_schema": record_schema(runtime)}


@router.get(
    "/forms/{form}/records",
    dependencies=[Depends(known_params("filter", "sort", "limit", "cursor", "count", "expand", "q"))],
)
def list_records(
    form: str,
    svc: ServicesDep,
    lang: LocaleDep,
    filter: Annotated[list[str] | None, Query(description="path:op:value, e.g. account.industry:eq:it")] = None,
    sort: Annotated[str | None, Query(description="comma-separated keys, '-' for descending")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    count: bool = False,
    expand: Annotated[str | None, Query(description="comma-separated relation/user fields")] = None,
    q: Annotated[str | None, Query(max_length=200, description="search in the title field")] = None,
    *,
    who: ActorDep,
) -> dict[str, Any]:
    """A page of the records the caller may read (keyset pagination: pass ``next_cursor`` back as ``cursor``)."""
    access = form_access(svc, form, who)
    svc.policy.require(access, "read", lang)
    runtime = svc.catalog.form(form)
    query = ListQuery(
        filters=tuple(_filter(raw) for raw in filter or []),
        sort=_sort(sort),
        limit=limit,
        cursor=cursor,
        count=count,
        expand=_names(expand),
        search=q,
    )
    with svc.database.read() as connection:
        page = svc.lister.page(connection, runtime, query, lang, access=access, today=svc.records.clock().date())
    return {"ok": True, **page.to_dict()}


def _filter(raw: str) -> FilterSpec:
    parts = raw.split(":", 2)
    if len(parts) == 2:
        return FilterSpec(parts[0], "eq", parts[1])
    if len(parts) == 3:
        return FilterSpec(*parts)
    raise EngineError(
        f"filter '{raw}' should look like path:op:value",
        status=422,
        code="bad_filter",
        issues=[Issue("bad_filter", "expected path:op:value", field="filter", hint="e.g. tier:eq:core")],
    )


def _sort(raw: str | None) -> tuple[tuple[str, bool], ...]:
    return tuple((part.lstrip("-"), part.startswith("-")) for part in _names(raw))


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (raw or "").split(",") if p.strip())


@router.post("/forms/{form}/records", status_code=201, dependencies=[NoParams], openapi_extra=RECORD_BODY)
async def create_record(form: str, request: Request, svc: ServicesDep, who: ActorDep) -> JSONResponse:
    """Create a record; answers 201 with the stored record, 422 with every problem, 409 on a unique clash."""
    body = await json_body(request)
    # Database work runs in the thread pool so one slow write never blocks the event loop.
    record = await run_in_threadpool(svc.records.create, form, body, actor=who)
    return JSONResponse({"ok": True, "record": record}, status_code=201, headers=_etag(record))


@router.get("/forms/{form}/records/{record_id}", dependencies=[NoParams])
def get_record(form: str, record_id: RecordId, svc: ServicesDep, who: ActorDep) -> JSONResponse:
    """One record with its sub-table rows and links (404 also when the caller may not read it)."""
    record = svc.records.get(form, record_id, actor=who)
    return JSONResponse({"ok": True, "record": record}, headers=_etag(record))


@router.get("/forms/{form}/records/{record_id}/history", dependencies=[Depends(known_params("limit"))])
def record_history(
    form: str, record_id: RecordId, svc: ServicesDep, who: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Who changed the record, when, how (ui, api, import, flow, rule) and what (field before/after)."""
    return {"ok": True, "items": svc.records.history(form, record_id, actor=who, limit=limit)}


@router.patch("/forms/{form}/records/{record_id}", dependencies=[NoParams], openapi_extra=RECORD_BODY)
async def update_record(
    form: str,
    record_id: RecordId,
    request: Request,
    svc: ServicesDep,
    who: ActorDep,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Change some fields; needs the version you read (If-Match or ``version``), 409 if it moved on."""
    body = await json_body(request)
    version = _version(if_match, body)
    record = await run_in_threadpool(svc.records.update, form, record_id, body, version=version, actor=who)
    return JSONResponse({"ok": True, "record": record}, headers=_etag(record))


@router.delete("/forms/{form}/records/{record_id}", status_code=204, dependencies=[NoParams])
def delete_record(
    form: str, record_id: RecordId, svc: ServicesDep, who: ActorDep, if_match: Annotated[str | None, Header()] = None
) -> Response:
    """Delete a record (with If-Match, only if still at that version)."""
    svc.records.delete(form, record_id, version=_version(if_match, None), actor=who)
    return Response(status_code=204)


@router.post("/forms/{form}/fields/{field}/files", status_code=201, dependencies=[NoParams])
async def upload_file(
    form: str, field: str, file: Annotated[UploadFile, File()], svc: ServicesDep, lang: LocaleDep, who: ActorDep
) -> JSONResponse:
    """Upload a file for an attachment field; put the returned ``id`` into the record's field."""
    access = form_access(svc, form, who)
    if not (access.can("create") or access.can("update")):
        svc.policy.require(access, "update", lang)
    if "\x00" in f"{file.filename}{file.content_type}":
        issue = Issue("nul_character", NUL_MESSAGE, field="file")
        raise EngineError(f"the file name or type: {NUL_MESSAGE}", status=422, code="nul_character", issues=[issue])
    data = await file.read()
    meta = await run_in_threadpool(
        svc.files.upload,
        form,
        field,
        name=file.filename or "file",
        data=data,
        locale=lang,
        content_type=file.content_type or "application/octet-stream",
    )
    return JSONResponse({"ok": True, "file": meta}, status_code=201)


@router.get("/files/{file_id}", dependencies=[NoParams])
def download_file(file_id: str, svc: ServicesDep, who: ActorDep) -> Response:
    """Download an uploaded file (the caller must be able to read the form it belongs to)."""
    meta, data = svc.files.download(file_id)
    access = svc.policy.access(who.principal, meta["form_key"]) if who.principal is not None else None
    if access is not None and not access.can("read"):
        from engine.issues import NotFoundError

        raise NotFoundError("file not found" if who.locale == "en" else "文件不存在", code="unknown_file")
    disposition = f"attachment; filename*=UTF-8''{_quote(meta['name'])}"
    return Response(data, media_type=meta["content_type"], headers={"Content-Disposition": disposition})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


__all__ = ["localize", "router"]


health_router = APIRouter()


@health_router.get("/healthz", dependencies=[NoParams])
def healthz(svc: ServicesDep) -> JSONResponse:
    """Liveness and database reachability (anonymous)."""
    try:
        with svc.database.read() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception:
        error = EngineError("database unreachable", status=503, code="database_unreachable")
        return JSONResponse(error.to_dict(), status_code=503)
    return JSONResponse({"ok": True, "database": svc.database.dialect})
