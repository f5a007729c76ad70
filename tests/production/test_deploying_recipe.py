"""docs/deploying.md's recipe, followed as written on a new quick-start site: gunicorn, PostgreSQL, Redis, DEBUG off.

The site is the README's quick start applied to a new ``startproject`` (tests.test_quickstart's ``project``).
Then every block marked ``<!-- deploy:NAME -->`` in docs/deploying.md is used as the page says: the install
line names this package's extra, the database block runs with ``psql``'s own environment pointing at this
machine's PostgreSQL, the two settings modules are saved where their markers say, the trial environment is
exported by bash, and the run block's commands run. Only the names a shared machine needs of their own
change: the database and role (``mytool`` → ``mwsso_deploy_recipe_<pid>``), the ports (8000/8001 → free
ones), the Redis database and key prefix. Then a real HTTP client signs in through the local wiki and the
README's API snippet runs in ``manage.py shell`` as the signed-in user.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin

import psycopg
import pytest
import redis
import requests
from cryptography.fernet import Fernet
from mwsso_devwiki.testing import authorize
from packaging.requirements import Requirement
from psycopg import sql

from tests.production.processes import REPO
from tests.production.services import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    REDIS_HOST,
    REDIS_PORT,
    free_port,
    pid_alive,
    require_services,
    wait_for,
)
from tests.recipes import answers, commands, exported, marked_blocks, stop_group
from tests.test_quickstart import form_to, project, quickstart_blocks  # noqa: F401  (project: the fixture)

pytestmark = pytest.mark.production

DEPLOYING = REPO / "docs" / "deploying.md"
EXPECTED = {"install", "database", "settings", "trial-settings", "trial-env", "trial-wiki", "run"}
# This test's own names on the shared PostgreSQL and Redis: a database and role per test run, a Redis database.
NAME_PREFIX = "mwsso_deploy_recipe_"
REDIS_DB = 7
# The two HSTS choices docs/deploying.md leaves to each site.
LEFT_TO_THE_SITE = {"security.W005", "security.W021"}


def blocks() -> dict[str, tuple[str | None, str]]:
    found = marked_blocks(DEPLOYING, "deploy")
    assert set(found) == EXPECTED, sorted(found)
    return found


def save(root: Path, name: str, replacements: dict[str, str] | None = None) -> None:
    """A settings block, saved where its marker says (with this machine's ports, for the trial)."""
    where, code = blocks()[name]
    assert where, f"deploy:{name} names its file"
    for old, new in (replacements or {}).items():
        code = code.replace(old, new)
    (root / where).write_text(code)


# -- the install line and the settings, on any machine ----------------------------------------------------
def test_the_install_line_is_this_packages_deploy_extra_and_it_is_installed():
    assert shlex.split(blocks()["install"][1]) == ["pip", "install", "mwsso[deploy]"]
    extra = [Requirement(line) for line in metadata.requires("mwsso") or () if 'extra == "deploy"' in line]
    assert {requirement.name for requirement in extra} == {
        "gunicorn",
        "dj-database-url",
        "psycopg",
        "redis",
        "whitenoise",
    }
    pinned = (REPO / "requirements.txt").read_text()
    for requirement in extra:
        version = metadata.version(requirement.name)
        assert requirement.specifier.contains(version), f"{requirement} but {version} is installed"
        assert re.search(rf"^{re.escape(requirement.name)}(\[\w+\])?=={re.escape(version)}$", pinned, re.M), requirement


def test_the_production_settings_pass_the_deploy_checks(project):  # noqa: F811
    root, env = project
    save(root, "settings")
    env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "mysite.settings_production",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() * 2,
        "DATABASE_URL": "postgres://mytool:secret@db.internal:5432/mytool",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "MWSSO_CONSUMER_KEY": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "MWSSO_CONSUMER_SECRET": "f" * 40,
        "MWSSO_TOKEN_KEYS": ",".join([Fernet.generate_key().decode(), Fernet.generate_key().decode()]),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert set(re.findall(r"\(([\w.]+\.[EW]\d{3})\)", output)) <= LEFT_TO_THE_SITE, output


# -- the whole recipe, on this machine's services ---------------------------------------------------------
def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


def _drop(name: str) -> None:
    # FORCE: gunicorn's workers keep their connections (conn_max_age) until they exit.
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _admin(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _drop_stale() -> None:
    """Databases and roles of earlier runs that were killed before they could clean up."""
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres") as conn:
        names = {
            row[0] for row in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (NAME_PREFIX + "%",))
        }
        names |= {
            row[0]
            for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (NAME_PREFIX + "%",))
        }
    for name in names:
        pid = name.removeprefix(NAME_PREFIX)
        if pid.isdigit() and not pid_alive(int(pid)):
            _drop(name)


@pytest.fixture
def services() -> Iterator[tuple[str, str]]:
    """This run's database and role name, and its Redis key prefix; everything dropped afterwards."""
    require_services("the deployment recipe")
    _drop_stale()
    name, prefix = f"{NAME_PREFIX}{os.getpid()}", f"mwsso-deploy-recipe-{os.getpid()}"
    _drop(name)
    cache = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    try:
        yield name, prefix
    finally:
        _drop(name)
        for key in cache.scan_iter(match=prefix + ":*", count=1000):
            cache.delete(key)
        cache.close()


def test_the_recipe_runs_as_written_and_signs_in(project, services, tmp_path):  # noqa: F811
    root, env = project
    name, prefix = services
    recipe = blocks()
    wiki_port, site_port = free_port(), free_port()
    ports = {"127.0.0.1:8001": f"127.0.0.1:{wiki_port}", "127.0.0.1:8000": f"127.0.0.1:{site_port}"}

    # 2. The database, with psql's own environment naming this machine's server and superuser.
    pg_env = {**env, "PGHOST": PG_HOST, "PGPORT": str(PG_PORT), "PGUSER": PG_USER}
    created = subprocess.run(
        ["bash", "-ec", recipe["database"][1].replace("mytool", name)],
        env=pg_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr

    # 3. and 4. The settings modules, then the trial environment as bash exports it.
    save(root, "settings")
    save(root, "trial-settings", ports)
    # No server in the background of the first shell: the wiki has a terminal of its own (nothing outlives Ctrl-C).
    exports = recipe["trial-env"][1].splitlines()
    assert not [line for line in exports if line.split(" #", 1)[0].rstrip().endswith("&")], exports
    trial = exported("\n".join(exports).replace("mytool", name).replace("6379/0", f"6379/{REDIS_DB}"), env, root)
    trial["REDIS_KEY_PREFIX"] = prefix
    assert trial["DJANGO_SETTINGS_MODULE"] == "mysite.settings_trial" and re.fullmatch(
        r"[\w-]{43}=", trial["MWSSO_TOKEN_KEYS"]
    )

    logs, processes = tmp_path / "logs", []
    logs.mkdir()

    def start(argv: list[str]) -> None:
        log = (logs / f"{argv[0]}-{len(processes)}.log").open("wb")
        processes.append(
            subprocess.Popen(argv, cwd=root, env=trial, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def up(url: str) -> bool:
        for proc in processes:
            assert proc.poll() is None, "\n".join(path.read_text() for path in logs.iterdir())
        return answers(url)

    try:
        ((wiki_argv, in_background),) = commands(recipe["trial-wiki"][1])
        assert wiki_argv[:3] == ["python", "-m", "mwsso_devwiki"] and not in_background, wiki_argv
        start([{"8001": str(wiki_port)}.get(arg, arg) for arg in wiki_argv])
        # 5. The run block: migrate, collectstatic, gunicorn.
        run = commands(recipe["run"][1])
        assert [argv[:3] for argv, _ in run] == [
            ["python", "manage.py", "migrate"], ["python", "manage.py", "collectstatic"], ["gunicorn", "mysite.wsgi", "--workers"]
        ]  # fmt: skip
        for argv, _ in run[:2]:
            done = subprocess.run(argv, cwd=root, env=trial, capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stdout + done.stderr
        start([ports.get(arg, arg) for arg in run[2][0]])

        site = f"http://127.0.0.1:{site_port}"
        wait_for(lambda: up(f"http://127.0.0.1:{wiki_port}/w/index.php"), 30, "the local wiki")
        wait_for(lambda: up(site + "/"), 60, "gunicorn")

        browser = requests.Session()
        home = browser.get(site + "/", timeout=10)
        assert home.status_code == 200 and "gunicorn" in home.headers.get("Server", "")
        # DEBUG is off: a missing page is the plain 404, not Django's debug page.
        missing = browser.get(site + "/no-such-page/", timeout=10)
        assert missing.status_code == 404 and "URLconf" not in missing.text
        # whitenoise serves the collected, hashed stylesheet with far-future caching.
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]*mwsso\.[0-9a-f]{12}\.css)"', home.text)
        assert stylesheet, home.text[:2000]
        css = browser.get(urljoin(site + "/", stylesheet[1]), timeout=10)
        assert css.status_code == 200 and "immutable" in css.headers["Cache-Control"]

        action, fields = form_to(home, "/login/mediawiki/")
        to_wiki = browser.post(action, data=fields, allow_redirects=False, timeout=10)
        assert to_wiki.status_code == 302 and to_wiki.headers["Location"].startswith(f"http://127.0.0.1:{wiki_port}/")
        landed = authorize(browser, to_wiki.headers["Location"], user="Alice", endpoint_follow=True)
        assert (landed.status_code, landed.url) == (200, site + "/"), landed.text[:2000]
        assert "Signed in as Alice." in landed.text

        # The session is in Redis under the prefix, the token in PostgreSQL, encrypted.
        cache = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        assert any(b"django.contrib.sessions.cache" in key for key in cache.scan_iter(match=prefix + ":*"))
        cache.close()
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name) as conn:
            (tokens,) = conn.execute("SELECT count(*) FROM mwsso_accesstoken WHERE key_id <> ''").fetchone()  # type: ignore[misc]
        assert tokens == 1

        # The README's API snippet as the signed-in user, with the same settings.
        api_call = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", quickstart_blocks()["api"][1]],
            cwd=root, env=trial, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert api_call.returncode == 0, api_call.stdout + api_call.stderr
        assert "'name': 'Alice'" in api_call.stdout and "'anon'" not in api_call.stdout, api_call.stdout
    finally:
        for proc in processes:
            stop_group(proc)
