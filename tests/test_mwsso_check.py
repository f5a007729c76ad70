"""manage.py mwsso_check against the local wiki, configured right and then wrong in each way."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import unquote

import pytest
import requests
from django.core.management import call_command
from mwsso_devwiki.state import seed

from mwsso.app_settings import DEFAULT_USER_AGENT


@pytest.fixture(autouse=True)
def _no_demo_oauth2_client(settings):  # type: ignore[no-untyped-def]
    # The demo settings (which the test settings extend) name an OAuth 2.0 client of make run's local wiki
    # on port 8001, which no test runs: mwsso_check would try it. The OAuth 2.0 tests set their own.
    for name in (
        "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL",
        "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY",
        "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET",
    ):
        if hasattr(settings, name):
            delattr(settings, name)


def check(*args: str) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("mwsso_check", "--json", *args, stdout=out)
        status = 0
    except SystemExit as exit:
        status = int(exit.code)
    report = json.loads(out.getvalue())
    assert report["exit_status"] == status
    return status, {c["check"]: c for c in report["checks"]}


def text(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("mwsso_check", *args, stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit:
        return int(exit.code), out.getvalue()


def failed(checks: dict) -> set[str]:
    return {name for name, c in checks.items() if c["status"] == "fail"}


def test_a_right_configuration_passes_every_check(wiki_settings):
    status, checks = check()
    assert status == 0, checks
    assert {c["status"] for c in checks.values()} == {"pass"}
    assert set(checks) == {
        "site.user_agent",
        "wiki.reachable",
        "wiki.https",
        "wiki.clock",
        "wiki.server",
        "oauth1.consumer",
        "oauth1.approved",
        "oauth1.callback",
        "oauth1.grants",
    }


def test_the_text_report_has_a_line_per_check_and_the_fix(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "wrong"
    status, out = text()
    assert status == 1
    assert "PASS wiki.reachable:" in out
    assert "FAIL oauth1.consumer: Wrong secret or wrong host name" in out
    assert "     fix: Set SOCIAL_AUTH_MEDIAWIKI_SECRET" in out


def test_it_leaves_nothing_but_unused_request_tokens(wiki_settings, devwiki):
    check()
    stats = devwiki.control("stats")
    assert stats["access_tokens"] == [] and stats["request_tokens"] == 2  # oob, then the site's callback
    assert set(stats["counters"]) <= {"initiate", "api", "api:query", "connections"}


def test_wrong_secret(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "0" * 40
    status, checks = check()
    assert status == 1 and failed(checks) == {"oauth1.consumer"}
    assert checks["oauth1.consumer"]["details"]["wiki_message"].endswith("Invalid signature")
    assert checks["oauth1.callback"]["status"] == "skip"


def test_unknown_consumer(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = "f" * 32
    status, checks = check()
    assert status == 1 and checks["oauth1.consumer"]["summary"].startswith("Unknown consumer")


def test_unapproved_consumer(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = seed.UNAPPROVED_CONSUMER_KEY
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = seed.UNAPPROVED_CONSUMER_SECRET
    status, checks = check()
    # Extension:OAuth gives an unapproved consumer request tokens; its consumer page says it is only proposed.
    assert checks["oauth1.consumer"]["status"] == "pass"
    assert status == 1 and failed(checks) == {"oauth1.approved"}
    assert checks["oauth1.approved"]["details"] == {"status": "proposed"}


def test_wrong_host_name(wiki_settings, devwiki):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL = devwiki.index_url.replace("127.0.0.1", "localhost")
    status, checks = check()
    assert status == 1
    assert checks["wiki.server"]["fix"] == f'Set SOCIAL_AUTH_MEDIAWIKI_URL = "{devwiki.index_url}".'
    assert checks["oauth1.consumer"]["summary"].startswith("Wrong host name")


def test_identify_issuer_that_the_wiki_will_not_send(wiki_settings, devwiki):
    wiki_settings.MWSSO_IDENTIFY_ISSUER = "https://meta.wikimedia.org"
    status, checks = check()
    assert status == 1 and failed(checks) == {"wiki.server"}
    assert f'MWSSO_IDENTIFY_ISSUER = "{devwiki.store.server}"' in checks["wiki.server"]["fix"]


def test_refused_callback_names_the_registration(wiki_settings):
    status, checks = check("--site-url", "https://tool.example")
    assert status == 1 and failed(checks) == {"oauth1.callback"}
    assert 'OAuth "callback" URL https://tool.example/complete/mediawiki/' in checks["oauth1.callback"]["fix"]


def test_a_consumer_without_callback_prefix(wiki_settings, devwiki):
    added = devwiki.control("add_consumer", callback="http://127.0.0.1/complete/mediawiki/", grants=["basic"])
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY, wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = added["key"], added["secret"]
    _status, checks = check()
    assert failed(checks) == {"oauth1.callback"}
    assert 'without "callback is a prefix"' in checks["oauth1.callback"]["summary"]
    # The same consumer is right for a site that sends "oob": the wiki uses the registered callback.
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob"
    assert check()[0] == 0


@pytest.mark.parametrize(("offset", "status", "verdict"), [(120, 2, "warn"), (-400, 1, "fail")])
def test_clock_off(wiki_settings, devwiki, offset, status, verdict):
    devwiki.control("set_clock", offset=offset)
    code, checks = check()
    assert code == status and checks["wiki.clock"]["status"] == verdict
    assert abs(checks["wiki.clock"]["details"]["offset"] - offset) <= 2
    assert checks["oauth1.consumer"]["status"] == ("pass" if verdict == "warn" else "fail")


def test_grants_the_consumer_lacks(wiki_settings):
    wiki_settings.MWSSO_REQUIRED_GRANTS = ["editpage", "highvolume"]
    status, checks = check()
    assert status == 1 and failed(checks) == {"oauth1.grants"}
    assert checks["oauth1.grants"]["details"]["registered"] == ["basic", "editpage", "createeditmovepage"]


def test_an_identify_only_consumer_cannot_serve_allowed_wikis(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = seed.PRIVATE_CONSUMER_KEY
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = seed.PRIVATE_CONSUMER_SECRET
    assert check()[0] == 0
    wiki_settings.MWSSO_ALLOWED_WIKIS = ["*.wikipedia.org"]
    status, checks = check()
    assert status == 1 and "identify-only" in checks["oauth1.grants"]["summary"]


def test_default_user_agent(wiki_settings):
    wiki_settings.MWSSO_USER_AGENT = DEFAULT_USER_AGENT
    status, checks = check()
    assert status == 1 and failed(checks) == {"site.user_agent"}


def test_unreachable_wiki(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:9/w/index.php"
    wiki_settings.MWSSO_HTTP_TIMEOUT = 2
    status, checks = check()
    assert status == 1 and checks["wiki.reachable"]["status"] == "fail"
    assert "oauth1.consumer" not in checks


@pytest.fixture
def redirecting_wiki(devwiki):
    """A server that answers everything with a 301 to the local wiki (like http:// → https://)."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(301)
            self.send_header("Location", devwiki.store.server + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/w/index.php"
    server.shutdown()
    server.server_close()


def test_a_redirect_names_the_url_to_configure(wiki_settings, devwiki, redirecting_wiki):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL = redirecting_wiki
    status, checks = check()
    assert status == 1
    assert checks["wiki.reachable"]["fix"] == f'Set SOCIAL_AUTH_MEDIAWIKI_URL = "{devwiki.index_url}".'


def test_register_prints_both_forms(wiki_settings, devwiki):
    wiki_settings.MWSSO_REQUIRED_GRANTS = ["editpage"]
    status, out = text("--register", "--site-url", "https://tool.example")
    assert status == 0
    assert f"Register at: {devwiki.index_url}?title=Special:OAuthConsumerRegistration/propose/oauth1a" in out
    assert f"Register at: {devwiki.index_url}?title=Special:OAuthConsumerRegistration/propose/oauth2" in out
    assert 'OAuth "callback" URL: https://tool.example/complete/mediawiki/' in out
    assert "Applicable grants: basic, editpage" in out
    out_json = StringIO()
    call_command("mwsso_check", "--register", "--json", "--site-url", "https://tool.example", stdout=out_json)
    assert (
        json.loads(out_json.getvalue())["oauth1"]["fields"]['OAuth "callback" URL']
        == "https://tool.example/complete/mediawiki/"
    )


def test_the_secret_never_shows(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "0123456789abcdef-not-the-secret"
    for args in ((), ("--json",), ("--register",)):
        assert "0123456789abcdef-not-the-secret" not in text(*args)[1]


# --- OAuth 2.0: the devwiki's rest.php/oauth2 endpoints ---------------------------------------

OAUTH2_SITE = "http://127.0.0.1:9000"  # the test client's registered redirect URI is on this site
OAUTH2_REGISTERED = f"{OAUTH2_SITE}/complete/mediawiki-oauth2/"


@pytest.fixture
def oauth2_settings(wiki_settings, devwiki):  # type: ignore[no-untyped-def]
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = devwiki.index_url
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = seed.TEST_OAUTH2_CLIENT_ID
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = seed.TEST_OAUTH2_CLIENT_SECRET
    return wiki_settings


OAUTH2_CHECKS = {"oauth2.client", "oauth2.redirect_uri", "oauth2.approved", "oauth2.grants"}


def test_oauth2_a_right_client_passes(oauth2_settings, devwiki):
    status, checks = check("--site-url", OAUTH2_SITE)
    assert status == 0, {name: c for name, c in checks.items() if c["status"] != "pass"}
    assert OAUTH2_CHECKS <= set(checks) and all(checks[name]["status"] == "pass" for name in OAUTH2_CHECKS)
    # Nothing is issued: no code, no token (the bogus code and refresh token were refused).
    counts = devwiki.control("oauth2_counts")["counts"]
    assert counts["token_requests"] == 2 and counts["approve"] == 0 and counts["refresh_ok"] == 0


VERSIONS = ["1.39", "1.43", "1.45"]  # every version sends an anonymous authorize to Special:UserLogin first


@pytest.fixture(params=VERSIONS)
def any_version(request, devwiki):  # type: ignore[no-untyped-def]
    """The local wiki playing each recorded MediaWiki version."""
    devwiki.control("set_mw_version", version=request.param)
    return request.param


def test_oauth2_wrong_secret(oauth2_settings, any_version):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "wrong"
    status, checks = check("--site-url", OAUTH2_SITE)
    assert status == 1 and checks["oauth2.client"]["summary"].startswith("Wrong client secret")
    assert checks["oauth2.redirect_uri"]["status"] == "skip"


def test_oauth2_unknown_client_is_named_unknown_not_a_wrong_secret(oauth2_settings, any_version):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "0" * 32
    status, checks = check("--site-url", OAUTH2_SITE)
    client = checks["oauth2.client"]
    assert status == 1 and client["status"] == "fail" and client["summary"].startswith("Unknown client")
    assert "secret" not in client["summary"] and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY" in client["fix"]


def test_oauth2_redirect_uri_not_the_registered_one(oauth2_settings, any_version):
    status, checks = check("--site-url", "http://127.0.0.1:8000")
    redirect = checks["oauth2.redirect_uri"]
    assert status == 1 and checks["oauth2.client"]["status"] == "pass"
    assert redirect["status"] == "fail" and redirect["details"]["registered"] == OAUTH2_REGISTERED
    assert f"the registered one, {OAUTH2_REGISTERED}, which is not http://127.0.0.1:8000/" in redirect["summary"]
    assert "http://127.0.0.1:8000/complete/mediawiki-oauth2/ exactly" in redirect["fix"]


def test_oauth2_a_redirect_uri_the_client_does_not_allow_fails_naming_the_registered_one(oauth2_settings, any_version):
    # What passed against every real wiki: the site sends a redirect URI the client was never registered with.
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "http://127.0.0.1:8000/elsewhere/"
    status, checks = check("--site-url", OAUTH2_SITE)
    redirect = checks["oauth2.redirect_uri"]
    assert status == 1 and redirect["status"] == "fail", redirect
    assert "http://127.0.0.1:8000/elsewhere/ that the site sends" in redirect["summary"]
    assert f"the client's registered one is {OAUTH2_REGISTERED}" in redirect["summary"]


def test_oauth2_a_redirect_uri_guessed_from_allowed_hosts_is_a_warning_naming_site_url(oauth2_settings):
    # ALLOWED_HOSTS has no port: http://127.0.0.1/complete/… can never be the registered one of a site on a port.
    oauth2_settings.ALLOWED_HOSTS = ["127.0.0.1"]
    status, checks = check()
    redirect = checks["oauth2.redirect_uri"]
    assert status == 2 and redirect["status"] == "warn", checks
    assert "guessed from ALLOWED_HOSTS" in redirect["summary"] and "--site-url" in redirect["fix"]


def test_oauth2_a_public_clients_secret_is_proved_by_a_refresh(oauth2_settings):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = seed.PUBLIC_OAUTH2_CLIENT_ID
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = seed.PUBLIC_OAUTH2_CLIENT_SECRET
    assert check("--site-url", "http://127.0.0.1:8000")[1]["oauth2.client"]["status"] == "pass"
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "wrong"
    result = check("--site-url", "http://127.0.0.1:8000")[1]["oauth2.client"]
    assert result["status"] == "fail" and "refresh" in result["summary"]


def test_oauth2_unapproved_client_and_missing_grants(oauth2_settings, devwiki):
    added = devwiki.control(
        "oauth2_add_client", redirect_uri=f"{OAUTH2_SITE}/complete/mediawiki-oauth2/", grants=["basic"], approved=False
    )
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = (
        added["client_id"],
        added["secret"],
    )
    status, checks = check("--site-url", OAUTH2_SITE)
    # The token endpoint refuses an unapproved OAuth 2.0 client like an unknown one; its page says it is proposed.
    assert status == 1 and "not approved (its status is proposed)" in checks["oauth2.client"]["summary"]
    assert checks["oauth2.approved"]["details"] == {"status": "proposed"}
    added = devwiki.control(
        "oauth2_add_client", redirect_uri=f"{OAUTH2_SITE}/complete/mediawiki-oauth2/", grants=["basic"]
    )
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = (
        added["client_id"],
        added["secret"],
    )
    oauth2_settings.MWSSO_REQUIRED_GRANTS = ["editpage"]
    status, checks = check("--site-url", OAUTH2_SITE)
    assert checks["oauth2.client"]["status"] == "pass" and checks["oauth2.grants"]["status"] == "fail"


def test_oauth2_a_redirect_uri_the_site_sends(oauth2_settings):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/mediawiki-oauth2/"
    sent = check("--site-url", OAUTH2_SITE)[1]["oauth2.redirect_uri"]
    assert sent["status"] == "pass" and sent["summary"].startswith("The site sends the registered redirect URI")
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/elsewhere/"
    result = check("--site-url", OAUTH2_SITE)[1]["oauth2.redirect_uri"]
    assert (
        result["status"] == "fail"
        and "http://127.0.0.1:9000/complete/elsewhere/ that the site sends" in result["summary"]
    )
    assert "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI" in result["fix"]


def test_oauth2_a_public_client_without_its_secret(oauth2_settings):
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = seed.PUBLIC_OAUTH2_CLIENT_ID
    oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    status, checks = check("--site-url", "http://127.0.0.1:8000")
    assert status == 0 and "public client" in checks["oauth2.client"]["summary"]


def test_no_consumer_at_all(wiki_settings):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = ""
    status, checks = check()
    assert status == 1 and checks["oauth1.consumer"]["summary"].startswith("No consumer is configured")


class _WithoutConsumerPages:
    """The local wiki behind a proxy that answers 404 for Special:OAuthListConsumers, as a wiki without it would."""

    def __init__(self, target: str) -> None:
        def handle(handler: BaseHTTPRequestHandler) -> None:
            if "OAuthListConsumers" in unquote(handler.path):
                body = b"<html>No such special page</html>"
                status, headers = 404, {"Content-Type": "text/html"}
            else:
                length = int(handler.headers.get("Content-Length") or 0)
                sent = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(
                    handler.command,
                    target + handler.path,
                    headers=sent,
                    timeout=10,
                    data=handler.rfile.read(length) if length else None,
                    allow_redirects=False,
                )
                body, status = answer.content, answer.status_code
                headers = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location", "date")}
            handler.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)

        class Handler(BaseHTTPRequestHandler):
            do_GET = do_POST = handle

            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_oauth2_without_the_consumer_page_nothing_is_guessed(oauth2_settings, devwiki, any_version):
    proxy = _WithoutConsumerPages(devwiki.server_url)
    try:
        oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = proxy.url + "/w/index.php"
        _status, checks = check("--site-url", "http://127.0.0.1:8000")
        # The anonymous authorize probe ends at the login page: the redirect URI is not proven, never passed.
        redirect = checks["oauth2.redirect_uri"]
        assert checks["oauth2.client"]["status"] == "pass" and redirect["status"] == "skip", redirect
        assert redirect["summary"].startswith("Not proven")
        oauth2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "0" * 32
        client = check("--site-url", OAUTH2_SITE)[1]["oauth2.client"]
        assert client["status"] == "fail" and "unknown or the secret is wrong" in client["summary"]
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
