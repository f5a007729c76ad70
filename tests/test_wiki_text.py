"""Text from outside on our pages, logs and terminals: secrets redacted before any cut, nothing planted, nothing run.

- A wiki that echoes a secret so that the 500-character cut falls inside it: the part before the cut
  must not survive (the secrets are redacted from the raw text first, in every spelling).
- A link to the callback with ``error_description`` (or any text) in it: nothing of it is shown, and a
  callback without this browser's pending sign-in is refused as such before anything else is read.
- A wiki's text with terminal escape sequences: ``mwsso_check`` and ``mwsso_tokens`` print it cleaned.
"""

from __future__ import annotations

import html
import io
import json
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.common import MAX_TEXT, clean, printable
from mwsso.tokens import verify_token
from tests import test_hostile
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, callback_path
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, FaultyProxy, o2_login, start_o2_login
from tests.test_hostile import ACCESS_KEY, ACCESS_SECRET, answer, assert_nothing_written

pytestmark = pytest.mark.django_db
User = get_user_model()
hostile = test_hostile.hostile  # the fixture, shared

# Where the 500-character cut leaves all but the last few characters of a secret.
PADDING = "x" * (MAX_TEXT - 37)


def leaks(secret: str, *texts: str, window: int = 12) -> list[str]:
    """The pieces of ``secret`` (``window`` characters or more) found in ``texts``."""
    pieces = {secret[start : start + window] for start in range(len(secret) - window + 1)}
    return [piece for piece in pieces for text in texts if piece in text]


# -- 3. redaction before the cut -----------------------------------------------------------
SECRET = "s3cr&t/v+lue=42?<é" + "0123456789abcdef0123456789"


@pytest.mark.parametrize(
    "spelling",
    [SECRET, quote(SECRET, safe=""), quote_plus(SECRET), quote(SECRET, safe="").lower(), html.escape(SECRET)],
)
def test_a_secret_cut_by_the_limit_is_redacted_in_every_spelling(spelling):
    shown = clean(f"Error: {PADDING}{spelling} was not accepted", (SECRET,))
    assert len(shown) <= MAX_TEXT and not leaks(SECRET, shown) and not leaks(spelling, shown)
    assert "[redacted]" in shown or shown.endswith(PADDING[-20:])


def test_what_a_cut_by_the_wiki_left_of_a_secret_is_redacted_too():
    # The wiki cut its own message in the middle of the secret it echoed.
    assert clean(f"Invalid client secret {SECRET[:20]}", (SECRET,)) == "Invalid client secret [redacted]"
    # An ordinary word that happens to start like a secret is not a secret's remains.
    assert clean("Invalid s3c", (SECRET,)) == "Invalid s3c"


def test_unescaping_or_stripping_tags_cannot_spell_a_secret_out_again():
    entities = "".join(f"&#{ord(char)};" for char in SECRET)
    assert not leaks(SECRET, clean(f"secret: {entities}", (SECRET,)))
    tagged = f"{SECRET[:10]}<b></b>{SECRET[10:]}"
    assert not leaks(SECRET, clean(f"secret: {tagged}", (SECRET,)))


def test_an_oauth2_client_secret_echoed_near_the_cut_never_reaches_the_page_or_the_log(
    o2_settings, o2wiki, site_client, caplog
):
    caplog.set_level("INFO")
    # invalid_client is the site's own misconfiguration: its page shows the wiki's words only in DEBUG.
    o2_settings.DEBUG = True
    with FaultyProxy(o2wiki.server_url) as proxy:
        o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = f"{proxy.url}/w/index.php"
        refusal = {"error": "invalid_client", "error_description": f"{PADDING}{CONFIDENTIAL[1]} is not this client's"}
        proxy.answers["/oauth2/access_token"] = (401, "application/json", json.dumps(refusal).encode())
        location = start_o2_login(site_client).replace(proxy.url, o2wiki.server_url)
        from mwsso_devwiki.testing import authorize_oauth2

        allowed = authorize_oauth2(None, location, user="Alice")
        response = site_client.get(callback_path(allowed.headers["Location"]))
    body = response.content.decode()
    assert response.status_code == 502 and "The wiki said:" in body and "xxxxxxxx" in body
    assert not leaks(CONFIDENTIAL[1], body, caplog.text)
    assert_nothing_written()


def test_a_consumer_secret_echoed_near_the_cut_never_reaches_the_page_or_the_log(hostile, site_client, caplog):
    caplog.set_level("INFO")
    hostile.answers["initiate"] = answer(f"Error: {PADDING}{TEST_CONSUMER_SECRET} is not the secret")
    response = site_client.post("/login/mediawiki/")
    body = response.content.decode()
    assert response.status_code == 502 and "The wiki said:" in body
    assert not leaks(TEST_CONSUMER_SECRET, body, caplog.text)


def test_an_access_secret_echoed_near_the_cut_never_reaches_the_status_reason(hostile, caplog):
    caplog.set_level("INFO")
    token = AccessToken.objects.create(
        user=User.objects.create_user("Alice"), wiki=hostile.server_url + "/w", wiki_url=hostile.index_url,
        consumer_key=TEST_CONSUMER_KEY, **AccessToken.credential_fields(ACCESS_KEY, ACCESS_SECRET),
    )  # fmt: skip
    refusal = {"error": "mwoauthdatastore-access-token-not-found", "message": f"{PADDING}{ACCESS_SECRET} is gone"}
    hostile.answers["identify"] = answer(json.dumps(refusal), content_type="application/json")
    result = verify_token(token)
    token.refresh_from_db()
    assert token.status == AccessToken.Status.REVOKED
    assert not leaks(ACCESS_SECRET, result.reason, token.status_reason, caplog.text)


# -- 4. text that arrives in a callback URL ---------------------------------------------------------
PLANTED = {
    "error": "server_error",
    "error_description": "Your session expired. Sign in again at https://evil.example/login",
    "message": "Sign in again at https://evil.example/login",
}


def assert_nothing_planted(response: Any) -> str:
    body = response.content.decode()
    assert response.status_code in (400, 502) and "Sign-in failed" in body
    assert "evil.example" not in body and "Sign in again at" not in body and "The wiki said" not in body
    return body


def test_a_callback_link_without_a_pending_sign_in_is_refused_before_its_error_is_read(
    o2_settings, site_client, caplog
):
    response = site_client.get("/complete/mediawiki-oauth2/?" + urlencode(PLANTED))
    body = assert_nothing_planted(response)
    assert response.status_code == 400 and "no_pending_login" in caplog.text and "callback_rejected" in body


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("server_error", "The wiki did not answer"),
        ("invalid_scope", "The wiki refused the sign-in request."),
        ("Sign in again at https://evil.example", "unknown_error"),
        ("unauthorized_client", "The sign-in was cancelled."),
    ],
)
def test_a_callback_error_is_shown_in_our_own_words_only(o2_settings, o2wiki, site_client, caplog, error, shown):
    start_o2_login(site_client)  # a sign-in is pending in this browser (MediaWiki's own Cancel sends no state)
    response = site_client.get("/complete/mediawiki-oauth2/?" + urlencode({**PLANTED, "error": error}))
    assert shown in assert_nothing_planted(response)
    assert "evil.example" not in caplog.text
    # The pending sign-in was used up by that callback.
    assert not [key for key in site_client.session.keys() if "oauth2_state" in key]


def test_a_callback_error_with_the_state_uses_the_state_up(o2_settings, o2wiki, site_client):
    from urllib.parse import parse_qs, urlsplit

    state = parse_qs(urlsplit(start_o2_login(site_client)).query)["state"][0]
    response = site_client.get("/complete/mediawiki-oauth2/?" + urlencode({**PLANTED, "state": state}))
    assert "The wiki did not answer" in assert_nothing_planted(response)
    again = site_client.get("/complete/mediawiki-oauth2/?" + urlencode({"code": "x", "state": state}))
    assert again.status_code == 400 and "callback_rejected" in again.content.decode()


def test_the_wikis_own_cancel_still_reads_as_cancelled(o2_settings, o2wiki, site_client):
    response = o2_login(site_client, "Alice", action="cancel")
    assert response.status_code == 400 and "The sign-in was cancelled." in response.content.decode()


def test_an_oauth1_callback_without_a_pending_sign_in_is_refused_as_such(hostile, site_client, caplog):
    response = site_client.get("/complete/mediawiki/?" + urlencode(PLANTED))
    assert_nothing_planted(response)
    assert "no_pending_login" in response.content.decode() or "no_pending_login" in caplog.text
    assert hostile.steps() == []


# -- 7. the terminal ---------------------------------------------------------------------------
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[H\r\nPASS all checks \x9b31m\u202egnirts\x00"


def assert_terminal_safe(output: str) -> None:
    assert not any(char in output for char in ("\x1b", "\x07", "\x9b", "\u202e", "\x00", "\r"))
    assert not any(line.startswith("PASS all checks") for line in output.splitlines())


@pytest.mark.parametrize("as_json", [False, True])
def test_mwsso_check_prints_a_wikis_escape_sequences_cleaned(wiki_settings, devwiki, as_json):
    with FaultyProxy(devwiki.server_url) as proxy:
        wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = f"{proxy.url}/w/index.php"
        wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL
        proxy.answers["/oauth2/access_token"] = (418, "application/json", json.dumps({"error": ESCAPES}).encode())
        out = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("mwsso_check", *(["--json"] if as_json else []), stdout=out)
    output = out.getvalue()
    assert "owned" in output and "gnirts" in output  # the wiki's words are there, as plain text
    assert_terminal_safe(output)


def test_mwsso_tokens_prints_wiki_text_cleaned(wiki_settings):
    stored = ESCAPES.replace("\x00", "")  # PostgreSQL stores no NUL
    user = User.objects.create_user("Alice")
    WikiIdentity.objects.create(user=user, wiki="https://wiki.example/w", sub="3", username=f"Alice{stored}")
    AccessToken.objects.create(
        user=user, wiki="https://wiki.example/w", wiki_url="https://wiki.example/w/index.php", consumer_key="c",
        status=AccessToken.Status.INVALID, status_reason=f"mwoauth-invalid-authorization: {stored}",
        **AccessToken.credential_fields("key", "secret"),
    )  # fmt: skip
    for args in (["list"], ["list", "--format", "csv"]):
        out = io.StringIO()
        call_command("mwsso_tokens", *args, stdout=out)
        assert "owned" in out.getvalue()
        assert_terminal_safe(out.getvalue())


def test_an_api_error_is_one_clean_line_in_the_exception_the_log_and_the_status_reason(hostile, caplog):
    from mwsso import api

    caplog.set_level("INFO")
    user = User.objects.create_user("Alice")
    AccessToken.objects.create(
        user=user, wiki=hostile.server_url + "/w", wiki_url=hostile.index_url, consumer_key=TEST_CONSUMER_KEY,
        **AccessToken.credential_fields(ACCESS_KEY, ACCESS_SECRET),
    )  # fmt: skip
    forged = "\n2026-01-01 INFO mwsso: all tokens verified"
    refusal = {"error": {"code": f"mwoauth-invalid-authorization{forged}", "info": f"No approved grant {ESCAPES}"}}
    hostile.answers["api"] = answer(json.dumps(refusal), content_type="application/json")
    with pytest.raises(api.APIError) as caught:
        api.for_user(user).get(action="query", meta="userinfo")
    reason = AccessToken.objects.get().status_reason
    assert "owned" in caught.value.info and "owned" in reason  # the wiki's words, as plain text
    for text in (caught.value.code, caught.value.info, str(caught.value), reason):
        assert "\n" not in text
        assert_terminal_safe(text)
    assert not [line for line in caplog.text.splitlines() if line.startswith("2026-01-01")]


def test_printable_keeps_text_and_drops_what_drives_a_terminal():
    assert printable(f"Zoë {ESCAPES} ok") == "Zoë ]0;owned[2J[H PASS all checks 31mgnirts ok"
    assert printable("a\tb\nc\u2028d") == "a b c d"
