"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real uvicorn server.

Chromium must be at ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it)
and the ``playwright`` package installed (the ``dev`` extra). Playwright's own browser download
(``playwright install``) is never used. Without either, every test here FAILS with the reason.

One browser and one server per test session (per xdist worker): the server runs on a SQLite
database holding the ``shop`` app of ``shop_app.py`` and the KAM starter. Each test gets a fresh
page (in one browser context); tests that save records use titles of their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import httpx
import pytest
from browser_site import LOGIN, PASSWORD, Site, install_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"


def _root_conftest(config: pytest.Config) -> ModuleType:
    module = config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    assert isinstance(module, ModuleType)
    return module


@pytest.fixture(scope="session")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server (real uvicorn) on a SQLite database with the shop app and the KAM starter."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'site.db'}"
    ids, token = install_site(url, folder)
    server = _root_conftest(request.config).LiveServer(url, folder / "files").start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, timeout=15, headers=headers) as api:
            for form in ("quote", "account", "opportunity"):  # load the catalog and parse the formulas once
                assert api.get(f"/forms/{form}/new").status_code == 200
            yield Site(server.url, api, ids, token)
    finally:
        server.stop()
        server.server.config.app.state.services.database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched headless once per session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need the playwright package: pip install -e '.[dev]'")
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser_context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """One context for the session (a context costs ~0.4 s; the pages keep no state worth isolating)."""
    context = browser.new_context(base_url=site.url, locale="zh-CN")
    # Generous for a loaded two-core CI machine; a passing step takes milliseconds.
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(20_000)
    sign_in = context.new_page()  # through the login form, as a person does: the session cookie stays
    sign_in.goto("/forms/quote")
    assert "/login?next=/forms/quote" in sign_in.url
    sign_in.fill("#login", LOGIN)
    sign_in.fill("#password", PASSWORD)
    sign_in.click("#submit")
    sign_in.wait_for_url("**/forms/quote")
    sign_in.close()
    yield context
    context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    """A fresh page; the test fails on any script error in it."""
    one = browser_context.new_page()
    errors: list[str] = []
    one.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    # A 4xx answer to the page's own fetch() is logged as "Failed to load resource": expected here.
    one.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield one
    one.close()
    assert errors == []
