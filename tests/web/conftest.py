"""The CRM app the web tests run against, served by a real uvicorn server.

Two ways to get a server:

* ``serve(**settings)`` - a fresh database of the test's backend (``db_url``) and a server started
  with ``live_server``; for tests that change settings or need an untouched database.
* ``shared`` - one database and server per module and backend, for the many table-driven cases
  that only need *a* server. Tests that write to it use names unique to the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from api_checks import check_no_server_error
from crm_app import Served, install_crm

ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"


def _client(url: str, token: str | None = None) -> httpx.Client:
    """A client that fails the test on any 5xx answer or leaked traceback (signed in with ``token``)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, timeout=15, headers=headers, event_hooks={"response": [check_no_server_error]})


@pytest.fixture
def serve(db_url: str, tmp_path: Path, live_server: Callable[..., Any]) -> Iterator[Callable[..., Served]]:
    """Install the CRM app into the test's fresh database, then start servers with given settings."""
    token = install_crm(db_url, tmp_path / "crm")
    started: list[tuple[Any, httpx.Client]] = []

    def start(**settings: Any) -> Served:
        server = live_server(**settings)
        started.append((server, _client(server.url, token)))
        return Served(server.url, started[-1][1], server.server.config.app.state.services.database)

    yield start
    for server, client in started:
        client.close()
        _dispose(server)


def _dispose(server: Any) -> None:
    """Close the server's pooled connections (before its PostgreSQL database is dropped)."""
    server.server.config.app.state.services.database.dispose()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    """A server with default settings on the test's fresh database."""
    return serve()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give ``shared`` one module-wide server per backend (PostgreSQL only in ``pg`` modules)."""
    if "shared_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("pg"):
            backends.append("postgresql")
        metafunc.parametrize("shared_backend", backends, scope="module")


def _root_conftest(config: pytest.Config) -> ModuleType:
    """The tests' root conftest (its ``LiveServer`` and PostgreSQL helpers, reused here)."""
    module = config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    assert isinstance(module, ModuleType)
    return module


@pytest.fixture(scope="module")
def shared(
    shared_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A server with the CRM app on a database shared by every test of the module."""
    root = _root_conftest(request.config)
    tmp = tmp_path_factory.mktemp("shared")
    with root.fresh_database_url(shared_backend, tmp) as db_url:
        token = install_crm(db_url, tmp / "crm")
        server = root.LiveServer(db_url, tmp / "files").start()
        try:
            with _client(server.url, token) as client:
                yield Served(server.url, client)
        finally:
            server.stop()
            _dispose(server)
