"""Migrating from social-core's stock MediaWiki backend keeps each user's access token: ``mwsso_tokens import-social``.

The stock rows are made by social-core's stock backend itself: a real sign-in through social-app-django's own
views against the local wiki, so the tokens are real ones the wiki issued and the API calls after the import
prove they moved intact.
"""

from __future__ import annotations

import io
import logging
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from mwsso_devwiki.testing import authorize
from social_core.backends.mediawiki import MediaWiki as StockMediaWiki
from social_core.backends.utils import load_backends
from social_core.pipeline import DEFAULT_AUTH_PIPELINE
from social_django.models import UserSocialAuth

from mwsso import api
from mwsso.app_settings import DEFAULT_PIPELINE
from mwsso.checks.config import check_stock_plain_tokens
from mwsso.models import AccessToken
from mwsso.protocol.identity import wiki_key
from mwsso.tokens import import_social_tokens, importing
from mwsso.tokens.importing import stock_credentials
from tests.conftest import SITE_HOST, TEST_CONSUMER_SECRET, callback_path
from tests.dbdump import database_dump

User = get_user_model()
WIKI_IDS = {"Alice": 3, "Bob": 4, "Zoë Ünïcode-Test": 11}
STOCK_BACKEND = "social_core.backends.mediawiki.MediaWiki"
MWSSO_BACKEND = "mwsso.backends.MediaWikiOAuth"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("mwsso_tokens", "import-social", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def warnings() -> dict[str, str]:
    found = checks.run_checks(databases=["default"])
    return {m.id: f"{m.msg} {m.hint}" for m in found if m.id == "mwsso.W022"}


def use_backends(backends: list[str]) -> None:
    # social-core caches the backend class per name ("mediawiki") for the whole process.
    load_backends(backends, force_load=True)


@pytest.fixture
def stock_site(wiki_settings):  # type: ignore[no-untyped-def]
    """The site as it was before mwsso: social-core's stock backend, pipeline and views."""
    wiki_settings.AUTHENTICATION_BACKENDS = [STOCK_BACKEND, "django.contrib.auth.backends.ModelBackend"]
    wiki_settings.SOCIAL_AUTH_PIPELINE = DEFAULT_AUTH_PIPELINE
    wiki_settings.ROOT_URLCONF = "tests.stock_urls"
    # The stock backend sends its callback setting as it is: an absolute URL on the site.
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = f"http://{SITE_HOST}/complete/mediawiki/"
    use_backends(wiki_settings.AUTHENTICATION_BACKENDS)
    yield wiki_settings
    use_backends([MWSSO_BACKEND])


def stock_sign_in(name: str) -> dict[str, str]:
    """A whole sign-in with social-core's stock backend; returns the plain token it left in extra_data."""
    browser = Client(HTTP_HOST=SITE_HOST)
    begin = browser.post("/login/mediawiki/")
    assert begin.status_code == 302, begin.content[:300]
    allowed = authorize(None, begin["Location"], user=name)
    assert allowed.status_code == 302, allowed.text[:300]
    done = browser.get(callback_path(allowed.headers["Location"]))
    assert done.status_code == 302 and urlsplit(done["Location"]).path != "/login/error/", done
    social = UserSocialAuth.objects.get(provider="mediawiki", uid=str(WIKI_IDS[name]))
    assert set(social.extra_data) >= {"auth_time", "access_token"}
    return social.extra_data["access_token"]


def switch_to_mwsso(settings) -> None:  # type: ignore[no-untyped-def]
    """The one line a site changes (its backend), plus what the rest of mwsso's install adds."""
    settings.AUTHENTICATION_BACKENDS = [MWSSO_BACKEND, "django.contrib.auth.backends.ModelBackend"]
    settings.SOCIAL_AUTH_PIPELINE = DEFAULT_PIPELINE
    settings.ROOT_URLCONF = "project.urls"
    settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"
    use_backends(settings.AUTHENTICATION_BACKENDS)


def acts_as(name: str) -> None:
    user = User.objects.get(social_auth__uid=str(WIKI_IDS[name]))
    userinfo = api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]
    assert (userinfo["name"], userinfo["id"]) == (name, WIKI_IDS[name])


# -- the whole path -----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_stock_users_switch_import_and_call_without_signing_in_again(stock_site, login, devwiki):
    plain = {name: stock_sign_in(name) for name in WIKI_IDS}
    assert all(set(token) == {"oauth_token", "oauth_token_secret"} for token in plain.values())
    switch_to_mwsso(stock_site)
    for name in WIKI_IDS:  # what the issue saw: switched users have no token
        with pytest.raises(api.NoToken):
            api.for_user(User.objects.get(social_auth__uid=str(WIKI_IDS[name])))
    warned = warnings()
    assert "3 social-auth associations" in warned["mwsso.W022"] and "mwsso_tokens import-social" in warned["mwsso.W022"]

    dry, _ = run("--dry-run")
    assert "Dry run: found 3 access tokens" in dry and "3 would be imported" in dry and "Nothing was changed" in dry
    assert AccessToken.objects.count() == 0 and len(warnings()) == 1

    out, err = run("--batch-size", "2")
    assert "found 3 access tokens" in out and "3 imported, 0 already present" in out and "3 plain copies removed" in out
    assert "0 skipped as malformed" in out and err == ""
    for name in WIKI_IDS:
        acts_as(name)  # a real call with the imported token, no new sign-in
    token = AccessToken.objects.get(user__social_auth__uid="3")
    assert (token.wiki, token.wiki_url, token.consumer_key) == (
        wiki_key(devwiki.index_url),
        devwiki.index_url,
        stock_site.SOCIAL_AUTH_MEDIAWIKI_KEY,
    )
    assert token.grants == [] and token.last_verified is None and token.status == AccessToken.Status.VALID

    # Nothing readable is left anywhere in the database, and every other extra_data field is kept.
    dump = database_dump()
    for pair in plain.values():
        assert pair["oauth_token"] not in dump and pair["oauth_token_secret"] not in dump
    assert TEST_CONSUMER_SECRET not in dump
    assert all(set(s.extra_data) == {"auth_time"} for s in UserSocialAuth.objects.all())
    assert warnings() == {}

    # Twice changes nothing.
    before = sorted(AccessToken.objects.values_list("pk", "encrypted", "updated"))
    again, _ = run()
    assert "found 0 access tokens" in again and "0 imported" in again
    assert sorted(AccessToken.objects.values_list("pk", "encrypted", "updated")) == before

    # The next sign-in (with mwsso) replaces the imported row, learning its grants: the wiki was named the same.
    response = login(Client(HTTP_HOST=SITE_HOST), "Alice")
    assert response.status_code == 302
    alice = AccessToken.objects.get(user__social_auth__uid="3")
    assert AccessToken.objects.count() == 3 and alice.grants and alice.last_verified is not None


@pytest.mark.django_db(transaction=True)
def test_verify_learns_the_grants_of_an_imported_token(stock_site):
    stock_sign_in("Bob")
    switch_to_mwsso(stock_site)
    run()
    out = io.StringIO()
    call_command("mwsso_tokens", "verify", stdout=out, stderr=io.StringIO())
    assert "1 valid" in out.getvalue()
    token = AccessToken.objects.get()
    assert token.grants and token.last_verified is not None


# -- rows as the stock backend writes them ------------------------------------------
def stock_row(user, uid: str, access_token, **extra):  # type: ignore[no-untyped-def]
    """An association whose extra_data is what the stock backend's own extra_data() returns (plus ``extra``)."""
    backend = StockMediaWiki(strategy=None)  # type: ignore[arg-type]
    data = backend.extra_data(user, uid, {}, {}, {"access_token": access_token}) | extra
    return UserSocialAuth.objects.create(user=user, provider="mediawiki", uid=uid, extra_data=data)


@pytest.mark.django_db
def test_malformed_rows_are_counted_logged_and_left_without_a_secret_in_output(wiki_settings, caplog):
    caplog.set_level(logging.INFO, logger="mwsso")
    users = [User.objects.create(username=f"u{i}") for i in range(6)]
    good = stock_row(users[0], "10", {"oauth_token": "good-key-0001", "oauth_token_secret": "good-secret-0001"})
    missing = stock_row(users[1], "11", {"oauth_token": "lonely-key-0002"})
    wrong = stock_row(users[2], "12", {"oauth_token": "typed-key-0003", "oauth_token_secret": 12345})
    listed = stock_row(users[3], "13", ["listed-key-0004", "listed-secret-0004"])
    as_string = UserSocialAuth.objects.create(
        user=users[4], provider="mediawiki", uid="14",
        extra_data='{"access_token": {"oauth_token": "str-key-0005", "oauth_token_secret": "str-secret-0005"}}',
    )  # fmt: skip
    other = UserSocialAuth.objects.create(
        user=users[5], provider="github", uid="15", extra_data={"access_token": "gh-0006"}
    )
    warned = warnings()
    assert warned["mwsso.W022"].startswith("5 social-auth associations")

    out, err = run()
    assert "found 5 access tokens" in out and "1 imported" in out and "4 skipped as malformed" in out
    assert "4 associations hold an access token field" in err
    for row in (missing, wrong, listed, as_string):
        assert UserSocialAuth.objects.get(pk=row.pk).extra_data == row.extra_data
        assert f"UserSocialAuth {row.pk} (user {row.user_id})" in caplog.text
    assert UserSocialAuth.objects.get(pk=other.pk).extra_data == {"access_token": "gh-0006"}
    assert "access_token" not in UserSocialAuth.objects.get(pk=good.pk).extra_data
    assert AccessToken.objects.get().get_credentials().secret == "good-secret-0001"
    shown = out + err + caplog.text
    for secret in (
        "good-key-0001",
        "good-secret-0001",
        "lonely-key-0002",
        "typed-key-0003",
        "12345",
        "listed-secret-0004",
        "str-secret-0005",
    ):
        assert secret not in shown
    assert warnings()["mwsso.W022"].startswith("4 social-auth associations")  # the malformed ones still hold text


def test_stock_credentials_reads_only_the_stock_shape():
    assert stock_credentials({"auth_time": 1, "access_token": {"oauth_token": "k", "oauth_token_secret": "s"}}) == (
        "k",
        "s",
    )
    assert stock_credentials({"auth_time": 1}) is None
    for bad in ('{"access_token": {}}', [], {"access_token": None}, {"access_token": "oauth_token=k"},
                {"access_token": {"oauth_token": "k", "oauth_token_secret": ""}},
                {"access_token": {"oauth_token": ["k"], "oauth_token_secret": "s"}}):  # fmt: skip
        reason = stock_credentials(bad)
        assert isinstance(reason, str) and "oauth_token=k" not in reason and "['k']" not in reason


@pytest.mark.django_db
def test_a_user_with_an_mwsso_token_keeps_it_and_the_plain_copy_still_goes(wiki_settings, devwiki):
    user = User.objects.create(username="Alice")
    stock_row(
        user, "3", {"oauth_token": "stale-key-0001", "oauth_token_secret": "stale-secret-0001"}, id=3, username="Alice"
    )
    newer = AccessToken(
        user=user, wiki=wiki_key(devwiki.index_url), wiki_url=devwiki.index_url, consumer_key="c", grants=["basic"]
    )
    newer.set_credentials("fresh-key-0001", "fresh-secret-0001")
    newer.save()

    dry, _ = run("--dry-run")
    assert "0 would be imported, 1 already present" in dry
    assert "access_token" in UserSocialAuth.objects.get().extra_data

    out, _ = run()
    assert "0 imported, 1 already present" in out and "1 plain copies removed" in out
    kept = AccessToken.objects.get()
    assert kept.pk == newer.pk and kept.get_credentials().secret == "fresh-secret-0001" and kept.grants == ["basic"]
    # Everything else in extra_data stays (the stock backend may have stored id and username too).
    assert UserSocialAuth.objects.get().extra_data.keys() == {"auth_time", "id", "username"}


@pytest.mark.django_db
def test_import_needs_the_consumer_and_changes_nothing_without_it(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = ""
    user = User.objects.create(username="u")
    row = stock_row(user, "3", {"oauth_token": "key-0001", "oauth_token_secret": "secret-0001"})
    with pytest.raises(CommandError, match="Nothing was imported: SOCIAL_AUTH_MEDIAWIKI_KEY"):
        run()
    assert UserSocialAuth.objects.get().extra_data == row.extra_data and not AccessToken.objects.exists()


@pytest.mark.django_db
def test_a_batch_that_fails_half_way_is_left_whole(wiki_settings, monkeypatch):
    # Each batch moves in one transaction: if the removal of its plain copies fails after its tokens were
    # written, the tokens go too and the plain copies are still there to retry; earlier batches stay done.
    users = [User.objects.create(username=f"u{i}") for i in range(5)]
    rows = [
        stock_row(u, str(20 + i), {"oauth_token": f"key-{i}-x", "oauth_token_secret": f"secret-{i}-x"})
        for i, u in enumerate(users)
    ]
    original_update = importing.update_by_pk

    def fail_on_second_batch(model, values, **kwargs):  # type: ignore[no-untyped-def]
        if rows[2].pk in values["extra_data"]:
            raise RuntimeError("killed")
        return original_update(model, values, **kwargs)

    monkeypatch.setattr(importing, "update_by_pk", fail_on_second_batch)
    with pytest.raises(RuntimeError):
        import_social_tokens(batch_size=2)
    for row in rows[:2]:
        assert "access_token" not in UserSocialAuth.objects.get(pk=row.pk).extra_data
    for row in rows[2:]:
        assert UserSocialAuth.objects.get(pk=row.pk).extra_data == row.extra_data
    assert sorted(AccessToken.objects.values_list("user_id", flat=True)) == [users[0].pk, users[1].pk]
    monkeypatch.undo()
    result = import_social_tokens(batch_size=2)
    assert (result.found, result.imported) == (3, 3)
    assert AccessToken.objects.count() == 5
    assert {t.user_id: t.get_credentials().secret for t in AccessToken.objects.all()} == {
        u.pk: f"secret-{i}-x" for i, u in enumerate(users)
    }


@pytest.mark.django_db
def test_the_stock_check_never_queries_without_a_database(wiki_settings, django_assert_num_queries):
    stock_row(User.objects.create(username="u"), "3", {"oauth_token": "k-0001", "oauth_token_secret": "s-0001"})
    with django_assert_num_queries(0):
        assert check_stock_plain_tokens(databases=None) == []
    assert check_stock_plain_tokens(databases=["default"])[0].id == "mwsso.W022"
