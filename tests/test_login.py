"""The whole sign-in against the local wiki over real HTTP: users, renames, tokens, callbacks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from mwsso_devwiki.testing import authorize
from social_django.models import UserSocialAuth

import mwsso
from mwsso.models import AccessToken, WikiIdentity
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, callback_path, start_login
from tests.dbdump import database_dump

pytestmark = pytest.mark.django_db(transaction=False)
User = get_user_model()


def signed_in_username(client) -> str | None:  # type: ignore[no-untyped-def]
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def test_full_login_creates_user_identity_and_encrypted_token(login, site_client, devwiki):
    response = login(site_client, "Alice")
    assert response.status_code == 302 and response["Location"] == "/profile/"
    user = User.objects.get()
    assert user.username == "Alice"
    assert not user.has_usable_password()
    social = UserSocialAuth.objects.get(user=user)
    assert (social.provider, social.uid) == ("mediawiki", "3")
    identity = mwsso.identity_for(user)
    assert identity.wiki == devwiki.server_url + "/w"  # the wiki is its server and script path
    assert identity.editcount == 1234 and "autoconfirmed" in identity.groups
    assert identity.grants and all(isinstance(g, str) for g in identity.grants)
    token = AccessToken.objects.get(user=user)
    assert token.status == AccessToken.Status.VALID and token.consumer_key == TEST_CONSUMER_KEY
    assert token.wiki_url == devwiki.index_url
    credentials = token.get_credentials()
    assert credentials.key and credentials.secret
    # The token works on the wiki: the wiki knows it as Alice's.
    tokens = devwiki.control("stats")["access_tokens"]
    assert any(t["key"] == credentials.key and not t["revoked"] for t in tokens)
    page = site_client.get("/profile/")
    assert page.status_code == 200 and "Alice" in page.content.decode()


def test_second_login_keeps_the_user_and_replaces_the_token_row(login, site_client, devwiki):
    login(site_client, "Alice")
    first = AccessToken.objects.get()
    site_client.post("/logout/")
    login(site_client, "Alice")
    assert User.objects.count() == 1 and UserSocialAuth.objects.count() == 1
    second = AccessToken.objects.get()
    assert second.pk == first.pk
    # The wiki gives the same access token again until it is revoked (as MediaWiki does).
    assert second.get_credentials().key == first.get_credentials().key
    assert second.updated >= first.updated


def test_login_after_revocation_stores_the_new_token(login, site_client, devwiki):
    login(site_client, "Alice")
    old_key = AccessToken.objects.get().get_credentials().key
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    site_client.post("/logout/")
    login(site_client, "Alice")
    token = AccessToken.objects.get()
    assert token.get_credentials().key != old_key and token.status == AccessToken.Status.VALID


def test_rename_on_the_wiki_renames_the_django_user(login, site_client, devwiki):
    login(site_client, "Alice")
    devwiki.control("rename", sub="3", new_name="Alice Renamed")
    site_client.post("/logout/")
    login(site_client, "Alice Renamed")
    user = User.objects.get()
    assert user.username == "Alice Renamed"
    assert WikiIdentity.objects.get().username == "Alice Renamed"


def test_a_renamed_users_old_name_taken_by_another_wiki_user(login, devwiki, client_factory):
    first, second = client_factory(), client_factory()
    login(first, "Alice")
    devwiki.control("rename", sub="3", new_name="Alice Old")
    devwiki.control("rename", sub="4", new_name="Alice")  # Bob takes the name "Alice"
    login(second, "Alice")
    bob = UserSocialAuth.objects.get(uid="4").user
    alice = UserSocialAuth.objects.get(uid="3").user
    assert bob.username == "Alice"
    assert alice.username == "Alice~3"  # stale until Alice signs in again
    login(first, "Alice Old")
    alice.refresh_from_db()
    assert alice.username == "Alice Old"


def test_a_local_account_with_the_same_name_is_never_taken_over(login, site_client):
    local = User.objects.create_user("Alice", password="local-password")
    login(site_client, "Alice")
    wiki_user = UserSocialAuth.objects.get(uid="3").user
    assert wiki_user.pk != local.pk and wiki_user.username == "Alice~3"
    local.refresh_from_db()
    assert local.username == "Alice" and local.check_password("local-password")


def test_non_ascii_name_with_spaces_is_kept_as_is(login, site_client):
    response = login(site_client, "Zoë Ünïcode-Test")
    assert response.status_code == 302
    assert User.objects.get().username == "Zoë Ünïcode-Test"
    assert "Zoë Ünïcode-Test" in site_client.get("/profile/").content.decode()


def test_blocked_user_is_refused_and_nothing_is_written(login, site_client):
    response = login(site_client, "Mallory")
    assert response.status_code == 403
    assert "blocked" in response.content.decode()
    assert signed_in_username(site_client) is None
    assert not User.objects.exists() and not AccessToken.objects.exists() and not WikiIdentity.objects.exists()


@pytest.mark.parametrize("sub_type", ["int", "str"])
def test_numeric_and_string_sub_give_the_same_account(login, site_client, devwiki, sub_type):
    devwiki.control("set_variant", sub_type=sub_type)
    login(site_client, "Alice")
    assert UserSocialAuth.objects.get().uid == "3"


def test_grants_list_variant(login, site_client, devwiki):
    devwiki.control("set_variant", grants_format="list")
    login(site_client, "Alice")
    assert "basic" in WikiIdentity.objects.get().grants


def test_cancel_on_the_wiki_then_a_fresh_login_works(wiki_settings, site_client, devwiki):
    authorize_url = start_login(site_client)
    cancelled = authorize(None, authorize_url, user="Alice", action="cancel")
    assert cancelled.status_code == 200 and "Location" not in cancelled.headers
    assert signed_in_username(site_client) is None
    authorize_url = start_login(site_client)
    allowed = authorize(None, authorize_url, user="Alice", action="accept")
    response = site_client.get(callback_path(allowed.headers["Location"]))
    assert response.status_code == 302 and signed_in_username(site_client) == "Alice"


def test_login_start_needs_post(wiki_settings, site_client, devwiki):
    # A GET shows a page with the button (tests/test_sign_in_page.py) and asks nothing of the wiki.
    assert site_client.get("/login/mediawiki/").status_code == 200
    assert devwiki.control("stats")["counters"].get("initiate", 0) == 0


def test_login_start_is_csrf_protected(wiki_settings, devwiki):
    from django.test import Client

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1:8000")
    assert client.post("/login/mediawiki/").status_code == 403
    assert devwiki.control("stats")["counters"].get("initiate", 0) == 0


def test_authorize_url_names_the_request_token_and_consumer(wiki_settings, site_client, devwiki):
    url = urlsplit(start_login(site_client))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == devwiki.index_url
    assert query["title"] == ["Special:OAuth/authorize"]
    assert query["oauth_consumer_key"] == [TEST_CONSUMER_KEY]
    assert len(query["oauth_token"][0]) >= 16


# --- forged, replayed and incomplete callbacks ---------------------------------


def allowed_callback(client, devwiki) -> str:  # type: ignore[no-untyped-def]
    allowed = authorize(None, start_login(client), user="Alice", action="accept")
    return callback_path(allowed.headers["Location"])


def assert_refused(response, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.status_code
    body = response.content.decode()
    assert "Sign-in failed" in body and reason in body
    assert not User.objects.exists() and not AccessToken.objects.exists()


def test_replayed_callback_is_refused(wiki_settings, site_client, devwiki):
    path = allowed_callback(site_client, devwiki)
    assert site_client.get(path).status_code == 302
    site_client.post("/logout/")
    User.objects.all().delete()
    assert_refused(site_client.get(path), "no_pending_login")


def test_callback_in_another_browser_is_refused(wiki_settings, site_client, devwiki, client_factory):
    path = allowed_callback(site_client, devwiki)
    assert_refused(client_factory().get(path), "no_pending_login")
    # The right browser can still finish.
    assert site_client.get(path).status_code == 302


def test_callback_with_a_forged_token_is_refused(wiki_settings, site_client, devwiki):
    path = allowed_callback(site_client, devwiki)
    query = parse_qs(urlsplit(path).query)
    forged = urlencode({"oauth_token": "f" * 32, "oauth_verifier": query["oauth_verifier"][0]})
    assert_refused(site_client.get(f"/complete/mediawiki/?{forged}"), "token_mismatch")


@pytest.mark.parametrize("drop", ["oauth_token", "oauth_verifier"])
def test_callback_missing_a_parameter_is_refused(wiki_settings, site_client, devwiki, drop):
    path = allowed_callback(site_client, devwiki)
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items() if k != drop}
    response = site_client.get(f"/complete/mediawiki/?{urlencode(query)}")
    assert_refused(response, "missing_token" if drop == "oauth_token" else "missing_verifier")


def test_callback_with_a_wrong_verifier_is_refused_by_the_wiki(wiki_settings, site_client, devwiki):
    path = allowed_callback(site_client, devwiki)
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    query["oauth_verifier"] = "0" * 32
    response = site_client.get(f"/complete/mediawiki/?{urlencode(query)}")
    assert response.status_code == 502
    assert "mwoauthdatastore-bad-verifier" in response.content.decode()
    # The wiki's own words, as plain text.
    assert "The wiki said: The verification code provided was not valid." in response.content.decode()
    assert not User.objects.exists()


def test_callback_with_no_session_at_all(wiki_settings, site_client):
    response = site_client.get("/complete/mediawiki/?oauth_token=abc&oauth_verifier=def")
    assert_refused(response, "no_pending_login")


# --- what the database and the pages hold -----------------------------------------


def test_the_raw_database_never_holds_the_token_in_plain_text(login, site_client):
    login(site_client, "Alice")
    credentials = AccessToken.objects.get().get_credentials()
    text = database_dump()
    assert credentials.key not in text and credentials.secret not in text
    assert TEST_CONSUMER_SECRET not in text
    assert UserSocialAuth.objects.get().extra_data.keys() <= {"wiki", "username", "userID"}


def test_no_secret_in_pages_logs_or_reprs(login, site_client, caplog):
    caplog.set_level("DEBUG")
    login(site_client, "Alice")
    token = AccessToken.objects.get()
    credentials = token.get_credentials()
    pages = [site_client.get(url).content.decode() for url in ("/", "/profile/")]
    ours = [*pages, repr(token), str(token), repr(credentials), str(credentials)]
    ours += [r.getMessage() for r in caplog.records if r.name.startswith("mwsso")]
    assert all(credentials.key not in text for text in ours)
    # Secrets appear nowhere, not even in third-party debug logs (oauthlib logs base strings, never keys).
    for secret in (credentials.secret, TEST_CONSUMER_SECRET):
        assert all(secret not in text for text in [*ours, caplog.text])


def test_queries_per_login_stay_bounded(login, site_client, django_assert_max_num_queries):
    # First login: user, association, identity, token and session rows (and one look for the same
    # person signed in with the other OAuth version): stock's 25 plus the identity and token INSERTs.
    # Returning: Django's session handling and the association SELECT (which also loads the stored
    # identity and token), as with the stock backend; nothing is written when nothing changed.
    # The same counts on SQLite and PostgreSQL (Django counts BEGIN/COMMIT on both). One more the first time a
    # process meets a combination of grants (its GrantSet row, for the admin's grant filter); here every test's
    # rows are rolled back, so each first login meets it anew.
    # tests/test_query_parity.py compares with the stock backend in the same run.
    with django_assert_max_num_queries(28):
        login(site_client, "Alice")
    site_client.post("/logout/")
    with django_assert_max_num_queries(16):
        login(site_client, "Alice")


def test_wiki_round_trips_per_login(login, site_client, devwiki):
    login(site_client, "Alice")
    requests = devwiki.control("stats")["counters"]
    assert requests.get("initiate") == 1 and requests.get("token") == 1 and requests.get("identify") == 1
    assert requests.get("api", 0) == 0


@pytest.mark.parametrize("id_key", ["userID", ""])
def test_users_of_social_cores_stock_backend_keep_their_accounts(login, site_client, id_key):
    # A row as social-core's MediaWiki backend wrote it (its extra_data even held the token in plain text).
    old = User.objects.create_user("Alice")
    UserSocialAuth.objects.create(
        user=old,
        provider="mediawiki",
        uid="3",
        id_key=id_key,
        extra_data={"userID": "3", "access_token": {"oauth_token": "old", "oauth_token_secret": "old-secret"}},
    )
    response = login(site_client, "Alice")
    assert response.status_code == 302
    assert User.objects.get() == old
    social = UserSocialAuth.objects.get()
    assert social.user == old and social.uid == "3"
    assert "access_token" not in social.extra_data and "old-secret" not in str(social.extra_data)
    assert AccessToken.objects.get().user == old


def test_a_name_taken_by_a_local_account_at_the_same_moment(login, site_client):
    from django.db.models.signals import pre_save

    collisions = []

    def take_the_name_first(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        # As if another request created a local "Alice" between our check and our INSERT
        # (here inside our savepoint, so it is rolled back with it).
        if instance.pk is None and instance.username == "Alice":
            collisions.append(instance.username)
            User.objects.bulk_create([User(username="Alice")])

    pre_save.connect(take_the_name_first, sender=User)
    try:
        response = login(site_client, "Alice")
    finally:
        pre_save.disconnect(take_the_name_first, sender=User)
    assert response.status_code == 302
    assert collisions == ["Alice"]
    assert UserSocialAuth.objects.get(uid="3").user.username == "Alice~3"


def test_authenticate_page_can_replace_authorize(login, site_client, settings):
    settings.MWSSO_AUTHORIZE_PAGE = "authenticate"
    query = parse_qs(urlsplit(start_login(site_client)).query)
    assert query["title"] == ["Special:OAuth/authenticate"]
    site_client.post("/logout/")
    assert login(site_client, "Alice").status_code == 302
    assert signed_in_username(site_client) == "Alice"


def test_email_only_when_the_wiki_gives_it(login, site_client, settings, client_factory):
    login(site_client, "Alice")
    assert User.objects.get().email == ""  # no private-info grant: the wiki sends no email
    from mwsso_devwiki.state.seed import PRIVATE_CONSUMER_KEY, PRIVATE_CONSUMER_SECRET

    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = PRIVATE_CONSUMER_KEY
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = PRIVATE_CONSUMER_SECRET
    other = client_factory()
    assert login(other, "Alice").status_code == 302
    assert User.objects.get().email == "alice@example.org"


def test_next_may_not_leave_the_site(wiki_settings, site_client, devwiki):
    location = start_login(site_client, next_url="https://evil.example/steal")
    allowed = authorize(None, location, user="Alice")
    response = site_client.get(callback_path(allowed.headers["Location"]))
    assert response.status_code == 302 and response["Location"] == "/profile/"


def test_next_within_the_site_is_followed(wiki_settings, site_client, devwiki):
    allowed = authorize(None, start_login(site_client, next_url="/admin/"), user="Alice")
    assert site_client.get(callback_path(allowed.headers["Location"]))["Location"] == "/admin/"


def test_unknown_backend_is_not_found(wiki_settings, site_client):
    assert site_client.post("/login/nope/").status_code == 404
    assert site_client.get("/complete/nope/?oauth_token=a&oauth_verifier=b").status_code == 404


def test_unconfirmed_email_from_an_older_wiki_is_not_taken(login, site_client, settings, devwiki):
    # Extension:OAuth before email_verified (REL1_39 too) sends the address even when unconfirmed:
    # anyone could claim someone else's address there.
    from mwsso_devwiki.state.seed import PRIVATE_CONSUMER_KEY, PRIVATE_CONSUMER_SECRET

    devwiki.control("set_variant", email="always")
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = PRIVATE_CONSUMER_KEY
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = PRIVATE_CONSUMER_SECRET
    assert login(site_client, "Newbie").status_code == 302
    assert User.objects.get(username="Newbie").email == ""
    assert login(site_client, "Zoë Ünïcode-Test").status_code == 302
    assert User.objects.get(username="Zoë Ünïcode-Test").email == "zoe@example.org"
