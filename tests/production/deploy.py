"""A production-like deployment of the demo site, run by the tests in this folder.

The demo site runs under gunicorn (several sync workers, ``project.wsgi`` as
deployed), with PostgreSQL as its database and its sessions and cache in Redis;
the local wiki runs as a process of its own (``manage.py mwsso_devwiki``) and
is driven over HTTP through ``POST /_devwiki/control``. Nothing here knows about
pytest: the fixtures in conftest.py put the pieces together.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import redis
import requests
from cryptography.fernet import Fernet
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# The Redis database the deployment uses; each run keeps to its own key prefix in it (see Deployment.run_id).
REDIS_DB = 5
DB_PREFIX = "mwsso_prod_test_"
# The site's timeout for each call to the wiki (MWSSO_HTTP_TIMEOUT): short, so the "slow" faults stay quick,
# yet far above what the local wiki needs even with 50 sign-ins at once on 2 cores.
WIKI_TIMEOUT = 2.0
BROWSER_HEADER = "X-Mwsso-Browser"
# gunicorn's access log: worker pid, status, method, path, and which test "browser" sent the request.
ACCESS_LOG_FORMAT = "%(p)s %(s)s %(m)s %(U)s %({x-mwsso-browser}i)s"
_ACCESS_LINE = re.compile(r"^<(?P<pid>\d+)> (?P<status>\d{3}) (?P<method>\S+) (?P<path>\S+) (?P<browser>\S+)$")
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


def _manage(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=180
        )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed (exit {result.returncode}):\n{log.read_text()[-3000:]}")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out: IO[bytes] = log.open("ab")
    try:
        # A session of its own: a stray signal to the test runner's group does not reach it, and the reverse.
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class WikiProcess:
    """The local wiki as its own process on a fixed port, so it can be killed and started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.server_url = f"http://127.0.0.1:{port}"
        self.index_url = f"{self.server_url}/w/index.php"
        self.control_url = f"{self.server_url}/_devwiki/control"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [sys.executable, "manage.py", "mwsso_devwiki", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = _spawn(args, self.env, self.log)
        wait_for(self._ready, 30, f"the local wiki on {self.server_url} (log: {self.log})")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the local wiki exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return requests.post(self.control_url, json={"action": "stats"}, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def kill(self) -> None:
        """Down hard: SIGKILL, no goodbye on open connections; the port refuses connections afterwards."""
        _stop(self.proc, signal.SIGKILL)
        self.proc = None

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        response = requests.post(self.control_url, json={"action": action, **params}, timeout=10)
        answer = response.json()
        if response.status_code != 200 or not answer.get("ok"):
            raise RuntimeError(f"devwiki control {action} failed: {answer}")
        return answer


@dataclass(frozen=True)
class Hit:
    """One line of gunicorn's access log."""

    pid: int
    status: int
    method: str
    path: str
    browser: str


class Site:
    """The demo site under gunicorn; the access log tells which worker served which request."""

    def __init__(self, port: int, env: dict[str, str], logdir: Path, workers: int = 4) -> None:
        self.port, self.env, self.workers = port, env, workers
        self.url = f"http://127.0.0.1:{port}"
        self.log = logdir / "gunicorn.log"
        self.access_log = logdir / "access.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            sys.executable, "-m", "gunicorn", "project.wsgi",
            "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
            # mwsso's wiki timeout (MWSSO_HTTP_TIMEOUT) is what must fire first, never the worker timeout.
            "--timeout", "30", "--graceful-timeout", "5",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", "-", "--log-level", "info",
        ]  # fmt: skip
        self.proc = _spawn(args, self.env, self.log)
        wait_for(self._ready, 60, f"gunicorn with {self.workers} workers on {self.url} (log: {self.log})", 0.1)

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        if len(self.worker_pids()) < self.workers:
            return False
        try:
            return requests.get(self.url + "/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> set[int]:
        return child_pids(self.proc.pid) if self.proc is not None else set()

    def wait_workers(self, timeout: float = 30) -> set[int]:
        """Wait until the master runs its full count of workers again (after one was stopped)."""
        return wait_for(lambda: (p := self.worker_pids()) and len(p) >= self.workers and p, timeout, "gunicorn workers")

    def stop(self) -> None:
        _stop(self.proc, timeout=15)
        self.proc = None

    def hits(self, browser: str | None = None) -> list[Hit]:
        found = []
        for line in self.access_log.read_text().splitlines() if self.access_log.exists() else []:
            match = _ACCESS_LINE.match(line.strip())
            if match and (browser is None or match["browser"] == browser):
                found.append(
                    Hit(int(match["pid"]), int(match["status"]), match["method"], match["path"], match["browser"])
                )
        return found

    def hit(self, browser: str, method: str, path: str, timeout: float = 5) -> Hit:
        """The (last) access log line of ``browser``'s request; gunicorn writes it just after answering."""

        def find() -> Hit | None:
            matching = [h for h in self.hits(browser) if h.method == method and h.path == path]
            return matching[-1] if matching else None

        return wait_for(find, timeout, f"{method} {path} of {browser} in the access log")

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0


def deployment_env(
    database_url: str, redis_url: str, wiki_index_url: str, consumer: tuple[str, str], timeout: float
) -> dict[str, str]:
    """The environment of every deployed process: only what project/settings.py reads, nothing from the test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY="production-like-test-" + Fernet.generate_key().decode(),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        MWSSO_WIKI_URL=wiki_index_url,
        MWSSO_CONSUMER_KEY=consumer[0],
        MWSSO_CONSUMER_SECRET=consumer[1],
        MWSSO_CALLBACK="/complete/mediawiki/",
        MWSSO_HTTP_TIMEOUT=str(timeout),
        MWSSO_TOKEN_KEYS=Fernet.generate_key().decode(),
        MWSSO_USER_AGENT="mwsso-production-tests/0.1 (tests; mwsso@example.org)",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Deployment:
    """Everything a production test talks to."""

    site: Site
    wiki: WikiProcess
    db: Database
    redis: redis.Redis
    env: dict[str, str]
    logdir: Path

    def add_wiki_user(self, name: str, sub: int | None = None) -> int:
        """A wiki user no site has seen yet, allowed by the default access policy; returns its central id."""
        spec: dict[str, Any] = {"name": name, "editcount": 321, "registered": "20150301120000", "email_confirmed": True}
        if sub is not None:
            spec["sub"] = sub
        return int(self.wiki.control("add_user", **spec)["sub"])

    @property
    def cache_prefix(self) -> str:
        """What every Redis key of this deployment starts with (Django's ``KEY_PREFIX:version:``)."""
        return self.env["REDIS_KEY_PREFIX"] + ":"

    def cache_keys(self) -> list[bytes]:
        return list(self.redis.scan_iter(match=self.cache_prefix + "*", count=1000))

    def clear_cache(self) -> None:
        for key in self.cache_keys():
            self.redis.delete(key)

    def server_errors(self, log_start: int, browser_prefix: str) -> list[str]:
        """Signs of a server error since ``log_start``: tracebacks, worker timeouts, 5xx other than 502."""
        log = self.site.log_since(log_start)
        found = [marker for marker in ("Traceback", "WORKER TIMEOUT", "Internal Server Error") if marker in log]
        found += [
            f"{h.status} {h.method} {h.path} ({h.browser}, worker {h.pid})"
            for h in self.site.hits()
            if h.browser.startswith(browser_prefix) and h.status >= 500 and h.status != 502
        ]
        return found

    def reset(self) -> None:
        """Between tests: an empty wiki state, empty tables and no Redis keys; same processes."""
        if self.wiki.proc is None or self.wiki.proc.poll() is not None:
            self.wiki.start()
        self.wiki.control("reset")
        self.db.truncate()
        self.clear_cache()


def deploy(
    logdir: Path, consumer: tuple[str, str], timeout: float = WIKI_TIMEOUT, workers: int = 4
) -> Iterator[Deployment]:
    """Create the database, migrate, collect static files, start the wiki and gunicorn; tear all down after.

    Several test runs may share this machine (developers, CI, pytest-xdist
    workers): each run has its own database, Redis key prefix and ports, named
    after the process id of the test runner.
    """
    run_id = str(os.getpid())
    Database.drop_stale()
    db = Database(DB_PREFIX + run_id)
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    cache = redis.Redis.from_url(redis_url)
    wiki_port, site_port = free_port(), free_port()
    env = deployment_env(db.url, redis_url, f"http://127.0.0.1:{wiki_port}/w/index.php", consumer, timeout)
    env["REDIS_KEY_PREFIX"] = f"mwsso-prod-test-{run_id}"
    db.create()
    wiki = WikiProcess(wiki_port, env, logdir / "devwiki.log")
    site = Site(site_port, env, logdir, workers)
    try:
        _manage(["migrate", "--noinput"], env, logdir / "manage.log")
        _manage(["collectstatic", "--noinput"], env, logdir / "manage.log")
        wiki.start()
        site.start()
        yield Deployment(site, wiki, db, cache, env, logdir)
    finally:
        site.stop()
        wiki.stop()
        db.drop()
        for key in cache.scan_iter(match=env["REDIS_KEY_PREFIX"] + ":*", count=1000):
            cache.delete(key)
        cache.close()
