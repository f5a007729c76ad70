"""Tests of data migrations: the database moved to an earlier migration, then forward to the newest again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: tuple[str, str]) -> Any:
    """Migrate to ``target``; the apps (historical models) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state([target]).apps


def at_migration(target: tuple[str, str]) -> Iterator[Any]:
    """For a fixture: the apps at ``target``, and the newest migrations again afterwards (whatever the test did)."""
    apps = migrate(target)
    try:
        yield apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
