"""Tokens of users who signed in through allauth: the API client, refresh under the lock, the admin, the commands.

The same store and code paths as the social-auth side: ``mwsso.api.for_user`` refreshes with the allauth
app's client (found through ``mwsso.tokens.clients``), once across eight processes; the admin,
``mwsso_tokens`` and ``mwsso_check`` see and check them; no token is ever in plain text anywhere.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from mwsso import api
from mwsso.models import AccessToken
from tests.allauth.support import *  # noqa: F403
from tests.allauth.support import AA_CLIENT, point_at, sign_in
from tests.dbdump import database_dump
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import FaultyProxy
from tests.test_oauth2_refresh import (
    CALLERS,
    SLOW_REFRESH,
    _calls_at_once,
    _database_url,
    _stored_by_a_worker,
    at_once,
    refreshes,
    userinfo_name,
)

User = get_user_model()


def expire(token: AccessToken) -> None:
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=10))


@pytest.mark.django_db
def test_an_expired_token_is_refreshed_with_the_allauth_client(aa_settings, o2wiki, browser):
    sign_in(browser)
    token = AccessToken.objects.get()
    expire(token)
    assert userinfo_name(token.user) == "Alice"
    assert refreshes(o2wiki) == 1
    fresh = AccessToken.objects.get()
    assert fresh.fingerprint != token.fingerprint and fresh.expires_at > timezone.now()


@pytest.mark.django_db
def test_a_token_of_a_client_the_site_no_longer_has_is_unusable_and_left_alone(aa_settings, o2wiki, browser):
    sign_in(browser)
    token = AccessToken.objects.get()
    expire(token)
    aa_settings.SOCIALACCOUNT_PROVIDERS["mediawiki"]["APPS"] = [{"client_id": "someone-else", "secret": "x"}]
    with pytest.raises(api.TokenUnusable):
        api.for_user(token.user)
    assert AccessToken.objects.get().status == "valid" and refreshes(o2wiki) == 0


@pytest.mark.django_db
def test_the_clients_secret_may_live_in_a_socialapp_row(settings, o2wiki, browser):
    from allauth.socialaccount.models import SocialApp

    point_at(settings, o2wiki)
    settings.SOCIALACCOUNT_PROVIDERS["mediawiki"].pop("APPS")
    SocialApp.objects.create(provider="mediawiki", name="Wiki", client_id=AA_CLIENT[0], secret=AA_CLIENT[1])
    sign_in(browser)
    token = AccessToken.objects.get()
    expire(token)
    assert userinfo_name(token.user) == "Alice" and refreshes(o2wiki) == 1


@pytest.mark.django_db(transaction=True)  # the threads' own connections see the sign-in's rows
def test_eight_threads_of_a_user_signed_in_through_allauth_refresh_once(settings, o2wiki, browser):
    if connection.vendor == "sqlite":
        pytest.skip("threads need PostgreSQL or MariaDB; SQLite is covered by the processes test")
    with FaultyProxy(o2wiki.server_url) as proxy:
        point_at(settings, o2wiki, REST_API=proxy.url + "/w/rest.php")
        proxy.delays["/oauth2/access_token"] = SLOW_REFRESH
        sign_in(browser)
        token = AccessToken.objects.select_related("user").get()
        expire(token)
        results = at_once(CALLERS, lambda: userinfo_name(token.user))
    assert results == ["Alice"] * CALLERS
    assert refreshes(o2wiki) == 1


@pytest.mark.django_db(transaction=True)
def test_eight_processes_of_a_user_signed_in_through_allauth_refresh_once(settings, o2wiki, tmp_path):
    with FaultyProxy(o2wiki.server_url) as proxy:
        rest_api = proxy.url + "/w/rest.php"
        point_at(settings, o2wiki, REST_API=rest_api)
        proxy.delays["/oauth2/access_token"] = SLOW_REFRESH
        env = {
            **os.environ, "DATABASE_URL": _database_url(tmp_path), "DJANGO_SETTINGS_MODULE": "tests.allauth.settings",
            "MWSSO_ALLAUTH_REST_API": rest_api, "MWSSO_ALLAUTH_CLIENT_ID": AA_CLIENT[0], "MWSSO_ALLAUTH_CLIENT_SECRET": AA_CLIENT[1],
        }  # fmt: skip
        if connection.vendor == "sqlite":
            # The workers share a file database of their own: the token as an allauth sign-in stores it.
            user_id = _stored_by_a_worker(o2wiki, env, proxy.url, AA_CLIENT)
        else:
            sign_in(Client(HTTP_HOST="127.0.0.1:8000"))
            token = AccessToken.objects.get()
            expire(token)
            user_id = token.user_id
        outcomes = _calls_at_once(user_id, env)
    assert outcomes == [{"ok": True, "name": "Alice"}] * CALLERS
    assert refreshes(o2wiki) == 1


@pytest.mark.django_db
def test_no_token_is_in_plain_text_anywhere(aa_settings, o2wiki, browser, client_factory, caplog):
    aa_settings.SOCIALACCOUNT_STORE_TOKENS = True
    sign_in(browser)
    aa_settings.SOCIALACCOUNT_EMAIL_REQUIRED = True  # Newbie: through the signup form
    aa_settings.ACCOUNT_SIGNUP_FIELDS = ["email*", "username*"]
    newbie = client_factory()
    sign_in(newbie, user="Newbie")
    waiting = database_dump()
    newbie.post("/accounts/3rdparty/signup/", {"email": "newbie@example.net", "username": "Newbie"})
    tokens = [token.get_credentials() for token in AccessToken.objects.all()]
    assert len(tokens) == 2
    secrets = [part for held in tokens for part in (held.key, held.refresh_token)] + [AA_CLIENT[1]]
    texts = [waiting, database_dump(), caplog.text, browser.get("/accounts/3rdparty/").content.decode()]
    assert not [secret for secret in secrets for text in texts if secret in text]


@pytest.mark.django_db
def test_the_admin_and_mwsso_tokens_see_and_check_them(aa_settings, o2wiki, browser):
    sign_in(browser)
    token = AccessToken.objects.get()
    User.objects.create_superuser("root", "root@example.org", "pw")
    admin = Client(HTTP_HOST="127.0.0.1:8000")
    admin.force_login(User.objects.get(username="root"))
    page = admin.get("/admin/mwsso/accesstoken/").content.decode()
    assert token.fingerprint in page and token.get_credentials().key not in page
    out = StringIO()
    call_command("mwsso_tokens", "list", stdout=out)
    assert token.fingerprint in out.getvalue() and "Alice" in out.getvalue()
    call_command("mwsso_tokens", "verify", stdout=StringIO(), stderr=StringIO())
    assert AccessToken.objects.get().last_verified > token.last_verified
    o2wiki.control("oauth2_revoke", client_id=AA_CLIENT[0], user="Alice")
    with pytest.raises(CommandError) as refused:
        call_command("mwsso_tokens", "verify", stdout=StringIO(), stderr=StringIO())
    assert refused.value.returncode == 1 and AccessToken.objects.get().status == "revoked"


@pytest.mark.django_db
def test_mwsso_check_checks_the_allauth_client(aa_settings, o2wiki):
    def check() -> tuple[int, dict]:
        out = StringIO()
        try:
            call_command("mwsso_check", "--json", "--site-url", "http://127.0.0.1:8000", stdout=out)
            status = 0
        except SystemExit as exit:
            status = int(exit.code)
        return status, {c["check"]: c for c in json.loads(out.getvalue())["checks"]}

    status, checks = check()
    assert status == 0, checks
    assert {"oauth2.client", "oauth2.redirect_uri"} <= set(checks)
    assert checks["wiki.reachable"]["status"] == "pass"
    aa_settings.SOCIALACCOUNT_PROVIDERS["mediawiki"]["APPS"][0]["secret"] = "wrong"
    status, checks = check()
    assert status == 1 and checks["oauth2.client"]["status"] == "fail"


@pytest.mark.django_db
def test_mwsso_check_register_names_allauths_callback(aa_settings):
    out = StringIO()
    call_command("mwsso_check", "--register", "--json", "--site-url", "https://tool.example", stdout=out)
    fields = json.loads(out.getvalue())["oauth2"]["fields"]
    assert fields['OAuth "callback" URL'].startswith("https://tool.example/accounts/mediawiki/login/callback/ ")
