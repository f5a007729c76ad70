"""Operating stored OAuth 2.0 tokens: mwsso_tokens list|verify|rotate-keys|purge|export, the admin, the checks."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import CommandError, call_command
from django.utils import timezone
from social_django.models import UserSocialAuth

from mwsso import api
from mwsso.checks.config import check_oauth2_client
from mwsso.models import AccessToken
from mwsso.tokens import export_rows, purge_tokens, rotate_keys
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, o2_login

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("mwsso_tokens", *args, stdout=out, stderr=err)
    except CommandError as failed:
        code = failed.returncode
    return out.getvalue(), err.getvalue(), code


@pytest.fixture
def alice_o2(o2_settings, o2wiki, site_client):  # type: ignore[no-untyped-def]
    o2_login(site_client, "Alice")
    token = AccessToken.objects.get()
    credentials = token.get_credentials()
    return token, [credentials.key, credentials.refresh_token, CONFIDENTIAL[1]]


def test_list_and_verify_oauth2_tokens(alice_o2, o2wiki):
    token, secrets = alice_o2
    out, err, code = run("list")
    assert "2.0" in out and token.fingerprint in out
    out, err, code = run("verify")
    assert code == 0 and not any(s in out + err for s in secrets)
    token.refresh_from_db()
    assert token.status == AccessToken.Status.VALID and token.last_verified is not None
    o2wiki.control("oauth2_revoke", client_id=CONFIDENTIAL[0], user="Alice")
    out, err, code = run("verify")
    token.refresh_from_db()
    assert code == 1 and token.status == AccessToken.Status.REVOKED
    assert not any(s in out + err for s in secrets)


def test_export_and_admin_show_no_oauth2_secret(alice_o2, admin_client):
    token, secrets = alice_o2
    rows = list(export_rows(AccessToken.objects.all()))
    text = "\n".join(",".join(row) for row in rows)
    assert "refreshed_at" in rows[0] and "expires_at" in rows[0]
    assert not any(s in text for s in secrets)
    for url in ("/admin/mwsso/accesstoken/", f"/admin/mwsso/accesstoken/{token.pk}/change/"):
        page = admin_client.get(url).content.decode()
        assert not any(s in page for s in secrets)
    out, _, _ = run("list", "--format", "csv")
    assert not any(s in out for s in secrets) and list(csv.reader(io.StringIO(out)))[1][0] == str(token.pk)


def test_rotating_keys_reencrypts_the_refresh_token_too(alice_o2, settings):
    token, _ = alice_o2
    before = token.get_credentials()
    settings.MWSSO_TOKEN_KEYS = [Fernet.generate_key().decode(), *settings.MWSSO_TOKEN_KEYS]
    assert rotate_keys().rotated == 1
    settings.MWSSO_TOKEN_KEYS = settings.MWSSO_TOKEN_KEYS[:1]  # the old keys are gone
    token.refresh_from_db()
    after = token.get_credentials()
    assert (after.key, after.refresh_token) == (before.key, before.refresh_token)
    assert api.for_user(token.user).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_a_token_whose_refresh_was_refused_is_purged(alice_o2, o2wiki):
    token, _ = alice_o2
    o2wiki.control("oauth2_revoke_token", refresh_token=token.get_credentials().refresh_token)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(api.SignInRequired):
        api.for_user(token.user)
    assert purge_tokens().count == 1 and not AccessToken.objects.exists()


def test_access_token_sub_mw_central_is_never_the_user(o2_settings, o2wiki, site_client):
    # After REL1_45 ($wgOAuth2UsePrefixedSub) the access token's sub is "mw:<scope>:<id>"; the user comes from the profile.
    o2wiki.control("oauth2_configure", use_prefixed_sub=True)
    assert o2_login(site_client, "Alice").status_code == 302
    assert UserSocialAuth.objects.get().uid == "3"


def test_checks_for_the_oauth2_client(settings):
    settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth2"]
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = ""
    assert [m.id for m in check_oauth2_client()] == ["mwsso.E050"]
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "cid"
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    [warning] = check_oauth2_client()
    assert warning.id == "mwsso.W050" and warning.level == checks.WARNING and "confidential" in str(warning.hint)
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "secret"
    assert check_oauth2_client() == []
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = "wiki.example/w/index.php"
    assert [m.id for m in check_oauth2_client()] == ["mwsso.E051"]
    settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth"]
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = ""
    assert check_oauth2_client() == []
