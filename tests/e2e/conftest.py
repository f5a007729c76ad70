"""A real Chromium (Debian's, driven by Playwright) against the demo site and the local wiki, both on 127.0.0.1.

Without Chromium or Playwright the browser tests skip with the reason, except
in CI (``CI=true``), where a missing browser is a failure: CI must run them.
Each test's screenshots land in ``artifacts/screenshots/<test>/`` (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The wiki's test consumer accepts callbacks on http://127.0.0.1:<any port>/, not on localhost;
# pytest-django's live_server reads this when it starts.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("MWSSO_CHROMIUM", "/usr/bin/chromium")
# Headless as root needs --no-sandbox; the background-networking flags keep Chromium from calling
# Google's hosts, which a closed network refuses (and which slows every start).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements.txt)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set MWSSO_CHROMIUM)"
    return None


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh headless Chromium page (its own profile and cookies) for one test."""
    missing = missing_browser()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run: {missing} (CI=true: they must run in CI)", pytrace=False)
        pytest.skip(f"browser tests need Chromium and Playwright: {missing}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread; Django would then refuse the
    # test's own ORM checks. Nothing else runs on that loop while the test queries, so this is safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 800})
            context.set_default_timeout(15_000)
            yield context.new_page()
            context.close()
            # While Playwright's loop runs, Django keeps the test's own queries on a connection of this
            # (async) context, which the test database teardown would find still open: close it here.
            from django.db import connections

            connections.close_all()
        finally:
            browser.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, page: Any) -> Callable[[str], Path]:
    """``screenshot("allow")`` saves the page as artifacts/screenshots/<test>/<NN>-allow.png."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    taken: list[Path] = []

    def take(step: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


def log_in_on_wiki(page: Any, sub: int) -> None:
    """The local wiki's Special:UserLogin, unless the browser is signed in there already: pick the user
    (radio ``#wpUser-<central id>``), Log in, and land on the authorize dialog."""
    if page.locator("#userloginForm").count():
        page.check(f"#wpUser-{sub}")
        page.click("#wpLoginAttempt")
        page.wait_for_selector("#mw-mwoauth-accept")
