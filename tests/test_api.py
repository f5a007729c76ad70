"""mwsso.api against the local wiki over real HTTP: signing, CSRF, continuation, retries, errors, tokens."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from mwsso_devwiki.testing import running_devwiki

from mwsso import __version__, api, http, signals
from mwsso.api import wikis
from mwsso.api.client import encode_params, retry_wait
from mwsso.models import AccessToken
from tests import php_oauth
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def alice(login, site_client):  # type: ignore[no-untyped-def]
    """Alice signed in through the local wiki: a Django user with a real access token."""
    assert login(site_client, "Alice").status_code == 302
    return User.objects.get(username="Alice")


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the client asked for (recorded instead of slept, so retry tests take no time)."""
    return []


def client_for(user, sleeps: list[float] | None = None, wiki: str | None = None) -> api.Client:  # type: ignore[no-untyped-def]
    return api.for_user(user, wiki, sleep=(sleeps.append if sleeps is not None else time.sleep))


def api_calls(devwiki, action: str | None = None) -> int:  # type: ignore[no-untyped-def]
    counters = devwiki.control("stats")["counters"]
    return counters.get(f"api:{action}" if action else "api", 0)


def secrets_of(user) -> list[str]:  # type: ignore[no-untyped-def]
    """The token key (not secret alone, but never shown), the token secret and the consumer secret."""
    credentials = AccessToken.objects.get(user=user).get_credentials()
    return [credentials.key, credentials.secret, TEST_CONSUMER_SECRET]


class AnonymousSigner:
    """Signs nothing: the wiki then sees an anonymous caller."""

    secrets: tuple[str, ...] = ()

    def auth(self) -> requests.auth.AuthBase:
        return lambda request: request  # type: ignore[return-value]


# -- signed calls ---------------------------------------------------------------


def test_signed_get_runs_as_the_user(alice, devwiki):
    client = api.for_user(alice)
    assert client.api_url == devwiki.api_url
    data = client.get(action="query", meta="userinfo", uiprop=["groups", "editcount"])
    userinfo = data["query"]["userinfo"]
    assert (userinfo["id"], userinfo["name"], userinfo["editcount"]) == (3, "Alice", 1234)
    assert "autoconfirmed" in userinfo["groups"]
    assert data["batchcomplete"] is True  # formatversion=2 (version 1 sends "")


def test_assert_user_is_sent_so_an_unsigned_call_never_runs_anonymously(devwiki):
    client = api.Client(devwiki.api_url, AnonymousSigner())
    with pytest.raises(api.AssertUserFailed) as caught:
        client.get(action="query", meta="userinfo")
    assert caught.value.code == "assertuserfailed"
    # The caller can still opt out explicitly.
    anon = client.get(action="query", meta="userinfo", **{"assert": None})
    assert anon["query"]["userinfo"]["name"] == "127.0.0.1"


def test_wrong_token_secret_is_refused_by_the_wiki_and_marks_the_token_invalid(alice, devwiki):
    token = AccessToken.objects.get(user=alice)
    token.set_credentials(token.get_credentials().key, "0" * 40)
    token.save()
    with pytest.raises(api.TokenInvalid) as caught:
        api.for_user(alice).get(action="query", meta="userinfo")
    assert caught.value.code == "mwoauth-invalid-authorization" and "Invalid signature" in caught.value.info
    assert caught.value.status == AccessToken.Status.INVALID
    token.refresh_from_db()
    assert token.status == AccessToken.Status.INVALID and "Invalid signature" in token.status_reason


def test_writes_are_post_bodies_and_nothing_secret_is_in_a_url(alice, devwiki):
    client = api.for_user(alice)
    sent: list[requests.PreparedRequest] = []

    def record(response, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(response.request)

    # A response hook on the shared session shows what really went over the wire.
    hooks = http.get_session().hooks["response"]
    hooks.append(record)
    try:
        client.edit("Sandbox", "posted text", "test")
    finally:
        hooks.remove(record)
    assert [r.method for r in sent] == ["GET", "POST"]  # the CSRF token, then the edit
    edit = sent[1]
    body = edit.body.decode() if isinstance(edit.body, bytes) else edit.body
    assert "action=edit" in body and "text=posted+text" in body and "token=" in body
    assert "token=" not in edit.url and "text=" not in edit.url
    for request in sent:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        assert headers["Authorization"].startswith("OAuth ")
        assert headers["User-Agent"] == f"mwsso-tests/0.1 (tests; mwsso@example.org) mwsso/{__version__}"
        for secret in secrets_of(alice)[1:]:
            assert secret not in request.url and secret not in headers["Authorization"]


def test_each_attempt_is_signed_afresh(alice, devwiki, sleeps):
    # The wiki records each nonce before it checks maxlag and refuses a reused one, so retries
    # after maxlag only succeed with new signatures.
    devwiki.control("set_maxlag", lag=12, count=2)
    data = client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert data["query"]["userinfo"]["name"] == "Alice"
    assert api_calls(devwiki) == 3


def test_oauth2_tokens_are_sent_as_bearer_tokens(alice, devwiki):
    client = api.Client(devwiki.api_url, api.BearerSigner("an-oauth2-access-token"))
    with pytest.raises(api.TokenInvalid) as caught:  # the local wiki has no OAuth 2 yet, as REL1_39 without it
        client.get(action="query", meta="userinfo")
    assert caught.value.info.endswith("Invalid access token") and caught.value.status == AccessToken.Status.INVALID
    assert "an-oauth2-access-token" not in repr(client.signer) + str(caught.value)
    AccessToken.objects.filter(user=alice).update(oauth_version=2)
    assert isinstance(api.for_user(alice).signer, api.BearerSigner)


# -- CSRF and edits --------------------------------------------------------------


def test_csrf_token_is_fetched_once_per_client(alice, devwiki):
    client = api.for_user(alice)
    first = client.csrf_token()
    assert first.endswith("+\\") and len(first) > 2
    assert client.csrf_token() == first
    client.edit("Sandbox", "one", "first")
    client.edit("Sandbox", "two", "second")
    assert api_calls(devwiki, "query") == 1 and api_calls(devwiki, "edit") == 2


def test_edit_returns_the_new_revision_id(alice, devwiki):
    client = api.for_user(alice)
    revid = client.edit("User:Alice/mwsso test", "Hello from the tests", "testing mwsso.api")
    assert isinstance(revid, int)
    data = client.get(action="query", prop="revisions", titles="User:Alice/mwsso test", rvprop="ids|content|user")
    revision = data["query"]["pages"][0]["revisions"][0]
    assert (revision["revid"], revision["content"], revision["user"]) == (revid, "Hello from the tests", "Alice")
    assert client.edit("User:Alice/mwsso test", "Hello from the tests", "again") is None  # nochange


def test_stale_csrf_token_is_refreshed_and_the_edit_retried_once(alice, devwiki, monkeypatch):
    client = api.for_user(alice)
    stale = client.csrf_token()
    # The wiki's token secret changes (as when the user's session on the wiki changes): ours is now stale.
    monkeypatch.setattr(devwiki.store, "secret", "rotated-secret")
    revid = client.edit("Sandbox", "after a token change", "retry")
    assert isinstance(revid, int)
    assert client.csrf_token() != stale
    assert api_calls(devwiki, "query") == 2 and api_calls(devwiki, "edit") == 2


def test_a_token_that_is_not_the_clients_own_is_not_retried(alice, devwiki):
    client = api.for_user(alice)
    with pytest.raises(api.BadToken):
        client.post(action="edit", title="Sandbox", text="x", token="bogus+\\")
    assert api_calls(devwiki, "edit") == 1 and api_calls(devwiki, "query") == 0


def test_edit_conflict_is_typed(alice, devwiki):
    client = api.for_user(alice)
    old = client.edit("Sandbox", "first version", "one")
    client.edit("Sandbox", "second version", "two")
    with pytest.raises(api.EditConflict) as caught:
        client.edit("Sandbox", "based on the first", "three", baserevid=old)
    assert caught.value.code == "editconflict"


# -- continuation ---------------------------------------------------------------


def test_query_follows_continue_lazily(alice, devwiki):
    client = api.for_user(alice)
    everything = client.get(action="query", list="allpages", aplimit="max")["query"]["allpages"]
    assert len(everything) > 20
    pages = client.query(list="allpages", aplimit=5)
    first = next(pages)
    assert len(first["query"]["allpages"]) == 5 and "continue" in first
    assert api_calls(devwiki, "query") == 2  # the "max" call and one page: nothing fetched ahead
    titles = [p["title"] for p in first["query"]["allpages"]]
    rest = list(pages)
    titles += [p["title"] for page in rest for p in page["query"]["allpages"]]
    assert titles == [p["title"] for p in everything]
    assert len(rest) == -(-len(everything) // 5) - 1
    assert "continue" not in rest[-1]


# -- maxlag, 429 and 503 -------------------------------------------------------------


def test_maxlag_is_retried_honouring_retry_after(alice, devwiki, sleeps, settings):
    settings.MWSSO_API_MAX_RETRY_WAIT = 30
    devwiki.control("set_maxlag", lag=12, count=2)
    data = client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert data["query"]["userinfo"]["name"] == "Alice"
    assert sleeps == [5.0, 5.0]  # the wiki's Retry-After: max(maxlag, 5)
    assert api_calls(devwiki) == 3


def test_maxlag_retries_are_bounded_and_waits_capped(alice, devwiki, sleeps, settings):
    settings.MWSSO_API_MAX_RETRIES = 2
    settings.MWSSO_API_MAX_RETRY_WAIT = 0.5
    devwiki.control("set_maxlag", lag=12)
    with pytest.raises(api.MaxLagExceeded) as caught:
        client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert caught.value.code == "maxlag" and caught.value.lag == 12
    assert sleeps == [0.5, 0.5] and api_calls(devwiki) == 3


def test_maxlag_setting_is_sent(alice, devwiki, settings):
    settings.MWSSO_API_MAXLAG = 20
    devwiki.control("set_maxlag", lag=12)
    assert api.for_user(alice).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
    settings.MWSSO_API_MAXLAG = None  # not sent: the wiki never refuses
    assert api.for_user(alice).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_503_is_retried_with_backoff_then_succeeds(alice, devwiki, sleeps):
    devwiki.control("set_fault", step="api", kind="html", count=2)
    assert client_for(alice, sleeps).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
    assert sleeps == [1.0, 2.0]  # no Retry-After: 1, 2, 4 … seconds


def test_503_retries_are_bounded(alice, devwiki, sleeps, settings):
    settings.MWSSO_API_MAX_RETRIES = 3
    devwiki.control("set_fault", step="api", kind="html")
    with pytest.raises(api.WikiUnavailable) as caught:
        client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert caught.value.code == "http-503" and caught.value.http_status == 503
    assert len(sleeps) == 3 and api_calls(devwiki) == 4


def test_429_is_retried_then_rate_limited(alice, devwiki, sleeps, settings):
    settings.MWSSO_API_MAX_RETRIES = 1
    devwiki.control("set_fault", step="api", kind="html", status=429)
    with pytest.raises(api.RateLimited):
        client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert api_calls(devwiki) == 2


def test_http_500_is_not_retried(alice, devwiki, sleeps):
    devwiki.control("set_fault", step="api", kind="http500")
    with pytest.raises(api.WikiUnavailable) as caught:
        client_for(alice, sleeps).get(action="query", meta="userinfo")
    assert caught.value.code == "http-500" and sleeps == [] and api_calls(devwiki) == 1


def test_slow_wiki_times_out(alice, devwiki, settings):
    settings.MWSSO_HTTP_TIMEOUT = 0.3
    devwiki.control("set_fault", step="api", kind="slow", seconds=1.5, count=1)
    with pytest.raises(api.WikiUnavailable) as caught:
        api.for_user(alice).get(action="query", meta="userinfo")
    assert caught.value.code == "mwsso-timeout"


def test_garbage_and_errors_of_the_wiki_are_typed(alice, devwiki):
    client = api.for_user(alice)
    devwiki.control("set_fault", step="api", kind="garbage", count=1)
    with pytest.raises(api.BadResponse):
        client.get(action="query", meta="userinfo")
    devwiki.control("set_fault", step="api", kind="error", count=1)
    with pytest.raises(api.APIError) as caught:
        client.get(action="query", meta="userinfo")
    assert caught.value.code == "readonly" and "read-only" in caught.value.info


def test_retry_wait_reads_seconds_and_http_dates():
    response = requests.Response()
    response.headers["Retry-After"] = "7"
    assert retry_wait(response, 0, 30) == 7 and retry_wait(response, 0, 2) == 2
    response.headers["Retry-After"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 20))
    assert 15 < retry_wait(response, 0, 30) <= 20
    del response.headers["Retry-After"]
    assert [retry_wait(response, n, 3) for n in range(4)] == [1, 2, 3, 3]


def test_params_are_encoded_as_the_api_reads_them():
    assert encode_params({"a": ["x", "y"], "b": True, "c": False, "d": None, "e": 5}) == {
        "a": "x|y",
        "b": "1",
        "e": "5",
    }
    assert encode_params({"titles": ["A|B", "C"]}) == {"titles": "\x1fA|B\x1fC"}


# -- revoked and unusable tokens ---------------------------------------------------


def test_token_revoked_on_the_wiki(alice, devwiki):
    received: list[dict] = []

    def on_invalidated(sender, token, reason, **kwargs):  # type: ignore[no-untyped-def]
        received.append({"sender": sender, "token": token, "reason": reason})

    signals.token_invalidated.connect(on_invalidated)
    try:
        client = api.for_user(alice)
        client.get(action="query", meta="userinfo")
        devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
        with pytest.raises(api.TokenInvalid) as caught:
            client.get(action="query", meta="userinfo")
        with pytest.raises(api.TokenInvalid):  # the same client again: no second signal
            client.get(action="query", meta="userinfo")
    finally:
        signals.token_invalidated.disconnect(on_invalidated)
    err = caught.value
    assert isinstance(err, api.SignInRequired) and err.status == AccessToken.Status.REVOKED
    assert err.code == "mwoauth-invalid-authorization" and "No approved grant" in err.info
    assert "sign in again" in str(err) and "sign in again" in err.user_message.lower()
    token = AccessToken.objects.get(user=alice)
    assert token.status == AccessToken.Status.REVOKED and "No approved grant" in token.status_reason
    assert len(received) == 1 and received[0]["sender"] is AccessToken and received[0]["token"].pk == token.pk
    # Later clients are refused without asking the wiki again.
    calls = api_calls(devwiki)
    with pytest.raises(api.TokenInvalid) as again:
        api.for_user(alice)
    assert again.value.status == AccessToken.Status.REVOKED and api_calls(devwiki) == calls


def test_a_new_login_after_revocation_works_again(alice, devwiki, login, site_client):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    with pytest.raises(api.TokenInvalid):
        api.for_user(alice).get(action="query", meta="userinfo")
    login(site_client, "Alice")
    assert api.for_user(alice).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_clock_skew_does_not_invalidate_the_token(alice, devwiki, monkeypatch):
    # The wiki's clock an hour ahead: "Expired timestamp" is our clock's fault, not the token's.
    monkeypatch.setattr(devwiki.store, "clock", lambda: time.time() + 3600)
    with pytest.raises(api.SignatureRejected) as caught:
        api.for_user(alice).get(action="query", meta="userinfo")
    assert "Expired timestamp" in caught.value.info
    assert AccessToken.objects.get(user=alice).status == AccessToken.Status.VALID


def test_user_without_a_token(db, wiki_settings):
    bob = User.objects.create_user("Bob")
    with pytest.raises(api.NoToken) as caught:
        api.for_user(bob)
    assert isinstance(caught.value, api.SignInRequired)
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(api.NoToken):
        api.for_user(AnonymousUser())


def test_token_of_another_consumer_is_unusable(alice, settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = "f" * 32
    with pytest.raises(api.TokenUnusable) as caught:
        api.for_user(alice)
    assert caught.value.code == "mwsso-consumer-mismatch"


def test_token_that_cannot_be_decrypted_is_unusable(alice, settings):
    settings.MWSSO_TOKEN_KEYS = ["bmV3LWtleS1ub3QtdGhlLW9uZS11c2VkLWJlZm9yZTA="]
    with pytest.raises(api.TokenUnusable) as caught:
        api.for_user(alice)
    assert caught.value.code == "mwsso-token-unreadable"


# -- other wikis of the farm ---------------------------------------------------------


def share_access_tokens(source, target) -> None:  # type: ignore[no-untyped-def]
    """Let ``target`` accept ``source``'s access tokens, as a farm's shared OAuth tables (CentralAuth) do."""
    with source.store._lock, target.store._lock:
        target.store._access_tokens.update(source.store._access_tokens)


def test_another_wiki_of_the_farm_allowed_by_pattern(alice, devwiki, settings):
    with running_devwiki() as other:
        share_access_tokens(devwiki, other)
        assert other.server_url != devwiki.server_url
        with pytest.raises(api.NotAllowedWiki):
            api.for_user(alice, other.server_url)
        settings.MWSSO_ALLOWED_WIKIS = ["127.0.0.1:*"]
        client = api.for_user(alice, other.server_url)
        assert client.api_url == other.api_url  # the script path of the user's own wiki: /w/api.php
        assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
        revid = client.edit("Sandbox", "edited on the other wiki", "farm")
        assert other.store.pages.get("Sandbox").latest.revid == revid
        assert devwiki.store.pages.get("Sandbox").latest.text != "edited on the other wiki"
        assert api_calls(other, "edit") == 1 and api_calls(devwiki) == 0


def test_hosts_outside_the_allow_list_are_refused_before_any_request(alice, devwiki, settings):
    settings.MWSSO_ALLOWED_WIKIS = ["*.wikipedia.org"]
    port = devwiki.server_url.rsplit(":", 1)[1]
    refused = [
        "https://evil.example.org",
        f"http://localhost:{port}",  # the same server under another name is another host
        "https://wikipedia.org.evil.example",
        "ftp://de.wikipedia.org",
        "https://de.wikipedia.org",  # https, but the user's own wiki is http: patterns keep its scheme
    ]
    for wiki in refused:
        with pytest.raises(api.NotAllowedWiki):
            api.for_user(alice, wiki)
    assert api_calls(devwiki) == 0
    # The user's own wiki is always allowed, however it is written.
    assert api.for_user(alice, devwiki.server_url).api_url == devwiki.api_url
    assert api.for_user(alice, devwiki.index_url).api_url == devwiki.api_url


@pytest.mark.parametrize(
    ("wiki", "expected"),
    [
        ("https://de.wikipedia.org", "https://de.wikipedia.org/w/api.php"),
        ("de.wikipedia.org", "https://de.wikipedia.org/w/api.php"),
        ("https://de.wikipedia.org/", "https://de.wikipedia.org/w/api.php"),
        ("https://de.wikipedia.org/w/index.php", "https://de.wikipedia.org/w/api.php"),
        ("https://de.wikipedia.org/w/api.php", "https://de.wikipedia.org/w/api.php"),
        ("https://wiki.example.org/mediawiki", "https://wiki.example.org/mediawiki/api.php"),
        ("HTTPS://DE.Wikipedia.ORG:443", "https://de.wikipedia.org/w/api.php"),
    ],
)
def test_wiki_resolution(wiki, expected):
    assert wikis.resolve(wiki, "https://meta.wikimedia.org/w/index.php").api_url == expected


@pytest.mark.parametrize(
    ("target", "patterns", "allowed"),
    [
        ("https://meta.wikimedia.org/w/api.php", [], True),  # the token's own wiki
        ("https://de.wikipedia.org/w/api.php", [], False),
        ("https://de.wikipedia.org/w/api.php", ["*.wikipedia.org"], True),
        ("https://wikipedia.org/w/api.php", ["*.wikipedia.org"], False),
        ("https://de.wikipedia.org.evil.example/w/api.php", ["*.wikipedia.org"], False),
        ("http://de.wikipedia.org/w/api.php", ["*.wikipedia.org"], False),  # no downgrade to http
        ("http://de.wikipedia.org/w/api.php", ["http://*.wikipedia.org"], True),
        ("https://de.wikipedia.org:8443/w/api.php", ["*.wikipedia.org"], False),
        ("https://de.wikipedia.org:8443/w/api.php", ["*.wikipedia.org:*"], True),
        ("https://commons.wikimedia.org/w/api.php", ["*.wikipedia.org", "commons.wikimedia.org"], True),
        ("https://127.0.0.1:8002/w/api.php", ["127.0.0.1:8002"], True),
        ("https://127.0.0.1:8003/w/api.php", ["127.0.0.1:8002"], False),
    ],
)
def test_allow_list(target, patterns, allowed):
    home = [wikis.endpoint("https://meta.wikimedia.org/w/api.php")]
    assert wikis.is_allowed(wikis.endpoint(target), home, patterns) is allowed


def test_urls_with_credentials_are_refused(alice):
    with pytest.raises(api.NotAllowedWiki) as caught:
        api.for_user(alice, "http://user:s3cr3t-pw@127.0.0.1:1/w/api.php")
    assert "s3cr3t-pw" not in str(caught.value)
    with pytest.raises(api.NotAllowedWiki) as caught:
        api.for_user(alice, "ftp://user:s3cr3t-pw@127.0.0.1:1/")
    assert "s3cr3t-pw" not in str(caught.value)


# -- secrets -------------------------------------------------------------------------


def test_no_secret_in_exceptions_reprs_or_logs(alice, devwiki, caplog, sleeps):
    caplog.set_level(logging.DEBUG)
    secrets = secrets_of(alice)
    client = client_for(alice, sleeps)
    seen: list[object] = [client, client.signer, client.token]
    client.edit("Sandbox", "text", "summary")
    seen.append(client.csrf_token())
    errors: list[api.APIError] = []
    devwiki.control("set_maxlag", lag=12)
    with pytest.raises(api.MaxLagExceeded) as caught:
        client.get(action="query", meta="userinfo")
    errors.append(caught.value)
    devwiki.control("set_maxlag", lag=0)
    devwiki.control("set_fault", step="api", kind="garbage", count=1)
    with pytest.raises(api.BadResponse) as caught:
        client.get(action="query", meta="userinfo")
    errors.append(caught.value)
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    with pytest.raises(api.TokenInvalid) as caught:
        client.edit("Sandbox", "text", "summary")
    errors.append(caught.value)
    texts = (
        [str(e) for e in errors] + [repr(e) for e in errors] + [repr(s) for s in seen[:3]] + [str(s) for s in seen[:3]]
    )
    texts += [r.getMessage() for r in caplog.records if r.name.startswith("mwsso")]
    texts.append(AccessToken.objects.get(user=alice).status_reason)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    # Libraries' own debug logging (oauthlib names the token key) still never shows a secret.
    for record in caplog.records:
        for secret in secrets[1:]:
            assert secret not in record.getMessage()
    assert any("refused by the wiki" in r.getMessage() for r in caplog.records)


def test_secrets_in_the_wikis_error_text_are_scrubbed(alice, devwiki, caplog):
    caplog.set_level(logging.INFO, logger="mwsso")
    client = api.for_user(alice)
    # The wiki echoes an unknown action back in its error text: make it echo each secret.
    for secret in secrets_of(alice):
        with pytest.raises(api.APIError) as caught:
            client.get(action=secret)
        assert caught.value.code == "badvalue" and "[redacted]" in caught.value.info
        for text in (str(caught.value), repr(caught.value), *(r.getMessage() for r in caplog.records)):
            assert secret not in text


# -- database writes -----------------------------------------------------------------


def test_last_used_is_written_at_most_once_per_interval(alice, devwiki):
    with CaptureQueriesContext(connection) as queries:
        client = api.for_user(alice)
        for _ in range(5):
            client.get(action="query", meta="userinfo")
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("UPDATE") == 1 and statements.count("SELECT") == 1
    assert len(statements) == 2
    first = AccessToken.objects.get(user=alice).last_used
    assert first is not None and timezone.now() - first < timezone.timedelta(seconds=10)
    # A new client (a new web request) within the interval: one SELECT, no write.
    with CaptureQueriesContext(connection) as queries:
        api.for_user(alice).get(action="query", meta="userinfo")
    assert [q["sql"].split()[0].upper() for q in queries.captured_queries] == ["SELECT"]


def test_last_used_write_is_conditional_so_concurrent_clients_write_once(alice, devwiki):
    old = timezone.now() - timezone.timedelta(minutes=5)
    AccessToken.objects.filter(user=alice).update(last_used=old)
    one, two = api.for_user(alice), api.for_user(alice)  # both loaded the old value
    one.get(action="query", meta="userinfo")
    written = AccessToken.objects.get(user=alice).last_used
    assert written > old
    with CaptureQueriesContext(connection) as queries:
        two.get(action="query", meta="userinfo")
    assert len(queries.captured_queries) == 1  # tried, but the WHERE found the row fresh
    assert AccessToken.objects.get(user=alice).last_used == written


def test_last_used_interval_setting(alice, devwiki, settings, django_assert_num_queries):
    settings.MWSSO_LAST_USED_INTERVAL = 0
    client = api.for_user(alice)
    client.get(action="query", meta="userinfo")
    time.sleep(0.01)
    with django_assert_num_queries(1):
        client.get(action="query", meta="userinfo")


def test_a_working_call_clears_an_error_status(alice, devwiki):
    AccessToken.objects.filter(user=alice).update(status=AccessToken.Status.ERROR, status_reason="wiki was down")
    api.for_user(alice).get(action="query", meta="userinfo")
    token = AccessToken.objects.get(user=alice)
    assert (token.status, token.status_reason) == (AccessToken.Status.VALID, "")


# -- against Extension:OAuth's own signature rules (tests/php_oauth.py), not only the local wiki's ------


def test_reads_and_form_encoded_writes_verify_under_the_extensions_signature_rules(alice, devwiki):
    client = api.for_user(alice)
    sent: list[requests.PreparedRequest] = []

    def record(response, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(response.request)

    tricky = "Zoë 😀 a+b c&d=e %20 ~*!'() 1|2\n"
    hooks = http.get_session().hooks["response"]
    hooks.append(record)
    try:
        client.get(action="query", list="allpages", apprefix=tricky, aplimit=2)
        client.edit("Sandbox", tricky, tricky, tags=["a|b", "c"])  # the "|" in a list item makes a U+001F list
    finally:
        hooks.remove(record)
    assert [r.method for r in sent] == ["GET", "GET", "POST"]
    token_secret = AccessToken.objects.get(user=alice).get_credentials().secret
    for request in sent:
        assert php_oauth.signature_is_valid(devwiki.store.server, request, TEST_CONSUMER_SECRET, token_secret)
    posted = php_oauth.request_parameters(sent[2])
    assert posted["text"] == tricky and posted["tags"] == "\x1fa|b\x1fc"


# -- another wiki of the farm refusing the token says nothing about the token on its own wiki ---------


def test_no_account_on_another_wiki_of_the_farm_leaves_the_token_alone(alice, devwiki, settings):
    # SUL: a consumer registered on meta works on every wiki, but a user without a local account
    # there gets mwoauth-invalid-authorization-invalid-user (SessionProvider::provideSessionInfo).
    from mwsso_devwiki.state import seed

    only_bob = {
        "builtins": False,
        "consumers": [c for c in seed.BUILTIN_CONSUMERS if c["key"] == TEST_CONSUMER_KEY],
        "users": [u for u in seed.BUILTIN_USERS if u["name"] == "Bob"],
    }
    settings.MWSSO_ALLOWED_WIKIS = ["127.0.0.1:*"]
    with running_devwiki(only_bob) as other:
        share_access_tokens(devwiki, other)
        with pytest.raises(api.NotAllowedWiki) as caught:
            api.for_user(alice, other.server_url).get(action="query", meta="userinfo")
        assert caught.value.code == "mwoauth-invalid-authorization-invalid-user"
        assert AccessToken.objects.get(user=alice).status == AccessToken.Status.VALID
        assert api.for_user(alice).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
        # A revocation is central, though: seen from any wiki, the token is gone everywhere.
        with other.store._lock:  # the user revoked the grant: gone from the farm's shared tables
            other.store._access_tokens.clear()
        with pytest.raises(api.TokenInvalid):
            api.for_user(alice, other.server_url).get(action="query", meta="userinfo")
        assert AccessToken.objects.get(user=alice).status == AccessToken.Status.REVOKED


def test_a_host_name_that_is_not_the_wikis_own_leaves_the_token_alone(alice, devwiki, settings):
    # The signature covers the wiki's $wgServer: another name of the same wiki (a mobile domain,
    # localhost for 127.0.0.1) answers "Invalid signature", which is no fault of the token.
    settings.MWSSO_ALLOWED_WIKIS = ["localhost:*"]
    port = devwiki.server_url.rsplit(":", 1)[1]
    with pytest.raises(api.NotAllowedWiki) as caught:
        api.for_user(alice, f"http://localhost:{port}").get(action="query", meta="userinfo")
    assert "Invalid signature" in caught.value.info
    assert AccessToken.objects.get(user=alice).status == AccessToken.Status.VALID
