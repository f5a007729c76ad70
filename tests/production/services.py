"""The machine's services and processes as the production tests see them: PostgreSQL, Redis, pids, ports."""

from __future__ import annotations

import importlib.util
import os
import socket
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from psycopg import sql

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Each test run's database is DB_PREFIX + the test runner's pid (see deploy.deploy).
DB_PREFIX = "mwsso_prod_test_"
TABLES = ("auth_user", "social_auth_usersocialauth", "mwsso_wikiidentity", "mwsso_accesstoken")


def unavailable_services(timeout: float = 3.0) -> list[str]:
    """What is missing for a production-like run (empty when PostgreSQL, Redis and gunicorn are there)."""
    missing = []
    try:
        psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=timeout).close()
    except psycopg.Error as err:
        missing.append(f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}) is unreachable: {str(err).strip()}")
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=timeout).ping()
    except redis.RedisError as err:
        missing.append(f"Redis at {REDIS_HOST}:{REDIS_PORT} is unreachable: {err}")
    if importlib.util.find_spec("gunicorn") is None:
        missing.append("gunicorn is not installed (pip install -r requirements.txt)")
    return missing


def require_services(what: str) -> None:
    """Skip the test (fail it in CI, ``CI=true``) unless PostgreSQL, Redis and gunicorn are there."""
    missing = unavailable_services()
    if missing:
        reason = f"{what} needs PostgreSQL, Redis and gunicorn: " + "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must run in CI)", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def child_pids(parent: int) -> set[int]:
    """Live children of ``parent``, read from /proc (gunicorn's workers are the master's children)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] not in ("Z", "X"):
            children.add(int(stat.parent.name))
    return children


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Database:
    """A dedicated PostgreSQL database, created empty and dropped at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(statement)

    def create(self) -> None:
        self.drop()
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        # FORCE: gunicorn workers keep persistent connections (CONN_MAX_AGE) until they exit.
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    def counts(self) -> dict[str, int]:
        with psycopg.connect(self.url) as conn:
            return {
                table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                for table in TABLES
            }

    @staticmethod
    def drop_stale() -> None:
        """Drop the databases of earlier runs that were killed before they could clean up."""
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            names = [
                name
                for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (DB_PREFIX + "%",))
            ]
        for name in names:
            pid = name.removeprefix(DB_PREFIX)
            if pid.isdigit() and not pid_alive(int(pid)):
                Database(name).drop()

    def truncate(self) -> None:
        with psycopg.connect(self.url) as conn:
            conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
