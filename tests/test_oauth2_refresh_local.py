"""mwsso.tokens.refresh decisions that need no wiki: already refreshed, not due, public client, wrong client, wiki down."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mwsso import api, signals
from mwsso.models import AccessToken
from mwsso.tokens.refresh import needs_refresh, refresh_token

pytestmark = pytest.mark.django_db
User = get_user_model()
CLIENT_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oauth2_settings(settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = CLIENT_ID
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "client-secret-value"
    return settings


def stored(expires_in: float, *, wiki_url: str = "http://127.0.0.1:9/w/index.php") -> AccessToken:
    user = User.objects.create_user("Alice")
    return AccessToken.objects.create(
        user=user,
        wiki="http://127.0.0.1:9",
        wiki_url=wiki_url,
        consumer_key=CLIENT_ID,
        oauth_version=2,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        **AccessToken.credential_fields("access-token-one", "", refresh_token="refresh-token-one"),
    )


def test_refresh_token_is_encrypted_with_its_access_token():
    token = stored(3600)
    credentials = token.get_credentials()
    assert (credentials.key, credentials.refresh_token) == ("access-token-one", "refresh-token-one")
    row = AccessToken.objects.filter(pk=token.pk).values().get()
    assert not any("refresh-token-one" in str(value) or "access-token-one" in str(value) for value in row.values())
    assert "refresh-token-one" not in repr(credentials)
    assert AccessToken.ENCRYPTED_FIELDS == ("encrypted",)


def test_needs_refresh_uses_the_margin(settings):
    token = stored(30)
    assert needs_refresh(token)  # within the default 60 s margin
    settings.MWSSO_REFRESH_MARGIN = 10
    assert not needs_refresh(token)
    token.oauth_version = 1
    assert not needs_refresh(token)


def test_a_token_another_worker_refreshed_is_used_without_asking_the_wiki(oauth2_settings):
    token = stored(-5)
    seen = token.fingerprint
    # Another worker wrote a new pair meanwhile.
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + timedelta(hours=1),
        **AccessToken.credential_fields("access-token-two", "", refresh_token="refresh-token-two"),
    )
    fresh = refresh_token(token, seen_fingerprint=seen)  # the wiki at 127.0.0.1:9 would not even answer
    assert fresh.get_credentials().key == "access-token-two"


def test_a_token_not_due_is_not_refreshed(oauth2_settings):
    token = stored(3600)
    assert refresh_token(token).fingerprint == token.fingerprint


def test_a_public_client_cannot_refresh_and_is_told_to_sign_in_again(oauth2_settings):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    token = stored(-5)
    with pytest.raises(api.SignInExpired) as caught:
        refresh_token(token)
    assert "sign in again" in str(caught.value) and caught.value.user_message.startswith("Your sign-in")
    token.refresh_from_db()
    assert token.status == AccessToken.Status.VALID  # not the wiki's word: left as it is


def test_another_client_id_changes_nothing(oauth2_settings):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "another-client"
    token = stored(-5)
    with pytest.raises(api.TokenUnusable):
        refresh_token(token)
    token.refresh_from_db()
    assert token.status == AccessToken.Status.VALID and token.get_credentials().key == "access-token-one"


def test_an_unreachable_wiki_leaves_the_token_and_raises_wiki_unavailable(oauth2_settings, caplog):
    token = stored(-5, wiki_url=f"http://127.0.0.1:{closed_port()}/w/index.php")
    before = AccessToken.objects.filter(pk=token.pk).values().get()
    failures = []
    signals.token_refresh_failed.connect(lambda **kw: failures.append(kw), weak=False, dispatch_uid="t-fail")
    try:
        with caplog.at_level(logging.INFO), pytest.raises(api.WikiUnavailable) as caught:
            refresh_token(token)
    finally:
        signals.token_refresh_failed.disconnect(dispatch_uid="t-fail")
    assert AccessToken.objects.filter(pk=token.pk).values().get() == before
    assert failures and failures[0]["final"] is False
    text = caplog.text + str(caught.value) + repr(caught.value)
    assert "refresh-token-one" not in text and "client-secret-value" not in text and "access-token-one" not in text


def test_for_user_refreshes_an_expired_token_before_the_call(oauth2_settings):
    token = stored(-5, wiki_url=f"http://127.0.0.1:{closed_port()}/w/index.php")
    with pytest.raises(api.WikiUnavailable):
        api.for_user(token.user)
