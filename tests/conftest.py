"""Shared fixtures: settings pointing at the local wiki (mwsso-devwiki's pytest plugin runs it), and a full login helper."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from mwsso_devwiki.testing import DevWiki, authorize

# The local wiki's built-in test consumer: approved, callback prefix http://127.0.0.1:1/complete/mediawiki/ (any port).
from mwsso import http, site_probe

TEST_CONSUMER_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TEST_CONSUMER_SECRET = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3"
SITE_HOST = "127.0.0.1:8000"

ALLAUTH_RUN = os.environ.get("DJANGO_SETTINGS_MODULE") == "tests.allauth.settings"


ALLAUTH_TESTS = Path(__file__).parent / "allauth"


def _other_runs(path: Path) -> bool:
    return path.name.startswith("test_") and ALLAUTH_RUN != path.is_relative_to(ALLAUTH_TESTS)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A django-allauth site's settings hold for a whole run: make test's second pytest runs tests/allauth, the first the rest."""
    return True if collection_path.suffix == ".py" and _other_runs(collection_path) else None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--serial",
        choices=("all", "skip", "only"),
        default="all",
        help="all: every test (default); skip: leave out the tests marked serial (make test runs the rest on "
        "pytest-xdist workers); only: just those, run one at a time after the others.",
    )


# Tests that cannot share the machine with other tests running at the same time: they run after the parallel
# part, one at a time. Marked by hand (``@pytest.mark.serial``) or by these markers, whose tests all qualify
# (Chromium; gunicorn with many processes and throughput figures)...
SERIAL_MARKERS = ("serial", "browser", "production")
# ...or by these fixtures: tests/test_hostile.py's scripted wiki, whose answers are timed against a read timeout
# of 0.5 s and bounds of 2 s (its gzip bomb also measures a memory peak). Measured: with three workers beside
# them on two cores, a well-behaved answer missed the 0.5 s now and then.
SERIAL_FIXTURES = ("hostile",)


def _serial(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return any(item.get_closest_marker(name) for name in SERIAL_MARKERS) or any(f in fixtures for f in SERIAL_FIXTURES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Files named on the command line are collected whatever pytest_ignore_collect says.
    other = [item for item in items if _other_runs(item.path)]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not _other_runs(item.path)]
    which = config.getoption("serial")
    if which != "all":
        left_out = [item for item in items if _serial(item) != (which == "only")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if _serial(item) == (which == "only")]


@pytest.fixture(autouse=True)
def _fresh_site_checks() -> Iterator[None]:
    """Each test starts without another's cached "does the wiki accept the site?" answer (mwsso.site_probe)."""
    site_probe.clear()
    yield
    site_probe.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with no sign-in starts counted (mwsso.ratelimit keeps them in the cache)."""
    from django.core.cache import caches

    caches["default"].clear()
    yield


# The local wiki: mwsso-devwiki's pytest plugin gives every test ``devwiki`` (reset around each test) and
# ``devwiki_server`` (one wiki on a free port for the whole session), as it gives a site's own tests.


def use_test_consumer(settings: Any, index_url: str) -> None:
    """Point the OAuth 1.0a backend at the wiki at ``index_url`` with the test consumer."""
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = index_url
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = TEST_CONSUMER_KEY
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET
    settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"


@pytest.fixture
def wiki_settings(settings, devwiki: DevWiki):  # type: ignore[no-untyped-def]
    """Django settings pointing the backend at the local wiki with the test consumer."""
    use_test_consumer(settings, devwiki.index_url)
    http.reset_session()
    yield settings
    http.reset_session()


@pytest.fixture
def site_client() -> Client:
    """A Django test client on the host the wiki's callback rule accepts (127.0.0.1)."""
    return Client(HTTP_HOST=SITE_HOST)


def start_login(client: Client, next_url: str = "") -> str:
    """POST the sign-in button; returns the wiki's authorize URL the site redirected to."""
    response = client.post("/login/mediawiki/", {"next": next_url} if next_url else {})
    assert response.status_code in (302, 303), response.content[:500]
    return response["Location"]


def callback_path(location: str) -> str:
    """The site-relative part of the wiki's redirect back to us."""
    parts = urlsplit(location)
    assert parts.netloc == SITE_HOST, location
    return f"{parts.path}?{parts.query}"


def wiki_login(client: Client, devwiki: DevWiki, user: str = "Alice"):  # type: ignore[no-untyped-def]
    """The whole sign-in: site → wiki authorize page (Allow as ``user``) → site callback. Returns the callback's response."""
    authorize_url = start_login(client)
    allowed = authorize(None, authorize_url, user=user, action="accept")
    assert allowed.status_code == 302, allowed.text[:500]
    return client.get(callback_path(allowed.headers["Location"]))


def signed_in_on(wiki: DevWiki, settings: Any, client: Client, user: str = "Alice") -> Iterator[Any]:
    """For a fixture to ``yield from``: ``wiki`` reset, ``user`` signed in through it with the test consumer; yields the Django user."""
    from django.contrib.auth import get_user_model

    wiki.reset()
    use_test_consumer(settings, wiki.index_url)
    http.reset_session()
    assert wiki_login(client, wiki, user).status_code == 302
    yield get_user_model().objects.get(username=user)
    http.reset_session()


@pytest.fixture
def login(wiki_settings, devwiki: DevWiki):  # type: ignore[no-untyped-def]
    """``login(client, user="Alice")``: sign ``client`` in through the local wiki."""

    def _login(client: Client, user: str = "Alice"):  # type: ignore[no-untyped-def]
        return wiki_login(client, devwiki, user)

    return _login


@pytest.fixture
def client_factory():  # type: ignore[no-untyped-def]
    """Make more browsers (test clients with their own cookies) on the site's host."""
    return lambda: Client(HTTP_HOST=SITE_HOST)
