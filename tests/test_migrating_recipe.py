"""docs/migrating.md's steps from social-core's stock backend, followed as written: nobody signs in again.

A new ``startproject`` is set up the stock way with the page's own blocks (``migrate:stock-settings`` and the
``social_django.urls`` line), pointed at the local wiki (its URL, consumer and an absolute callback on a free
port: what a stock site of this machine would have), and signs Alice in through social-app-django's views over
real HTTP: the stock backend leaves her token in plain text. Then the page's steps: the README's key, the
backend line replaced, ``migrate:settings`` appended, the URL line replaced, the run block's commands. After
them, with no new sign-in, the README's API snippet answers as Alice, the checks are silent, and the next
sign-in (now through mwsso) keeps her Django user.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from mwsso_devwiki.testing import authorize

from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET
from tests.production.services import free_port, wait_for
from tests.recipes import answers, commands, exported, marked_blocks, stop_group
from tests.test_quickstart import form_to, quickstart_blocks

REPO = Path(__file__).resolve().parent.parent
MIGRATING = REPO / "docs" / "migrating.md"
EXPECTED = {"stock-settings", "urls-before", "backend-before", "backend-after", "settings", "urls-after", "run"}
HOME = """{% if user.is_authenticated %}<p>Signed in as {{ user.username }} (user {{ user.pk }}).</p>
{% else %}<form method="post" action="{% url 'social:begin' 'mediawiki' %}">{% csrf_token %}<button>Sign in</button></form>
{% endif %}"""
STOCK_URLS = """from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
{stock}]
"""


def blocks() -> dict[str, str]:
    found = marked_blocks(MIGRATING, "migrate")
    assert set(found) == EXPECTED, sorted(found)
    return {name: code for name, (_arg, code) in found.items()}


def manage(root: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def stock_site(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], str]]:
    """A new project on social-core's stock backend, and its local wiki; yields (root, env, site URL)."""
    recipe = blocks()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    env.update(MEDIAWIKI_CONSUMER_KEY=TEST_CONSUMER_KEY, MEDIAWIKI_CONSUMER_SECRET=TEST_CONSUMER_SECRET)
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, env=env, check=True, timeout=60
    )
    root = tmp_path / "mysite"
    wiki_port, site_port = free_port(), free_port()
    site = f"http://127.0.0.1:{site_port}"
    settings = root / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n"
        + recipe["stock-settings"]
        # This machine's wiki and site instead of meta.wikimedia.org and mytool.example.org.
        + f'SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:{wiki_port}/w/index.php"\n'
        + f'SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "{site}/complete/mediawiki/"\n'
        + 'TEMPLATES[0]["DIRS"] += [BASE_DIR / "templates"]\n'
    )
    (root / "mysite" / "urls.py").write_text(STOCK_URLS.replace("{stock}", recipe["urls-before"]))
    (root / "templates").mkdir()
    (root / "templates" / "home.html").write_text(HOME)
    wiki = subprocess.Popen(
        [sys.executable, "manage.py", "mwsso_devwiki", "--port", str(wiki_port)], cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.settings"}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{wiki_port}/w/index.php"), 30, "the local wiki")
        yield root, env, site
    finally:
        stop_group(wiki)


def sign_in(root: Path, env: dict[str, str], site: str) -> str:
    """Alice signs in through the site served by runserver; returns the page she lands on."""
    port = site.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: answers(site + "/"), 30, "the site")
        browser = requests.Session()
        action, fields = form_to(browser.get(site + "/", timeout=10), "/login/mediawiki/")
        to_wiki = browser.post(action, data=fields, allow_redirects=False, timeout=10)
        assert to_wiki.status_code == 302, to_wiki.text[:2000]
        landed = authorize(browser, to_wiki.headers["Location"], user="Alice", endpoint_follow=True)
        assert landed.status_code == 200 and landed.url == site + "/", landed.text[:2000]
        return landed.text
    finally:
        stop_group(server)


def test_a_stock_site_migrates_as_written_and_calls_the_api_without_a_new_sign_in(stock_site):
    root, env, site = stock_site
    recipe = blocks()
    manage(root, env, "migrate")
    before = sign_in(root, env, site)
    assert "Signed in as Alice (user 1)." in before
    plain = manage(
        root,
        env,
        "shell",
        "-c",
        "from social_django.models import UserSocialAuth; print(sorted(UserSocialAuth.objects.get().extra_data))",
    )
    assert "access_token" in plain  # the stock backend keeps the token in plain text

    # 1. The key, made by the README's command.
    env = exported(quickstart_blocks()["key"][1], env, root)
    # 2. The backend line, and mwsso's settings.
    settings = root / "mysite" / "settings.py"
    text = settings.read_text()
    assert recipe["backend-before"].strip() in text
    settings.write_text(
        text.replace(recipe["backend-before"].strip(), recipe["backend-after"].strip()) + "\n" + recipe["settings"]
    )
    # 3. The URL line.
    urls = root / "mysite" / "urls.py"
    assert recipe["urls-before"].strip() in urls.read_text()
    urls.write_text(urls.read_text().replace(recipe["urls-before"].strip(), recipe["urls-after"].strip()))
    # 4. The commands.
    run = commands(recipe["run"])
    assert [argv for argv, _ in run] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "mwsso_tokens", "import-social"],
    ]
    manage(root, env, *run[0][0][2:])
    imported = manage(root, env, *run[1][0][2:])
    assert "found 1 access token in plain text" in imported and "1 imported" in imported, imported

    # No new sign-in: the README's API snippet answers as Alice with the imported token.
    answer = manage(root, env, "shell", "-c", quickstart_blocks()["api"][1])
    assert "'name': 'Alice'" in answer and "'anon'" not in answer, answer
    # Nothing left to do or to fix.
    assert "System check identified no issues" in manage(root, env, "check", "--database", "default")
    # Signing in again, now through mwsso's views, is the same Django user.
    assert "Signed in as Alice (user 1)." in sign_in(root, env, site)
