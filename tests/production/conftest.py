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
from tests.production.deploy import WIKI_TIMEOUT, Deployment, deploy
from tests.production.processes import REPO
from tests.production.report import REPORT
from tests.production.services import pid_alive, require_services


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    require_services("the production-like tests")
    # Logs of gunicorn, the wiki and manage.py stay behind for a look after a failure (gitignored);
    # one folder per test run, so that runs side by side do not mix them; finished runs' folders go.
    runs = REPO / "artifacts" / "production"
    for old in runs.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    logdir = runs / f"run-{os.getpid()}"
    logdir.mkdir(parents=True, exist_ok=True)
    yield from deploy(logdir, (TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET), timeout=WIKI_TIMEOUT)


@pytest.fixture
def prod(deployment: Deployment) -> Deployment:
    """The deployment with empty tables, no keys in Redis and the wiki back to its configured state."""
    deployment.reset()
    return deployment


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if REPORT:
        terminalreporter.section("production-like deployment: measurements")
        for line in REPORT:
            terminalreporter.write_line(line)
