"""One error shape for the API (``{"ok": false, "status", "error", "issues"}``) and pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.issues import EngineError, Issue
from forms.validation import field_path

log = logging.getLogger("tessera.web")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def render_error(request: Request, error: EngineError) -> Response:
    """Answer JSON for the API and a small HTML page for browsers."""
    if _wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"error": error}, status_code=error.status, headers=error.headers or None
        )
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the one error shape."""

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, error: EngineError) -> Response:
        return render_error(request, error)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, error: RequestValidationError) -> Response:
        issues = [Issue(str(e["type"]), str(e["msg"]), field=field_path(tuple(e["loc"]))) for e in error.errors()]
        return render_error(request, EngineError("invalid request", status=422, code="invalid_request", issues=issues))

    @app.exception_handler(_BodyTooLarge)
    async def body_too_large(request: Request, error: _BodyTooLarge) -> Response:
        return render_error(request, _too_large_error(error.limit))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "not found" if error.status_code == 404 else str(error.detail)
        return render_error(request, EngineError(message, status=error.status_code, code=f"http_{error.status_code}"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return render_error(
            request, EngineError("internal error; the server log has the details", status=500, code="internal")
        )


class BodyLimitMiddleware:
    """Refuse request bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: object, *, max_json: int, max_upload: int) -> None:
        self.app = app
        self.max_json = max_json
        self.max_upload = max_upload

    async def __call__(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # type: ignore[operator]
            return
        limit = self.max_upload if scope["path"].endswith("/files") else self.max_json
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def limited_receive() -> dict:  # type: ignore[type-arg]
            nonlocal received
            message = await receive()  # type: ignore[operator]
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge(limit)
            return message  # type: ignore[no-any-return]

        try:
            await self.app(scope, limited_receive, send)  # type: ignore[operator]
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(StarletteHTTPException):
    """Raised by the limited ``receive``; an HTTPException, so FastAPI's form parsing passes it on as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")
        self.limit = limit


def _too_large_error(limit: int) -> EngineError:
    return EngineError(f"request body larger than {limit} bytes", status=413, code="body_too_large")


async def _too_large(send: object, limit: int) -> None:
    body = JSONResponse(_too_large_error(limit).to_dict()).body
    await send(
        {
            "type": "http.response.start",
            "status": 413,  # type: ignore[operator]
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]
