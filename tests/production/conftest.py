"""Fixtures of the production-like tests: one deployment per test session, clean state per test.

Without PostgreSQL, Redis or gunicorn these tests skip with the reason, except
in CI (``CI=true``), where a missing service is a failure: CI must run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET
from tests.production.deploy import REPO, Deployment, deploy, unavailable_services
from tests.production.report import REPORT

# The site's timeout for each call to the wiki; the "slow" faults wait longer than this.
WIKI_TIMEOUT = 1.0


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    missing = unavailable_services()
    if missing:
        reason = "production-like tests need PostgreSQL, Redis and gunicorn: " + "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: these tests must run in CI)", pytrace=False)
        pytest.skip(reason)
    # Logs of gunicorn, the wiki and manage.py stay behind for a look after a failure (gitignored).
    logdir = REPO / "artifacts" / "production"
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)
    yield from deploy(logdir, (TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET), timeout=WIKI_TIMEOUT)


@pytest.fixture
def prod(deployment: Deployment) -> Deployment:
    """The deployment with an empty database, an empty Redis DB and the wiki back to its configured state."""
    deployment.reset()
    return deployment


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if REPORT:
        terminalreporter.section("production-like deployment: measurements")
        for line in REPORT:
            terminalreporter.write_line(line)
