"""docs/allauth.md's quick start, applied exactly as written to a new ``django-admin startproject``.

Every block marked ``<!-- allauth-quickstart:NAME -->`` is used as the page says: the settings appended
to the new settings.py, its urls.py, the template and the local wiki's client file saved where their
markers say, the key from the page's command, and the run commands starting the local wiki and the site
(on free ports instead of 8001/8000). A real HTTP client then signs in through allauth's own views and
the local wiki's consent page, the page's API snippet runs as the signed-in user, and the sign-out
form signs out. If the page drifts from what works, this fails.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import requests
from mwsso_devwiki.testing import authorize_oauth2

from tests.production.services import free_port, wait_for
from tests.quickstart_support import (
    exported_key,
    form_to,
    fresh_env,
    manage_check,
    manage_shell,
    marked_blocks,
    new_project,
    no_background_servers,
    own_terminal,
    run_commands,
    running,
)

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "allauth.md"
MARKED_BLOCK = re.compile(
    r"<!-- allauth-quickstart:(?P<name>[\w-]+)(?: (?P<arg>\S+))? -->\n```\w*\n(?P<code>.*?)^```", re.M | re.S
)
EXPECTED = {"install", "settings", "key", "urls", "template", "client", "wiki", "run", "api"}


def blocks() -> dict[str, tuple[str | None, str]]:
    found = marked_blocks(REPO / "docs" / "allauth.md", "allauth-quickstart")
    assert set(found) == EXPECTED, f"docs/allauth.md's marked quick-start blocks: {sorted(found)}"
    return found


def test_the_install_command_installs_this_package_with_its_allauth_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert shlex.split(blocks()["install"][1]) == ["pip", "install", f"{project['name']}[allauth]"]
    assert "allauth" in project["optional-dependencies"]


def test_the_allauth_quick_start_signs_in_through_the_local_wiki_and_calls_the_api(tmp_path):
    quick = blocks()
    wiki_port, site_port = free_port(), free_port()
    env = fresh_env()
    files = {}
    for name in ("template", "client"):
        path, text = quick[name]
        assert path, f"the {name} block's marker names where to save it"
        # The site runs on a free port instead of 8000: its client is registered for that one.
        files[path] = text.replace("127.0.0.1:8000", f"127.0.0.1:{site_port}")
    root = new_project(tmp_path, env, quick["settings"][1], quick["urls"][1], files)
    env["MWSSO_TOKEN_KEYS"] = exported_key(quick["key"][1], env)
    env["MWSSO_REST_API"] = f"http://127.0.0.1:{wiki_port}/w/rest.php"
    no_background_servers(REPO / "docs" / "allauth.md")
    commands = own_terminal(quick["wiki"][1]) + run_commands(quick["run"][1])
    assert [argv[:3] for argv, _ in commands] == [
        ["python", "manage.py", "mwsso_devwiki"],
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "runserver"],
    ], commands
    ports = {"8001": str(wiki_port), "127.0.0.1:8000": f"127.0.0.1:{site_port}"}
    with running(commands, root, env, ports, tmp_path / "logs") as up:
        manage_check(root, env)
        manage_check(root, env, "--database", "default")  # no plain token, a client with its secret
        site = f"http://127.0.0.1:{site_port}"
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

        printed = manage_shell(root, env, quick["api"][1])
        assert "'name': 'Alice'" in printed and "'anon'" not in printed, printed

        action, fields = form_to(landed, "/accounts/logout/")
        signed_out = browser.post(action, data=fields, headers={"Referer": site + "/"}, timeout=10)
        assert signed_out.status_code == 200 and "Signed in as" not in signed_out.text
