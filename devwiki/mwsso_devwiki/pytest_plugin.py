"""A pytest plugin: a running local wiki for a site's own tests (loaded wherever mwsso-devwiki is installed).

Fixtures:

- ``devwiki_config`` (session): the config the wiki starts from (a dict, a path to a JSON or
  TOML file, or None for the built-ins). Override it in your ``conftest.py`` to add users,
  consumers or clients, or to pick ``mw_version`` / ``script_path``.
- ``devwiki_server`` (session): one wiki on a free 127.0.0.1 port for the whole session.
- ``devwiki``: that wiki, back to its configured state before and after each test.

The handle (``testing.DevWiki``) has the wiki's URLs, ``control(...)`` (faults, users, revocation…),
``approve(authorize_url, user=...)`` (sign in on the wiki and press Allow, as a person would) and
``sign_in(client, user=...)`` (the whole sign-in of a site's test client). See docs/devwiki.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .testing import DevWiki, running_devwiki


@pytest.fixture(scope="session")
def devwiki_config() -> dict[str, Any] | str | Path | None:
    """The local wiki's config: None is the built-in users, consumers and clients; override to change it."""
    return None


@pytest.fixture(scope="session")
def devwiki_server(devwiki_config: dict[str, Any] | str | Path | None) -> Iterator[DevWiki]:
    """A local wiki serving on a free port of 127.0.0.1 for the whole test session."""
    with running_devwiki(devwiki_config) as wiki:
        yield wiki


@pytest.fixture
def devwiki(devwiki_server: DevWiki) -> Iterator[DevWiki]:
    """The session's local wiki, in its configured state for each test (no tokens, faults or sessions)."""
    devwiki_server.reset()
    yield devwiki_server
    devwiki_server.reset()
