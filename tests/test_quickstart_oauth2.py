"""The README's "Add OAuth 2.0" step, applied as written to the quick-start site, signs in over OAuth 2.0.

The quick start's own blocks make the site (tests/test_quickstart.py's fixture); the blocks marked
``<!-- quickstart-oauth2:NAME -->`` are then applied as the README says: the settings appended, the
button line put after ``{% mwsso_login_button %}``. The local wiki runs as its own block says, with no
``--site-url``, and the site on a free port that is not 8000: the demo client's any-loopback-port
convenience is what lets it sign in. Then both buttons show with different labels, the OAuth 2.0 one
signs Alice in through the wiki's consent page, the API answers as her, ``manage.py check`` is
clean, and ``mwsso_check`` passes the redirect URI (saying why). A client secret that cannot be
right is refused by ``check`` and at the sign-in start, before the wiki's consent page.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import requests
from mwsso_devwiki.testing import authorize_oauth2

from tests.production.services import free_port, wait_for
from tests.quickstart_support import (
    form_to,
    manage_check,
    manage_shell,
    marked_blocks,
    own_terminal,
    run_commands,
    running,
)
from tests.test_quickstart import project, quickstart_blocks  # noqa: F401  (project: the fixture)

REPO = Path(__file__).resolve().parent.parent


def oauth2_blocks() -> dict[str, tuple[str | None, str]]:
    blocks = marked_blocks(REPO / "README.md", "quickstart-oauth2")
    assert set(blocks) == {"settings", "button"}, f"README's marked OAuth 2.0 blocks: {sorted(blocks)}"
    return blocks


def add_oauth2(root: Path) -> None:
    """The step as the README says: settings appended, the button line after the first button."""
    blocks = oauth2_blocks()
    settings_py = root / "mysite" / "settings.py"
    settings_py.write_text(settings_py.read_text() + "\n" + blocks["settings"][1])
    path, line = blocks["button"]
    assert path and len(line.strip().splitlines()) == 1, blocks["button"]
    template = root / path
    lines = template.read_text().splitlines(keepends=True)
    first = [i for i, text in enumerate(lines) if "{% mwsso_login_button %}" in text]
    assert len(first) == 1, "the quick start's template has one {% mwsso_login_button %} to put the line after"
    lines.insert(first[0] + 1, line)
    template.write_text("".join(lines))


def _check(root: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def test_the_step_is_short_and_uses_the_local_wikis_demo_client() -> None:
    from mwsso_devwiki.state import seed

    code = oauth2_blocks()["settings"][1]
    assert len([line for line in code.splitlines() if line.strip()]) <= 6, code
    assert seed.DEMO_OAUTH2_CLIENT_ID in code and seed.DEMO_OAUTH2_CLIENT_SECRET in code
    assert "--site-url" not in quickstart_blocks()["wiki"][1]


def test_adding_oauth2_to_the_quick_start_signs_in_over_oauth2(project, tmp_path):  # noqa: F811
    root, env = project
    add_oauth2(root)
    blocks = quickstart_blocks()
    wiki_port, site_port = free_port(), free_port()
    assert site_port != 8000
    env["MWSSO_WIKI_URL"] = f"http://127.0.0.1:{wiki_port}/w/index.php"
    commands = own_terminal(blocks["wiki"][1]) + run_commands(blocks["run"][1])
    ports = {"8001": str(wiki_port), "127.0.0.1:8000": f"127.0.0.1:{site_port}"}
    with running(commands, root, env, ports, tmp_path / "logs") as up:
        manage_check(root, env)  # the step's configuration is clean: no warning from mwsso or Django
        site = f"http://127.0.0.1:{site_port}"
        wait_for(lambda: up(f"http://127.0.0.1:{wiki_port}/w/index.php"), 30, "the local wiki")
        wait_for(lambda: up(site + "/"), 30, "the site")
        browser = requests.Session()
        home = browser.get(site + "/", timeout=10)
        labels = re.findall(r"<span>([^<]*)</span>", home.text)
        assert labels == ["Sign in with Wikipedia", "Sign in with Wikipedia (OAuth 2.0)"], home.text[:3000]

        action, fields = form_to(home, "/login/mediawiki-oauth2/")
        to_wiki = browser.post(action, data=fields, allow_redirects=False, timeout=10)
        assert to_wiki.status_code == 302, to_wiki.text[:2000]
        assert to_wiki.headers["Location"].startswith(f"http://127.0.0.1:{wiki_port}/w/rest.php/oauth2/authorize?")
        back = authorize_oauth2(browser, to_wiki.headers["Location"], user="Alice")
        assert back.status_code == 302 and back.headers["Location"].startswith(
            f"{site}/complete/mediawiki-oauth2/?code="
        ), (back.status_code, back.text[:1000])
        landed = browser.get(back.headers["Location"], timeout=30)
        assert (landed.status_code, landed.url) == (200, site + "/"), landed.text[:2000]
        assert "Signed in as Alice." in landed.text

        printed = manage_shell(root, env, blocks["api"][1])
        assert "'name': 'Alice'" in printed, printed

        # mwsso_check: the registered redirect URI is port 8000's, the site's another; the local wiki takes it.
        checked = subprocess.run(
            [sys.executable, "manage.py", "mwsso_check", "--json", "--site-url", site],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        report = {c["check"]: c for c in json.loads(checked.stdout)["checks"]}
        redirect = report["oauth2.redirect_uri"]
        assert redirect["status"] == "pass" and redirect["details"]["any_loopback_port"] is True, redirect
        assert "convenience of the local wiki only" in redirect["summary"]
        assert report["oauth2.client"]["status"] == "pass", report["oauth2.client"]

        # An empty secret: manage.py check says so, and the sign-in start refuses before the consent page.
        empty = {**env, "MWSSO_OAUTH2_CLIENT_SECRET": ""}
        assert "mwsso.E053" in _check(root, empty)
        assert "mwsso.E053" not in _check(root, env)
