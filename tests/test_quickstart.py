"""The README's quick start, applied exactly as written to a new ``django-admin startproject``.

Every block marked ``<!-- quickstart:NAME -->`` in README.md is used as the README says: the settings are
appended to the new settings.py, urls.py is the README's, the template is saved where its marker says, the
key comes from running the README's command, and the README's run commands start the local wiki and the
site (on free ports instead of 8001/8000; the wiki URL through the ``MWSSO_WIKI_URL`` the settings read).
Then a real HTTP client signs in through the local wiki's authorize page, the README's API snippet runs
in ``manage.py shell`` as the signed-in user, and the sign-out form signs out. If the README drifts from
what works, this fails.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin

import mwsso_devwiki
import pytest
import requests
from mwsso_devwiki.testing import authorize

import mwsso
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

REPO = Path(__file__).resolve().parent.parent
EXPECTED = {"install", "settings", "key", "urls", "template", "wiki", "run", "api"}


def quickstart_blocks() -> dict[str, tuple[str | None, str]]:
    blocks = marked_blocks(REPO / "README.md", "quickstart")
    assert set(blocks) == EXPECTED, f"README's marked quick-start blocks: {sorted(blocks)}"
    return blocks


def test_the_quick_start_comes_first_after_the_two_contributor_commands():
    readme = (REPO / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "run"], ["make", "test"]]
    assert readme.index("## Quick start") < readme.index("## The manual")
    # On a package index the README is shown alone: links to the manual must be absolute.
    relative = [target for target in re.findall(r"\]\(([^)]+)\)", readme) if not target.startswith("https://")]
    assert relative == []


def test_the_install_command_installs_this_package_with_the_local_wiki():
    code = quickstart_blocks()["install"][1]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert shlex.split(code) == ["pip", "install", f"{project['name']}[devwiki]"]
    assert project["optional-dependencies"]["devwiki"] == [f"mwsso-devwiki=={mwsso_devwiki.__version__}"]
    # What the test environment runs is that package and that local wiki (CI installs both from this checkout).
    assert metadata.version(project["name"]) == mwsso.__version__
    assert metadata.version("mwsso-devwiki") == mwsso_devwiki.__version__
    # The checkout's install line names both distributions' folders.
    assert "`pip install ./mwsso ./mwsso/devwiki`" in (REPO / "README.md").read_text()
    assert (REPO / "devwiki" / "pyproject.toml").is_file()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A new startproject with the quick start applied, and the environment its commands run in."""
    blocks = quickstart_blocks()
    env = fresh_env()
    template_path, template = blocks["template"]
    assert template_path, "the template's marker names where to save it"
    root = new_project(tmp_path, env, blocks["settings"][1], blocks["urls"][1], {template_path: template})
    env["MWSSO_TOKEN_KEYS"] = exported_key(blocks["key"][1], env)
    yield root, env


def test_the_readme_quick_start_signs_in_through_the_local_wiki_and_calls_the_api(project, tmp_path):
    root, env = project
    blocks = quickstart_blocks()
    wiki_port, site_port = free_port(), free_port()
    env["MWSSO_WIKI_URL"] = f"http://127.0.0.1:{wiki_port}/w/index.php"
    # The wiki in a terminal of its own, the site in another: Ctrl-C in each stops each, nothing is left running.
    no_background_servers(REPO / "README.md")
    commands = own_terminal(blocks["wiki"][1]) + run_commands(blocks["run"][1])
    assert [argv[:3] for argv, _ in commands] == [
        ["python", "manage.py", "mwsso_devwiki"],
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "runserver"],
    ], commands
    ports = {"8001": str(wiki_port), "127.0.0.1:8000": f"127.0.0.1:{site_port}"}
    with running(commands, root, env, ports, tmp_path / "logs") as up:
        # The quick start's configuration is clean: no warning from mwsso or Django.
        manage_check(root, env)
        site = f"http://127.0.0.1:{site_port}"
        browser = requests.Session()
        wait_for(lambda: up(f"http://127.0.0.1:{wiki_port}/w/index.php"), 30, "the local wiki")
        wait_for(lambda: up(site + "/"), 30, "the site")

        home = browser.get(site + "/", timeout=10)
        assert home.status_code == 200
        # The button brings its own look to a site that has no CSS for it (runserver serves static files).
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]*mwsso\.css)"', home.text)
        assert stylesheet, home.text[:2000]
        css = browser.get(urljoin(site + "/", stylesheet[1]), timeout=10)
        assert css.status_code == 200 and "text/css" in css.headers["Content-Type"] and ".mwsso-login" in css.text
        action, fields = form_to(home, "/login/mediawiki/")
        to_wiki = browser.post(action, data=fields, allow_redirects=False, timeout=10)
        assert to_wiki.status_code == 302, to_wiki.text[:2000]
        assert to_wiki.headers["Location"].startswith(f"http://127.0.0.1:{wiki_port}/")
        landed = authorize(browser, to_wiki.headers["Location"], user="Alice", endpoint_follow=True)
        # LOGIN_REDIRECT_URL: back on the page with the button, signed in.
        assert (landed.status_code, landed.url) == (200, site + "/"), landed.text[:2000]
        assert "Signed in as Alice." in landed.text

        printed = manage_shell(root, env, blocks["api"][1])
        assert "'name': 'Alice'" in printed and "'anon'" not in printed, printed

        action, fields = form_to(landed, "/logout/")
        signed_out = browser.post(action, data=fields, timeout=10)
        assert (signed_out.status_code, signed_out.url) == (200, site + "/")
        assert "Signed in as" not in signed_out.text
        form_to(signed_out, "/login/mediawiki/")
