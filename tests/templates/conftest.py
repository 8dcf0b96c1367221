"""The KAM starter installed with its demo data: one database per backend for the whole session.

``tessera demo`` computes every formula field while it loads the data (each monthly row, contact,
opportunity and interaction recomputes its account), which takes minutes, so the tests that read
the demo share one database per backend. A test that changes it must undo its change.

``demo_db`` runs on SQLite, and on PostgreSQL as well in modules marked ``pg``.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from kam_demo_db import DemoDatabase

from web.cli import main

ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One demo database per backend, shared by every test (PostgreSQL only in ``pg`` modules)."""
    if "demo_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("pg"):
            backends.append("postgresql")
        metafunc.parametrize("demo_backend", backends, scope="session")


def _root_conftest(config: pytest.Config) -> ModuleType:
    """The tests' root conftest (its PostgreSQL helpers, reused here)."""
    module = config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    assert isinstance(module, ModuleType)
    return module


@pytest.fixture(scope="session")
def demo_db(
    demo_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoDatabase]:
    """Run ``tessera demo`` (in-process) on a fresh database of ``demo_backend``, once per session."""
    root = _root_conftest(request.config)
    folder = tmp_path_factory.mktemp(f"kam-demo-{demo_backend}")
    with root.fresh_database_url(demo_backend, folder) as url:
        printed = io.StringIO()
        today = datetime.now(UTC).date()
        started = time.perf_counter()
        with contextlib.redirect_stdout(printed):
            code = main(["demo", "--db", url])
        seconds = time.perf_counter() - started
        assert code == 0, printed.getvalue()
        yield DemoDatabase(url, demo_backend, printed.getvalue(), seconds, today)
