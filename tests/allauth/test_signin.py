"""Signing in through django-allauth's real views against the local wiki (1.43 and 1.39), with mwsso's provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib.auth import get_user_model

from mwsso import api
from mwsso.models import AccessToken, WikiIdentity
from tests.allauth.support import *  # noqa: F403
from tests.allauth.support import AA_CLIENT, sign_in, signed_in_as, start
from tests.oauth2_support import *  # noqa: F403

User = get_user_model()


@pytest.mark.django_db
def test_a_user_signs_in_through_allauth_and_the_site_calls_the_api_as_them(aa_settings, o2wiki, browser):
    response = sign_in(browser)
    assert response.status_code == 302 and response["Location"] == "/", response.content[:1000]
    assert signed_in_as(browser) == "Signed in as Alice."
    account = SocialAccount.objects.get(provider="mediawiki")
    assert account.uid == "3" and account.extra_data["username"] == "Alice"
    user = account.user
    token = AccessToken.objects.get(user=user)
    assert (token.oauth_version, token.consumer_key, token.wiki_url) == (2, AA_CLIENT[0], o2wiki.index_url)
    assert token.expires_at is not None and token.get_credentials().refresh_token
    assert WikiIdentity.objects.get(user=user).username == "Alice"
    assert not SocialToken.objects.exists()
    info = api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]
    assert info["name"] == "Alice"


@pytest.mark.django_db
def test_the_authorize_url_carries_pkce_s256_the_state_and_the_exact_callback(aa_settings, o2wiki, browser):
    query = parse_qs(urlsplit(start(browser)).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/accounts/mediawiki/login/callback/"]
    assert query["client_id"] == [AA_CLIENT[0]] and query["state"][0]
    assert "scope" not in query  # the wiki then asks for all of the client's grants
