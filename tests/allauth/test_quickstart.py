"""docs/allauth.md's quick start, applied exactly as written to a new ``django-admin startproject``.

Every block marked ``<!-- allauth-quickstart:NAME -->`` is used as the page says: the settings appended
to the new settings.py, its urls.py, the template and the local wiki's client file saved where their
markers say, the key from the page's command, and the run commands starting the local wiki and the site
(on free ports instead of 8001/8000). A real HTTP client then signs in through allauth's own views and
the local wiki's consent page, the page's API snippet runs as the signed-in user, and the sign-out
form signs out. If the page drifts from what works, this fails.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import requests

from mwsso.devwiki.testing import authorize_oauth2
from tests.production.services import free_port, wait_for
from tests.test_quickstart import _run_commands, _stop, form_to

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "allauth.md"
MARKED_BLOCK = re.compile(
    r"<!-- allauth-quickstart:(?P<name>[\w-]+)(?: (?P<arg>\S+))? -->\n```\w*\n(?P<code>.*?)^```", re.M | re.S
)
EXPECTED = {"install", "settings", "key", "urls", "template", "client", "run", "api"}


def blocks() -> dict[str, tuple[str | None, str]]:
    found = {m["name"]: (m["arg"], m["code"]) for m in MARKED_BLOCK.finditer(PAGE.read_text())}
    assert set(found) == EXPECTED, f"docs/allauth.md's marked quick-start blocks: {sorted(found)}"
    return found


def test_the_install_command_installs_this_package_with_its_allauth_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert shlex.split(blocks()["install"][1]) == ["pip", "install", f"{project['name']}[allauth]"]
    assert "allauth" in project["optional-dependencies"]


def test_the_allauth_quick_start_signs_in_through_the_local_wiki_and_calls_the_api(tmp_path):
    quick = blocks()
    wiki_port, site_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, env=env, check=True, timeout=60
    )
    root = tmp_path / "mysite"
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + quick["settings"][1])
    (root / "mysite" / "urls.py").write_text(quick["urls"][1])
    for name in ("template", "client"):
        path, text = quick[name]
        assert path, f"the {name} block's marker names where to save it"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        # The site runs on a free port instead of 8000: its client is registered for that one.
        (root / path).write_text(text.replace("127.0.0.1:8000", f"127.0.0.1:{site_port}"))
    key = subprocess.run(
        ["bash", "-c", quick["key"][1] + '\nprintf %s "$MWSSO_TOKEN_KEYS"\n'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    env["MWSSO_TOKEN_KEYS"] = key.stdout
    env["MWSSO_REST_API"] = f"http://127.0.0.1:{wiki_port}/w/rest.php"
    commands = _run_commands(quick["run"][1])
    assert [argv[:3] for argv, _ in commands] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "mwsso_devwiki"],
        ["python", "manage.py", "runserver"],
    ], commands
    processes: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for argv, background in commands:
            argv = [{"8001": str(wiki_port), "127.0.0.1:8000": f"127.0.0.1:{site_port}"}.get(a, a) for a in argv]
            if argv[2] == "runserver":
                argv.append("--noreload")
            if not background and argv[2] != "runserver":
                result = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stdout + result.stderr
                continue
            log = (logs / f"{argv[2]}.log").open("wb")
            processes.append(
                subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        for database in ([], ["--database", "default"]):
            check = subprocess.run(
                [sys.executable, "manage.py", "check", *database],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "System check identified no issues" in check.stdout, check.stdout + check.stderr

        site = f"http://127.0.0.1:{site_port}"

        def up(url: str) -> bool:
            for proc in processes:
                assert proc.poll() is None, "\n".join(p.read_text() for p in logs.iterdir())
            try:
                return requests.get(url, timeout=2).status_code < 500
            except requests.ConnectionError:
                return False

        wait_for(lambda: up(f"http://127.0.0.1:{wiki_port}/w/index.php"), 30, "the local wiki")
        wait_for(lambda: up(site + "/"), 30, "the site")
        browser = requests.Session()
        home = browser.get(site + "/", timeout=10)
        action, fields = form_to(home, "/accounts/mediawiki/login/")
        to_wiki = browser.post(action, data=fields, headers={"Referer": site + "/"}, allow_redirects=False, timeout=10)
        assert to_wiki.status_code == 302, to_wiki.text[:2000]
        assert to_wiki.headers["Location"].startswith(f"http://127.0.0.1:{wiki_port}/w/rest.php/oauth2/authorize?")
        back = authorize_oauth2(None, to_wiki.headers["Location"], user="Alice")
        assert back.status_code == 302, back.text[:1000]
        landed = browser.get(back.headers["Location"], timeout=10)
        assert (landed.status_code, landed.url) == (200, site + "/"), landed.text[:2000]
        assert "Signed in as Alice." in landed.text

        api_call = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", quick["api"][1]],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert api_call.returncode == 0, api_call.stdout + api_call.stderr
        assert "'name': 'Alice'" in api_call.stdout and "'anon'" not in api_call.stdout, api_call.stdout

        action, fields = form_to(landed, "/accounts/logout/")
        signed_out = browser.post(action, data=fields, headers={"Referer": site + "/"}, timeout=10)
        assert signed_out.status_code == 200 and "Signed in as" not in signed_out.text
    finally:
        for proc in processes:
            _stop(proc)
