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

import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin

import mwsso_devwiki
import pytest
import requests
from mwsso_devwiki.testing import authorize

import mwsso
from tests.production.services import free_port, wait_for

REPO = Path(__file__).resolve().parent.parent
MARKED_BLOCK = re.compile(r"<!-- quickstart:(?P<name>[\w-]+)(?: (?P<arg>\S+))? -->\n```\w*\n(?P<code>.*?)^```", re.M | re.S)
EXPECTED = {"install", "settings", "key", "urls", "template", "run", "api"}


def quickstart_blocks() -> dict[str, tuple[str | None, str]]:
    readme = (REPO / "README.md").read_text()
    blocks = {m["name"]: (m["arg"], m["code"]) for m in MARKED_BLOCK.finditer(readme)}
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


class _Forms(HTMLParser):
    """Every form of a page: action and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((attr.get("action", ""), {}))
        elif tag == "input" and attr.get("type") == "hidden" and self.forms:
            self.forms[-1][1][attr.get("name", "")] = attr.get("value", "")


def form_to(page: requests.Response, path_end: str) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(page.text)
    matching = [(urljoin(page.url, action), fields) for action, fields in parser.forms if action.endswith(path_end)]
    assert len(matching) == 1, f"no single form to …{path_end} on {page.url}:\n{page.text[:2000]}"
    return matching[0]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A new startproject with the quick start applied, and the environment its commands run in."""
    blocks = quickstart_blocks()
    # Only what a fresh shell has: nothing of this test run's settings, database or mwsso configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    # `python` in the README's commands is this test's (virtual environment's) interpreter, as if activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, env=env, check=True, timeout=60
    )
    root = tmp_path / "mysite"
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + blocks["settings"][1])
    (root / "mysite" / "urls.py").write_text(blocks["urls"][1])
    template_path, template = blocks["template"]
    assert template_path, "the template's marker names where to save it"
    (root / template_path).parent.mkdir(parents=True, exist_ok=True)
    (root / template_path).write_text(template)
    # The key command, run as written; what it exports is what the site's processes get.
    key_script = blocks["key"][1] + '\nprintf %s "$MWSSO_TOKEN_KEYS"\n'
    key = subprocess.run(["bash", "-c", key_script], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}=", key.stdout), key.stdout + key.stderr
    env["MWSSO_TOKEN_KEYS"] = key.stdout
    yield root, env


def _run_commands(code: str) -> list[tuple[list[str], bool]]:
    """The run block's commands: (argv, in the background)."""
    commands = []
    for line in code.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            background = line.endswith("&")
            commands.append((shlex.split(line.rstrip("&")), background))
    return commands


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_the_readme_quick_start_signs_in_through_the_local_wiki_and_calls_the_api(project, tmp_path):
    root, env = project
    blocks = quickstart_blocks()
    wiki_port, site_port = free_port(), free_port()
    env["MWSSO_WIKI_URL"] = f"http://127.0.0.1:{wiki_port}/w/index.php"
    commands = _run_commands(blocks["run"][1])
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
                argv.append("--noreload")  # one process, so that stopping it stops the site
            if not background and argv[2] != "runserver":
                result = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stdout + result.stderr
                continue
            log = (logs / f"{argv[2]}.log").open("wb")
            processes.append(
                subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        # The quick start's configuration is clean: no warning from mwsso or Django.
        check = subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, timeout=60
        )
        assert "System check identified no issues" in check.stdout, check.stdout + check.stderr

        site = f"http://127.0.0.1:{site_port}"
        browser = requests.Session()

        def up(url: str) -> bool:
            for proc in processes:
                assert proc.poll() is None, "\n".join(p.read_text() for p in logs.iterdir())
            try:
                return requests.get(url, timeout=2).status_code < 500
            except requests.ConnectionError:
                return False

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

        api_call = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", blocks["api"][1]],
            cwd=root, env=env, capture_output=True, text=True, timeout=60,
        )
        assert api_call.returncode == 0, api_call.stdout + api_call.stderr
        assert "'name': 'Alice'" in api_call.stdout and "'anon'" not in api_call.stdout, api_call.stdout

        action, fields = form_to(landed, "/logout/")
        signed_out = browser.post(action, data=fields, timeout=10)
        assert (signed_out.status_code, signed_out.url) == (200, site + "/")
        assert "Signed in as" not in signed_out.text
        form_to(signed_out, "/login/mediawiki/")
    finally:
        for proc in processes:
            _stop(proc)
