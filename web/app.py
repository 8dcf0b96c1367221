"""The FastAPI application factory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import forms.definition  # noqa: F401 - registers the form kind
from engine.identity.auth import Authenticator
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.access import Policy
from forms.catalog import Catalog
from forms.files import BlobStore, DatabaseStore, DiskStore, FilesService
from forms.listing import RecordLister
from forms.records import RecordsService
from web.errors import BodyLimitMiddleware, install_error_handlers
from web.settings import Settings

HERE = Path(__file__).parent


@dataclass
class Services:
    """What routes call: one instance per app."""

    settings: Settings
    database: Database
    catalog: Catalog
    records: RecordsService
    lister: RecordLister
    files: FilesService
    auth: Authenticator

    @property
    def policy(self) -> Policy:
        """The permission policy (shared with the records service)."""
        return self.records.policy


def build_services(settings: Settings) -> Services:
    """Connect to the database (creating the engine tables of an empty one) and wire the services."""
    database = Database(settings.database_url)
    ensure_current(database)
    catalog = Catalog(database)
    store: BlobStore = DatabaseStore() if settings.file_store == "db" else DiskStore(settings.files_dir)
    return Services(
        settings=settings,
        database=database,
        catalog=catalog,
        records=RecordsService(database=database, catalog=catalog),
        lister=RecordLister(catalog, database.dialect),
        files=FilesService(database=database, catalog=catalog, store=store),
        auth=Authenticator(database),
    )


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the app: API under ``/api/v1``, pages at ``/``, OpenAPI at ``/docs``."""
    from web import api, auth, identity_api, pages

    app = FastAPI(
        title="Tessera",
        version="0.1.0",
        description="Low-code engine: forms, records and apps. Authenticate with `Authorization: Bearer <API token>`.",
        docs_url=None,
        openapi_url=None,
    )
    app.state.services = services or build_services(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["csrf_token"] = auth.csrf_token
    templates.env.globals["current_user"] = lambda request: getattr(request.state, "principal", None)
    app.state.templates = templates
    install_error_handlers(app)

    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, error: auth.LoginRequired) -> Response:
        return auth.login_redirect(request, error)

    signed_in = [Depends(auth.principal)]
    app.include_router(auth.router)
    app.include_router(auth.api_router)
    app.include_router(api.router, dependencies=signed_in)
    app.include_router(identity_api.router, dependencies=signed_in)
    app.include_router(api.health_router)
    app.include_router(pages.router, dependencies=signed_in)

    @app.get("/openapi.json", include_in_schema=False, dependencies=signed_in)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=signed_in)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Tessera API")

    # Plain ES modules (the formula interpreter, later the UI), served as files: no Node build.
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(
        BodyLimitMiddleware,
        max_json=settings.max_json_bytes,
        max_upload=settings.max_upload_bytes,
    )
    return app
