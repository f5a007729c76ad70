"""Defaults that just work on a new site: the POST logout, the User-Agent sent, and the checks that catch
what would otherwise break the first sign-in (a callback on port 1, a 404 after Allow, an agent with no contact)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.test import Client
from django.urls import reverse
from mwsso_devwiki.state.seed import BUILTIN_CONSUMERS, DEMO_CONSUMER_KEY

from mwsso import __version__, http
from mwsso.app_settings import DEFAULT_USER_AGENT, app_settings, user_agent_header
from mwsso.checks.config import (
    LOCAL_WIKI_ANY_PORT_CONSUMERS,
    LOCAL_WIKI_CALLBACK,
    check_callback,
    check_login_redirect,
    check_user_agent_contact,
)
from tests.conftest import TEST_CONSUMER_KEY

ROOT = Path(__file__).resolve().parent.parent

# --- POST logout ----------------------------------------------------------------


@pytest.fixture
def signed_in(db) -> Client:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("Alice")
    client = Client(HTTP_HOST="127.0.0.1:8000")
    client.force_login(user)
    return client


def test_logout_is_in_mwsso_urls_under_the_social_namespace():
    assert reverse("social:logout") == "/logout/"


def test_logout_by_post_signs_out_and_goes_to_logout_redirect_url(settings, signed_in):
    settings.LOGOUT_REDIRECT_URL = "/profile/"
    response = signed_in.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/profile/")
    assert "_auth_user_id" not in signed_in.session


def test_logout_without_logout_redirect_url_goes_home_not_to_the_admins_template(settings, signed_in):
    settings.LOGOUT_REDIRECT_URL = None
    response = signed_in.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert "_auth_user_id" not in signed_in.session


def test_logout_follows_a_safe_next_and_ignores_another_sites(settings, signed_in):
    settings.LOGOUT_REDIRECT_URL = None
    assert signed_in.post("/logout/", {"next": "/profile/"})["Location"] == "/profile/"
    assert signed_in.post("/logout/", {"next": "https://evil.example/"})["Location"] == "/"


def test_logout_by_get_is_refused_and_keeps_the_session(signed_in):
    assert signed_in.get("/logout/").status_code == 405
    assert "_auth_user_id" in signed_in.session


def test_logout_needs_the_csrf_token(db):  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST="127.0.0.1:8000", enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("Alice"))
    assert client.post("/logout/").status_code == 403
    assert "_auth_user_id" in client.session


# --- User-Agent -------------------------------------------------------------------


def test_user_agent_is_the_sites_followed_by_mwsso_and_its_version():
    assert user_agent_header("MyTool/1.0 (me@example.org)") == f"MyTool/1.0 (me@example.org) mwsso/{__version__}"
    # Named once, whether the site already names it or keeps the default (which starts with it).
    assert user_agent_header(f"MyTool/1.0 (me@example.org) mwsso/{__version__}").count("mwsso/") == 1
    assert user_agent_header(DEFAULT_USER_AGENT) == DEFAULT_USER_AGENT
    assert user_agent_header("") == DEFAULT_USER_AGENT
    # A newline in the setting can never split the header.
    assert user_agent_header("MyTool/1.0\r\n(me@example.org)") == f"MyTool/1.0 (me@example.org) mwsso/{__version__}"


def test_every_request_to_a_wiki_sends_the_combined_user_agent(settings, devwiki):
    settings.MWSSO_USER_AGENT = "MyTool/2.0 (https://mytool.toolforge.org; me@example.org)"
    http.reset_session()
    try:
        seen: list[str] = []
        hooks = http.get_session().hooks["response"]
        record = lambda response, **kwargs: seen.append(response.request.headers["User-Agent"])  # noqa: E731
        hooks.append(record)
        try:
            http.request("GET", devwiki.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"})
        finally:
            hooks.remove(record)
        assert seen == [f"MyTool/2.0 (https://mytool.toolforge.org; me@example.org) mwsso/{__version__}"]
        assert app_settings.SENT_USER_AGENT == seen[0]
    finally:
        http.reset_session()


# --- mwsso.W040: "oob" with the local wiki's port-1 callback ----------------------------


@pytest.fixture
def local_wiki(settings):  # type: ignore[no-untyped-def]
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:8001/w/index.php"
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = DEMO_CONSUMER_KEY
    return settings


def test_the_check_knows_the_local_wikis_port_1_consumers():
    """mwsso imports nothing of the local wiki, so it keeps its own copy of those keys: the same ones."""
    port_1 = {c["key"] for c in BUILTIN_CONSUMERS if c["callback"] == LOCAL_WIKI_CALLBACK and c["callback_is_prefix"]}
    assert port_1 == LOCAL_WIKI_ANY_PORT_CONSUMERS


def test_oob_with_the_local_wikis_consumer_warns(local_wiki):
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob"
    (warning,) = check_callback()
    assert isinstance(warning, checks.Warning) and warning.id == "mwsso.W040"
    assert "http://127.0.0.1:1/complete/mediawiki/" in str(warning.msg)
    assert 'SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"' in str(warning.hint)


@pytest.mark.parametrize("key", [DEMO_CONSUMER_KEY, TEST_CONSUMER_KEY])
def test_an_unset_callback_is_oob_too(local_wiki, key):
    del local_wiki.SOCIAL_AUTH_MEDIAWIKI_CALLBACK
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_KEY = key
    assert [m.id for m in check_callback()] == ["mwsso.W040"]


def test_a_callback_path_with_the_local_wiki_passes(local_wiki):
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"
    assert check_callback() == []


def test_oob_with_a_real_wiki_or_an_own_consumer_passes(local_wiki):
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob"
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_KEY = "a-consumer-registered-with-its-own-callback"
    assert check_callback() == []
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_KEY = DEMO_CONSUMER_KEY
    local_wiki.SOCIAL_AUTH_MEDIAWIKI_URL = "https://meta.wikimedia.org/w/index.php"
    assert check_callback() == []


# --- mwsso.W041: where users land after Allow --------------------------------------------


def test_djangos_default_login_redirect_url_is_a_404_here_and_warns(settings):
    del settings.LOGIN_REDIRECT_URL  # Django's default: /accounts/profile/
    (warning,) = check_login_redirect()
    assert warning.id == "mwsso.W041"
    assert str(warning.msg) == (
        "LOGIN_REDIRECT_URL '/accounts/profile/' does not resolve to a view: users would land on a 404 after signing in."
    )


@pytest.mark.parametrize("target", ["/profile/", "/", "profile", "/profile/?tab=wiki", "https://other.example/"])
def test_a_login_redirect_url_that_resolves_passes(settings, target):
    settings.LOGIN_REDIRECT_URL = target
    assert check_login_redirect() == []


@pytest.mark.parametrize("target", ["/nowhere/", "no-such-url-name", "social:nothing"])
def test_a_login_redirect_url_that_does_not_resolve_warns(settings, target):
    settings.LOGIN_REDIRECT_URL = target
    assert [m.id for m in check_login_redirect()] == ["mwsso.W041"]


def test_social_auths_own_redirect_setting_is_the_one_checked(settings):
    settings.LOGIN_REDIRECT_URL = "/profile/"
    settings.SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/nowhere/"
    (warning,) = check_login_redirect()
    assert "SOCIAL_AUTH_LOGIN_REDIRECT_URL '/nowhere/'" in str(warning.msg)


def test_a_redirect_under_force_script_name_resolves(settings):
    settings.FORCE_SCRIPT_NAME = "/mytool"
    settings.LOGIN_REDIRECT_URL = "/mytool/profile/"
    assert check_login_redirect() == []


# --- mwsso.W042: a User-Agent with a way to reach the operator ----------------------------


@pytest.mark.parametrize(
    "agent", ["MyTool/1.0", "MyTool/1.0 (a tool of mine)", "MyTool/1.0 (User:Me)", "MyTool/1.0 (@me)"]
)
def test_a_user_agent_without_contact_warns(settings, agent):
    settings.MWSSO_USER_AGENT = agent
    (warning,) = check_user_agent_contact()
    assert warning.id == "mwsso.W042" and isinstance(warning, checks.Warning)


@pytest.mark.parametrize(
    "agent",
    [
        "MyTool/1.0 (me@example.org)",
        "MyTool/1.0 (https://mytool.toolforge.org)",
        "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)",
        DEFAULT_USER_AGENT,  # mwsso.W002's business
    ],
)
def test_a_user_agent_with_contact_passes(settings, agent):
    settings.MWSSO_USER_AGENT = agent
    assert check_user_agent_contact() == []


def test_new_checks_only_when_the_backend_is_enabled(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.MWSSO_USER_AGENT = "MyTool/1.0"
    settings.LOGIN_REDIRECT_URL = "/nowhere/"
    settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob"
    assert check_user_agent_contact() == check_login_redirect() == check_callback() == []


# --- make run: the demo does not warn about its own configuration -------------------------


def _demo_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_demo_as_make_run_starts_it_has_no_warning():
    result = _demo_check(DJANGO_DEBUG="1", MWSSO_WIKI_URL="http://127.0.0.1:8001/w/index.php")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    # And the first command make run runs, before it sets anything.
    assert "mwsso." not in _demo_check().stdout + _demo_check().stderr


def test_the_demo_on_a_real_wiki_without_keys_still_warns():
    result = _demo_check(
        DJANGO_SECRET_KEY="a-production-secret-key-for-this-test-only-0123456789",  # production mode requires one
        MWSSO_WIKI_URL="https://meta.wikimedia.org/w/index.php",
        MWSSO_CONSUMER_KEY="k",
        MWSSO_CONSUMER_SECRET="s",
    )
    assert "mwsso.W001" in result.stderr, result.stdout + result.stderr
