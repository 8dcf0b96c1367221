"""The FastAPI application factory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import forms.definition  # noqa: F401 - registers the form kind
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
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
    )


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the app: API under ``/api/v1``, pages at ``/``, OpenAPI at ``/docs``."""
    from web import api, pages

    app = FastAPI(title="Tessera", version="0.1.0", description="Low-code engine: forms, records and apps.")
    app.state.services = services or build_services(settings)
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(api.health_router)
    app.include_router(pages.router)
    # Plain ES modules (the formula interpreter, later the UI), served as files: no Node build.
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(
        BodyLimitMiddleware,
        max_json=settings.max_json_bytes,  # type: ignore[arg-type]
        max_upload=settings.max_upload_bytes,
    )
    return app
