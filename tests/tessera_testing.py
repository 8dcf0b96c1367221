"""Helpers the test modules import (``from tessera_testing import ...``): databases, installs, servers.

They live here, not in ``conftest.py``: several test folders have a ``conftest.py`` of their own,
so ``from conftest import`` would get whichever one was imported last.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import load_bundle
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.install import InstallResult, install_bundle
from forms.listing import RecordLister
from forms.records import RecordsService

PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


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
