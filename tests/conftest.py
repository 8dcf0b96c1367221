"""Shared fixtures: fresh databases (SQLite, and PostgreSQL for suites marked ``pg``), bundles, servers.

PostgreSQL tests need a server (``TESSERA_TEST_PG_URL``, default the local one). They fail
loudly when it is missing; set ``TESSERA_SKIP_PG=1`` to skip them on a machine without one.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current
from forms.catalog import Catalog
from forms.install import InstallResult, install_bundle
from forms.listing import RecordLister
from forms.records import RecordsService

PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests that use ``db_url`` on SQLite, and also on PostgreSQL when marked ``pg``."""
    if "db_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("pg"):
            backends.append("postgresql")
        metafunc.parametrize("db_backend", backends, scope="function")


def _pg_admin() -> sa.Engine:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        if os.environ.get("TESSERA_SKIP_PG") == "1":
            pytest.skip("PostgreSQL not available and TESSERA_SKIP_PG=1")
        pytest.fail(f"PostgreSQL is required for this test but unreachable at {PG_ADMIN_URL}: {error}")
    return engine


@contextmanager
def fresh_database_url(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a file in ``folder``, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    admin = _pg_admin()
    name = f"tessera_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of the test's backend."""
    with fresh_database_url(db_backend, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database per backend for a whole module (creating a PostgreSQL database takes ~0.7 s);
    each test uses forms of its own."""
    with fresh_database_url(request.param, tmp_path_factory.mktemp("db")) as url:
        database = Database(url)
        try:
            ensure_current(database)
            yield database
        finally:
            database.dispose()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A fresh database with the engine's tables."""
    db = Database(db_url)
    ensure_current(db)
    yield db
    db.dispose()


BundleMaker = Callable[..., Path]


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleMaker:
    """Write an app bundle: ``make_bundle({"form_key": {...form document...}}, app_key="t")``."""
    counter = {"n": 0}

    def make(forms: dict[str, dict[str, Any]], *, app_key: str = "t") -> Path:
        counter["n"] += 1
        root = tmp_path / f"bundle{counter['n']}"
        (root / "forms").mkdir(parents=True)
        app = {"kind": "app", "key": app_key, "schema_version": 1, "label": {"zh": "测试", "en": "Test"}}
        (root / "app.json").write_text(json.dumps(app), encoding="utf-8")
        for key, document in forms.items():
            full = {"kind": "form", "key": key, "schema_version": 1, "label": key, **document}
            (root / "forms" / f"{key}.json").write_text(json.dumps(full, ensure_ascii=False, indent=1), "utf-8")
        return root

    return make


def install(database: Database, root: Path, *, apply: bool = True) -> InstallResult:
    """Load and install a bundle, failing the test on definition issues."""
    bundle, issues = load_bundle(root)
    assert bundle is not None, [i.render() for i in issues]
    return install_bundle(database, bundle, apply=apply)


class Services:
    """The forms services on one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.catalog = Catalog(database)
        self.records = RecordsService(database=database, catalog=self.catalog)
        self.lister = RecordLister(self.catalog, database.dialect)


@pytest.fixture
def services(database: Database) -> Services:
    """Records services on the fresh database."""
    return Services(database)


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server in a thread, serving ``create_app`` for one database."""

    def __init__(self, db_url: str, files_dir: Path, **settings: Any) -> None:
        import uvicorn

        from web.app import create_app
        from web.settings import Settings

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(Settings(database_url=db_url, files_dir=files_dir, **settings))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Callable[..., LiveServer]:
    """Start a server for the test's database (after the test installed what it needs)."""
    started: list[LiveServer] = []

    def start(**settings: Any) -> LiveServer:
        server = LiveServer(db_url, tmp_path / "files", **settings).start()
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()
