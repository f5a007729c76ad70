"""Hostile input against the API client, the allow-list of wikis, the admin and the demo pages.

The API client talks to ``HostileWiki`` (tests/test_hostile.py), a server that
answers api.php with whatever bytes a test scripts. Each test checks that the
caller gets a typed ``mwsso.api`` error (never another exception, a hang or a
huge allocation), and that no secret reaches a page, a log or an exception.
"""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
import zlib

import pytest
import requests
import urllib3
from django.contrib.auth import get_user_model
from django.test import Client
from social_django.models import UserSocialAuth

from mwsso import api
from mwsso.api import wikis
from mwsso.api.client import retry_wait
from mwsso.models import AccessToken, WikiIdentity
from tests import test_hostile
from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY
from tests.test_hostile import (
    ACCESS_KEY,
    ACCESS_SECRET,
    MB,
    SECRETS,
    HostileWiki,
    answer,
    assert_no_secret,
    drip,
    flood,
    hostile_login,
)

pytestmark = pytest.mark.django_db
User = get_user_model()
hostile = test_hostile.hostile  # the fixture, shared


def token_for(user, wiki_url: str, server: str) -> AccessToken:  # type: ignore[no-untyped-def]
    token = AccessToken(
        user=user, wiki=server, wiki_url=wiki_url, consumer_key=TEST_CONSUMER_KEY,
        **AccessToken.credential_fields(ACCESS_KEY, ACCESS_SECRET),
    )  # fmt: skip
    token.save()
    return token


@pytest.fixture
def alice(hostile: HostileWiki):  # type: ignore[no-untyped-def]
    """A user whose access token is for the hostile wiki."""
    user = User.objects.create_user("Alice")
    token_for(user, hostile.index_url, hostile.server_url)
    return user


def client_of(user) -> api.Client:  # type: ignore[no-untyped-def]
    return api.for_user(user, sleep=lambda seconds: None)


# --- api.php answering anything ----------------------------------------------------------

API_GARBAGE = {
    "50 MB": (flood(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", 50 * MB), api.BadResponse),
    "50 MB announced": (answer(b"{}", headers=(("X-Pad", "x"),)).replace(b"Content-Length: 2", b"Content-Length: 52428800"), api.BadResponse),
    "deeply nested JSON": (answer('{"query":' + "[" * 100_000 + "]" * 100_000 + "}", content_type="application/json"), api.BadResponse),
    "invalid UTF-8": (answer(b'{"query": "\xff\xfe"}', content_type="application/json"), api.BadResponse),
    "JSON that is a list": (answer("[1, 2]", content_type="application/json"), api.BadResponse),
    "JSON NaN": (answer('{"query": NaN}', content_type="application/json"), None),
    "an HTML page": (answer("<html>maintenance</html>", content_type="text/html"), api.BadResponse),
    "broken chunking": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", api.WikiUnavailable),
    "not HTTP at all": (b"SSH-2.0-OpenSSH_9.2\r\n", api.WikiUnavailable),
    "302 elsewhere": (answer("", "302 Found", headers=(("Location", "https://evil.example/w/api.php"),)), api.BadResponse),
    "error code that is an object": (answer(json.dumps({"error": {"code": {"a": 1}, "info": ["x"]}})), api.APIError),
    "errors list of garbage": (answer(json.dumps({"errors": [1, None, "x"]})), None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(API_GARBAGE))
def test_api_garbage_is_a_typed_error(alice, hostile, caplog, case):
    scripted, expected = API_GARBAGE[case]
    hostile.answers["api"] = scripted
    started = time.monotonic()
    client = client_of(alice)
    if expected is None:  # odd but well-formed JSON: handed to the caller as it is
        assert isinstance(client.get(action="query"), dict)
        return
    with pytest.raises(expected) as caught:
        client.get(action="query", meta="userinfo")
    assert time.monotonic() - started < 2
    assert_no_secret(str(caught.value), repr(caught.value), caplog.text)
    assert AccessToken.objects.get().is_usable  # nothing the wiki said is about the token


def test_a_gzip_bomb_from_api_php_is_not_inflated(alice, hostile):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(bytes(MB)) for _ in range(100)) + compressor.flush()
    hostile.answers["api"] = answer(bomb, content_type="application/json", headers=(("Content-Encoding", "gzip"),))
    tracemalloc.start()
    try:
        with pytest.raises(api.BadResponse):
            client_of(alice).get(action="query")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60 * MB, peak


def test_api_php_dripping_one_byte_at_a_time_times_out(alice, hostile):
    hostile.answers["api"] = drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", every=0.1)
    started = time.monotonic()
    with pytest.raises(api.WikiUnavailable):
        client_of(alice).get(action="query")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "header",
    ["3600", "-5", "nan", "inf", "-inf", "1e309", "", "soon", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT",
     "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 2024 00:00:00 +99999999999999999999", "Mon, 32 Foo 2024 99:99:99 GMT",
     "\x00", "1" * 5000],
)  # fmt: skip
def test_any_retry_after_gives_a_wait_between_zero_and_the_cap(header):
    response = requests.Response()
    response.headers["Retry-After"] = header
    for attempt in range(3):
        assert 0 <= retry_wait(response, attempt, 30) <= 30


def test_429_with_a_retry_after_of_an_hour_waits_the_cap_only(alice, hostile, settings):
    settings.MWSSO_API_MAX_RETRIES = 2
    settings.MWSSO_API_MAX_RETRY_WAIT = 5
    hostile.answers["api"] = answer("slow down", "429 Too Many Requests", headers=(("Retry-After", "3600"),))
    waits: list[float] = []
    with pytest.raises(api.RateLimited):
        api.for_user(alice, sleep=waits.append).get(action="query")
    assert waits == [5, 5]


def test_secrets_echoed_by_api_php_stay_out_of_errors_and_logs(alice, hostile, caplog):
    caplog.set_level(logging.DEBUG, logger="mwsso")
    echo = f"{ACCESS_KEY} {ACCESS_SECRET} {SECRETS[0]}"
    hostile.answers["api"] = answer(json.dumps({"error": {"code": "mwoauth-invalid-authorization", "info": echo}}))
    with pytest.raises(api.APIError) as caught:  # whichever way it is judged
        client_of(alice).get(action="query")
    token = AccessToken.objects.get()
    assert_no_secret(str(caught.value), repr(caught.value), token.status_reason, caplog.text)


# --- for_user(wiki=...) against the allow-list -------------------------------------------

HOME = "https://meta.wikimedia.org"


@pytest.fixture
def farm_user(settings):  # type: ignore[no-untyped-def]
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = TEST_CONSUMER_KEY
    settings.MWSSO_ALLOWED_WIKIS = ["*.wikipedia.org", "commons.wikimedia.org", "127.0.0.1:8*", "[::1]:8*"]
    user = User.objects.create_user("Farm")
    token_for(user, f"{HOME}/w/index.php", HOME)
    return user


REFUSED = [
    "http://127.0.0.1@evil.example",
    "https://127.0.0.1@evil.example",
    "https://de.wikipedia.org@evil.example",
    "https://evil.example#.wikipedia.org",
    "https://evil.example?.wikipedia.org",
    "https://evil.example/.wikipedia.org",
    "https://evil.example\\.wikipedia.org",  # urllib3 ends the host at the backslash: evil.example
    "https://evil.example\\@de.wikipedia.org",
    "https://evil.example%2f.wikipedia.org",
    "https://evil.example%5c.wikipedia.org",
    "https://evil.example%00.wikipedia.org",
    "https://evil.example\x00.wikipedia.org",
    "https://de.wikipedi\u0430.org",  # Cyrillic a
    "https://wikipedia.org",
    "https://de.wikipedia.org.evil.example",
    "https://de.wikipedia.org.",  # trailing dot: not the pattern's host
    "http://de.wikipedia.org",  # no downgrade
    "https://de.wikipedia.org:8443",
    "https://de.wikipedia.org:99999",
    "https://de.wikipedia.org:-1",
    "https://[::1]",
    "https://[::ffff:127.0.0.1]:8001",
    "https://[fe80::1%25eth0]",
    "https://127.0.0.1:8000\\.wikipedia.org",
    "https://0x7f.0.0.1:8001",
    "https://2130706433:8001",
    "//evil.example",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "",
    " ",
]


@pytest.mark.parametrize("wiki", REFUSED)
def test_hostile_wiki_arguments_are_refused(farm_user, wiki):
    with pytest.raises(api.NotAllowedWiki):
        api.for_user(farm_user, wiki)


ALLOWED = {
    "https://de.wikipedia.org": "de.wikipedia.org",
    "HTTPS://DE.WIKIPEDIA.ORG": "de.wikipedia.org",
    "de.wikipedia.org": "de.wikipedia.org",
    "https://de.wikipedia.org:443/w/api.php": "de.wikipedia.org",
    "https://de.wikipedia.org/w/index.php?title=X#y": "de.wikipedia.org",
    "https://\uff44\uff45.wikipedia.org": "de.wikipedia.org",  # fullwidth "de": IDNA maps it to de
    # Ideographic and fullwidth full stops are dots to IDNA: a subdomain of wikipedia.org, as requests sends it.
    "https://evil.example\u3002wikipedia.org": "evil.example.wikipedia.org",
    "https://evil.example\uff0ewikipedia.org": "evil.example.wikipedia.org",
    "https://commons.wikimedia.org": "commons.wikimedia.org",
    "https://meta.wikimedia.org": "meta.wikimedia.org",
    "https://127.0.0.1:8001": "127.0.0.1",
    "https://[::1]:8001": "::1",
    "https://[0:0:0:0:0:0:0:1]:8001": "::1",  # the same address, one spelling for the patterns
}


@pytest.mark.parametrize("wiki", sorted(ALLOWED))
def test_an_allowed_wiki_is_the_host_requests_will_connect_to(farm_user, wiki):
    client = api.for_user(farm_user, wiki)
    # What urllib3 (the library that opens the socket) reads, not only what urlsplit reads.
    assert urllib3.util.parse_url(client.api_url).host.strip("[]") == ALLOWED[wiki]
    assert requests.Request("GET", client.api_url).prepare().url.startswith(client.api_url.split("/w/")[0])


def test_endpoint_and_urllib3_agree_on_the_host_of_every_refused_url():
    # The property behind the list above: whatever endpoint() accepts, urllib3 connects to that host.
    for wiki in REFUSED + sorted(ALLOWED):
        try:
            target = wikis.resolve(wiki, f"{HOME}/w/index.php")
        except wikis.InvalidWiki:
            continue
        assert urllib3.util.parse_url(target.api_url).host.strip("[]") == target.host, wiki


# --- the admin: every page that shows a token --------------------------------------------


@pytest.fixture
def signed_in(hostile, client_factory):  # type: ignore[no-untyped-def]
    browser = client_factory()
    assert hostile_login(browser, hostile).status_code == 302
    return User.objects.get()


def admin_client() -> Client:
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    client = Client(HTTP_HOST=SITE_HOST)
    client.force_login(admin)
    return client


def test_no_secret_on_any_admin_page_of_a_token_or_its_user(signed_in, caplog):
    token = AccessToken.objects.get()
    identity = WikiIdentity.objects.get()
    social = UserSocialAuth.objects.get()
    client = admin_client()
    pages = [
        f"/admin/mwsso/accesstoken/{token.pk}/change/",
        f"/admin/mwsso/accesstoken/{token.pk}/history/",
        f"/admin/mwsso/accesstoken/{token.pk}/delete/",
        f"/admin/mwsso/wikiidentity/{identity.pk}/change/",
        f"/admin/mwsso/wikiidentity/{identity.pk}/history/",
        f"/admin/auth/user/{signed_in.pk}/change/",
        f"/admin/auth/user/{signed_in.pk}/history/",
        f"/admin/auth/user/{signed_in.pk}/delete/",
        f"/admin/social_django/usersocialauth/{social.pk}/change/",
        "/admin/social_django/usersocialauth/",
        "/admin/mwsso/accesstoken/?q=" + ACCESS_KEY,
        f"/admin/mwsso/accesstoken/?fingerprint={ACCESS_KEY}",
    ]
    texts = []
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 302), (page, response.status_code)
        texts.append(response.content.decode())
    # The search for a token key finds nothing: keys are not stored readable, not even to search.
    assert ACCESS_KEY not in texts[-2].replace(f"q={ACCESS_KEY}", "").replace(f'value="{ACCESS_KEY}"', "")
    assert_no_secret(*texts[:-2], caplog.text)
    # The delete confirmation names related objects by their safe __str__.
    assert f"Access token {token.fingerprint}" in texts[7]
    response = client.post(f"/admin/mwsso/accesstoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AccessToken.objects.exists()
    assert_no_secret(client.get(f"/admin/mwsso/accesstoken/{token.pk}/history/").content.decode(), caplog.text)


# --- the demo pages with a hostile wiki behind them -------------------------------------


def test_profile_escapes_what_the_wiki_says_and_survives_garbage(hostile, site_client, caplog):
    assert hostile_login(site_client, hostile).status_code == 302
    userinfo = {"id": 3, "name": "<script>alert(1)</script>", "groups": ["<img src=x onerror=alert(2)>"],
                "rights": ["a\x00b"], "editcount": "<b>", "blockid": 1, "blockedby": "</dd><script>"}  # fmt: skip
    hostile.answers["api"] = answer(json.dumps({"query": {"userinfo": userinfo}}), content_type="application/json")
    page = site_client.get("/profile/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "</dd><script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for scripted in (answer("[]"), answer('{"query": {"userinfo": 5}}'), answer('{"query": []}'),
                     answer('{"query": {"userinfo": {"name": "\\ud800", "groups": ["\\udfff"]}}}'),
                     answer('{"query": {"userinfo": {"groups": 5, "rights": null}}}')):  # fmt: skip
        hostile.answers["api"] = scripted
        response = site_client.get("/profile/")
        assert response.status_code == 200
        assert_no_secret(response.content.decode(), caplog.text)


def test_sandbox_with_huge_or_malicious_text(hostile, site_client, caplog):
    assert hostile_login(site_client, hostile).status_code == 302
    hostile.answers["api"] = answer(json.dumps({"query": {"tokens": {"csrftoken": "abc+\\"}}}))
    cases = [
        "x" * 2001,
        "a\x00b",
        "<script>alert(1)</script>",
        "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    ]
    for text in cases:
        response = site_client.post("/profile/sandbox/", {"text": text})
        assert response.status_code == 302
        page = site_client.get("/profile/").content.decode()
        assert "<script>alert(1)" not in page
    # 3 MB: more than Django reads into a form (DATA_UPLOAD_MAX_MEMORY_SIZE): a 400, not a 500.
    response = Client(HTTP_HOST=SITE_HOST, raise_request_exception=False)
    response.cookies = site_client.cookies
    assert response.post("/profile/sandbox/", {"text": "x" * (3 * MB)}).status_code == 400
    assert_no_secret(caplog.text)


# --- verifying tokens against a wiki that echoes secrets: command and admin action ---------


def echoing_identify() -> bytes:
    echo = f"{ACCESS_KEY} {ACCESS_SECRET} {SECRETS[0]}"
    return answer(json.dumps({"error": f"mwoauth-{ACCESS_SECRET}", "message": echo}), content_type="application/json")


def test_mwsso_tokens_output_has_no_secret_even_when_the_wiki_echoes_them(alice, hostile, caplog):
    from io import StringIO

    from django.core.management import CommandError, call_command

    caplog.set_level(logging.DEBUG, logger="mwsso")
    hostile.answers["identify"] = echoing_identify()
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:  # the token could not be checked
        call_command("mwsso_tokens", "verify", stdout=out, stderr=err)
    for action in (["list"], ["list", "--format", "csv"]):
        call_command("mwsso_tokens", *action, stdout=out, stderr=err)
    assert "[redacted]" in out.getvalue() + err.getvalue() + caplog.text
    assert_no_secret(out.getvalue(), err.getvalue(), caplog.text, str(caught.value))


def test_admin_verify_action_messages_have_no_secret(alice, hostile, caplog):
    hostile.answers["identify"] = echoing_identify()
    client = admin_client()
    token = AccessToken.objects.get()
    response = client.post(
        "/admin/mwsso/accesstoken/", {"action": "verify_with_wiki", "_selected_action": [token.pk]}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200 and f"Token #{token.pk}" in page
    assert_no_secret(page, client.get(f"/admin/mwsso/accesstoken/{token.pk}/change/").content.decode(), caplog.text)


def test_query_stops_on_a_continuation_cycle(alice, hostile):
    # A wiki alternating two continuations (A, B, A, B, …) would keep a caller reading for ever.
    pages = iter(["A", "B"] * 10)

    def alternate(connection, seen):  # type: ignore[no-untyped-def]
        return answer(json.dumps({"query": {"allpages": []}, "continue": {"apcontinue": next(pages), "continue": "-||"}}),
                      content_type="application/json")  # fmt: skip

    hostile.answers["api"] = alternate
    read = []
    with pytest.raises(api.BadResponse) as caught:
        for page in client_of(alice).query(list="allpages"):
            read.append(page["continue"]["apcontinue"])
    assert read == ["A", "B", "A"] and caught.value.code == "mwsso-bad-continue"
