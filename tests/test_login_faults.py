"""Every way the wiki can fail a sign-in ends on a friendly page with a log line, and writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from mwsso_devwiki.testing import authorize
from social_django.models import UserSocialAuth

from mwsso.models import AccessToken, WikiIdentity
from tests.conftest import TEST_CONSUMER_SECRET, callback_path, start_login

pytestmark = pytest.mark.django_db
User = get_user_model()

FAULTS = ["error", "http500", "html", "drop", "slow", "garbage"]
EXPECTED_REASON = {
    "error": "wiki_refused",
    "http500": "wiki_unavailable",
    "html": "wiki_",  # an HTML page: unavailable (503) or bad response (200), depending on its status
    "drop": "wiki_unavailable",
    "slow": "wiki_unavailable",
    "garbage": "wiki_bad_response",
}


def assert_nothing_written() -> None:
    assert not User.objects.exists()
    assert not UserSocialAuth.objects.exists()
    assert not WikiIdentity.objects.exists()
    assert not AccessToken.objects.exists()


def assert_friendly_failure(response, code: str, caplog) -> None:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    assert response.status_code in (400, 502), response.status_code
    assert "Sign-in failed" in body and code in body
    assert "Traceback" not in body and TEST_CONSUMER_SECRET not in body
    assert any(r.name == "mwsso.login" and code in r.getMessage() for r in caplog.records), caplog.text
    assert TEST_CONSUMER_SECRET not in caplog.text


@pytest.fixture
def short_timeout(settings):  # type: ignore[no-untyped-def]
    settings.MWSSO_HTTP_TIMEOUT = 0.5


@pytest.mark.parametrize("kind", FAULTS)
def test_initiate_failures(wiki_settings, site_client, devwiki, short_timeout, caplog, kind):
    devwiki.control("set_fault", step="initiate", kind=kind, seconds=1.5)
    response = site_client.post("/login/mediawiki/")
    assert_friendly_failure(response, EXPECTED_REASON[kind], caplog)
    assert_nothing_written()
    devwiki.control("set_fault", step="initiate", kind=None)
    # The site recovers as soon as the wiki does.
    assert site_client.post("/login/mediawiki/").status_code == 302


@pytest.mark.parametrize("step", ["token", "identify"])
@pytest.mark.parametrize("kind", FAULTS)
def test_token_and_identify_failures(wiki_settings, site_client, devwiki, short_timeout, caplog, step, kind):
    allowed = authorize(None, start_login(site_client), user="Alice", action="accept")
    devwiki.control("set_fault", step=step, kind=kind, seconds=1.5)
    response = site_client.get(callback_path(allowed.headers["Location"]))
    assert_friendly_failure(response, EXPECTED_REASON[kind], caplog)
    assert_nothing_written()
    assert "_auth_user_id" not in site_client.session
    devwiki.control("set_fault", step=step, kind=None)
    allowed = authorize(None, start_login(site_client), user="Alice", action="accept")
    assert site_client.get(callback_path(allowed.headers["Location"])).status_code == 302


JWT_FAULTS = {
    "bad_signature": "bad_signature",
    "alg_none": "algorithm_not_allowed",
    "alg_hs512": "algorithm_not_allowed",
    "wrong_aud": "wrong_audience",
    "wrong_iss": "wrong_issuer",
    "expired": "expired",
    "future_iat": "issued_in_future",
    "wrong_nonce": "nonce_mismatch",
    "missing_nonce": "missing_claim",
    "missing_sub": "missing_claim",
    "hidden_user": "hidden_user",
    "garbage": "identify_bad_response",
}


@pytest.mark.parametrize("fault", sorted(JWT_FAULTS))
def test_each_bad_identify_jwt_is_refused_with_its_own_reason(login, site_client, devwiki, caplog, fault):
    devwiki.control("set_jwt_fault", fault=fault)
    response = login(site_client, "Alice")
    reason = JWT_FAULTS[fault]
    assert response.status_code in (400, 502)
    assert reason in response.content.decode()
    assert any(reason in r.getMessage() for r in caplog.records if r.name == "mwsso.login")
    assert_nothing_written()
    assert "_auth_user_id" not in site_client.session


def test_wiki_down_entirely(wiki_settings, site_client, settings, caplog):
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:9/w/index.php"  # discard port: nothing listens
    response = site_client.post("/login/mediawiki/")
    assert_friendly_failure(response, "wiki_unavailable", caplog)


def test_unknown_consumer_is_the_wikis_own_error(wiki_settings, site_client, settings, caplog):
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = "0" * 32
    response = site_client.post("/login/mediawiki/")
    assert_friendly_failure(response, "wiki_refused", caplog)
    assert "mwoauth-oauth-exception" in response.content.decode()


def test_wrong_consumer_secret_gives_invalid_signature(wiki_settings, site_client, settings, caplog):
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "1" * 40
    response = site_client.post("/login/mediawiki/")
    assert_friendly_failure(response, "wiki_refused", caplog)
    assert "Invalid signature" in caplog.text


def test_a_wiki_url_that_redirects_names_where_to_point(wiki_settings, site_client, settings, caplog):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # type: ignore[no-untyped-def]
            self.send_response(301)
            self.send_header("Location", "https://wiki.example.org/w/index.php?title=Special:OAuth/initiate&x=1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = f"http://127.0.0.1:{server.server_address[1]}/w/index.php"
    response = site_client.post("/login/mediawiki/")
    server.server_close()
    assert_friendly_failure(response, "wiki_bad_response", caplog)
    assert "redirected to https://wiki.example.org/w/index.php; set SOCIAL_AUTH_MEDIAWIKI_URL" in caplog.text


def test_identify_issuer_setting_is_what_iss_must_be(login, site_client, settings, devwiki, caplog):
    settings.MWSSO_IDENTIFY_ISSUER = "https://wiki.example.org"
    response = login(site_client, "Alice")
    assert response.status_code == 400 and "wrong_issuer" in response.content.decode()
    assert_nothing_written()
    settings.MWSSO_IDENTIFY_ISSUER = devwiki.server_url
    assert login(site_client, "Alice").status_code == 302
