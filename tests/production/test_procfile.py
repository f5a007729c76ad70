"""The Procfile docs/toolforge.md recommends runs the demo as Toolforge's build service would.

Its ``migrate`` and ``web`` entries run as written (through ``bash -c``, like a buildpack's launcher), with
only the environment variables docs/toolforge.md sets with ``toolforge envvars``, a MariaDB database
(ToolsDB is MariaDB) and ``PORT``, behind what Toolforge's front proxy sends (``X-Forwarded-Proto``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import requests
from cryptography.fernet import Fernet
from mwsso_devwiki.testing import running_devwiki

from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET
from tests.production.processes import REPO
from tests.production.services import free_port, wait_for

pytestmark = pytest.mark.production

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
HOST = "mytool.toolforge.org"


def procfile() -> dict[str, str]:
    entries = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    try:
        admin = pymysql.connect(**MARIADB, connect_timeout=3)
    except pymysql.MySQLError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB at 127.0.0.1:3306 is unreachable: {err} (CI=true: this test must run)")
        pytest.skip(f"MariaDB at 127.0.0.1:3306 is unreachable: {err}")
    name = f"mwsso_procfile_{os.getpid()}"
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def test_the_procfile_has_a_web_process_on_port_and_a_migrate_job():
    entries = procfile()
    assert set(entries) == {"web", "migrate"}
    assert "${PORT" in entries["web"] and "exec gunicorn project.wsgi " in entries["web"]
    assert entries["migrate"] == "python manage.py migrate --noinput"


def test_the_procfile_runs_the_demo_on_mariadb_behind_toolforges_proxy(mariadb_database, tmp_path: Path):
    entries = procfile()
    port = free_port()
    with running_devwiki() as wiki:
        # What docs/toolforge.md sets with `toolforge envvars create`, and PORT, which the platform sets.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
        # In the image, the buildpack's Python with requirements.txt installed is the one on PATH.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.update(
            PORT=str(port),
            DJANGO_SECRET_KEY=Fernet.generate_key().decode(),
            DJANGO_ALLOWED_HOSTS=HOST,
            DJANGO_HTTPS="1",
            DATABASE_URL=mariadb_database,
            DATABASE_CONN_MAX_AGE="60",
            MWSSO_WIKI_URL=wiki.index_url,
            MWSSO_CONSUMER_KEY=TEST_CONSUMER_KEY,
            MWSSO_CONSUMER_SECRET=TEST_CONSUMER_SECRET,
            MWSSO_CALLBACK="oob",
            MWSSO_TOKEN_KEYS=Fernet.generate_key().decode(),
            MWSSO_USER_AGENT=f"mytool/1.0 (https://{HOST}; tools.mytool@toolforge.org)",
        )
        migrate = subprocess.run(
            ["bash", "-c", entries["migrate"]], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        log = tmp_path / "web.log"
        with log.open("wb") as out:
            web = subprocess.Popen(
                ["bash", "-c", entries["web"]],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            site = f"http://127.0.0.1:{port}"
            proxied = {"Host": HOST, "X-Forwarded-Proto": "https"}

            def up() -> bool:
                assert web.poll() is None, log.read_text()
                try:
                    return requests.get(site + "/", headers=proxied, timeout=5).status_code == 200
                except requests.RequestException:  # not listening yet, or workers still booting
                    return False

            wait_for(up, 60, f"gunicorn from the Procfile (log: {log})")
            # Plain HTTP (no proxy header) is sent to HTTPS; through the proxy the page is served.
            plain = requests.get(site + "/", headers={"Host": HOST}, allow_redirects=False, timeout=5)
            assert (plain.status_code, plain.headers["Location"]) == (301, f"https://{HOST}/")
            home = requests.get(site + "/", headers=proxied, timeout=5)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home.text)
            assert token, home.text[:2000]
            # The sign-in starts: the request token comes from the wiki and sits in a ToolsDB-like session.
            # The cookies are Secure (HTTPS behind the proxy), so a client on plain http must be given them.
            cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in home.cookies)
            assert all(cookie.secure for cookie in home.cookies) and "csrftoken=" in cookies
            begin = requests.post(
                site + "/login/mediawiki/",
                data={"csrfmiddlewaretoken": token[1]},
                headers={**proxied, "Cookie": cookies, "Referer": f"https://{HOST}/", "Origin": f"https://{HOST}"},
                allow_redirects=False,
                timeout=10,
            )
            assert begin.status_code == 302, begin.text[:2000]
            assert begin.headers["Location"].startswith(wiki.index_url)
            with pymysql.connect(**MARIADB, database=mariadb_database.rsplit("/", 1)[1]) as db, db.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM django_session")
                assert cursor.fetchone()[0] == 1
            # Static files: collected when the web process starts, served by whitenoise from gunicorn.
            css = re.search(r'href="(/static/[^"]+\.css)"', home.text)
            assert css, home.text[:2000]
            served = requests.get(site + css[1], headers=proxied, timeout=5)
            assert served.status_code == 200 and "text/css" in served.headers["Content-Type"]
        finally:
            if web.poll() is None:
                os.killpg(web.pid, signal.SIGTERM)
                web.wait(15)
