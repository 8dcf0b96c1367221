"""Shared fixtures: fresh databases (SQLite, and PostgreSQL for suites marked ``pg``), bundles, servers.

PostgreSQL tests need a server (``TESSERA_TEST_PG_URL``, default the local one). They fail
loudly when it is missing; set ``TESSERA_SKIP_PG=1`` to skip them on a machine without one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tessera_testing import (  # noqa: F401 - re-exported for conftest plugins (tests/web, tests/browser)
    PG_ADMIN_URL,
    LiveServer,
    Services,
    fresh_database_url,
    install,
)

import forms.definition  # noqa: F401 - registers the form kind
from engine.identity.passwords import use_cheap_parameters_for_tests
from engine.storage.database import Database
from engine.storage.schema_version import ensure_current

use_cheap_parameters_for_tests()  # argon2 at full cost takes ~0.1-1 s a hash; tests hash hundreds


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests that use ``db_url`` on SQLite, and also on PostgreSQL when marked ``pg``."""
    if "db_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("pg"):
            backends.append("postgresql")
        metafunc.parametrize("db_backend", backends, scope="function")


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


@pytest.fixture
def services(database: Database) -> Services:
    """Records services on the fresh database."""
    return Services(database)


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
