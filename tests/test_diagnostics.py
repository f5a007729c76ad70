"""mwsso.diagnostics' pure parts: each verdict from what a real wiki answered (tests/recorded/)."""

from __future__ import annotations

import pytest
import requests

from mwsso.diagnostics import Result, exit_status, oauth1, oauth2, registration, wiki
from mwsso.diagnostics.consumerpage import ConsumerPage, parse
from mwsso.diagnostics.target import OAuth2Client, Target
from mwsso.protocol import oauth1 as oauth1_protocol
from mwsso.protocol.wikiurls import wiki_urls
from tests import recorded

RESPONSES = recorded.load("mediawiki-1.39-oauth-responses.json")
RESPONSES_143 = {entry["step"]: entry for entry in recorded.load("mediawiki-1.43-responses.json")}
RESPONSES_145 = {entry["n"]: entry for entry in recorded.load("mediawiki-1.45-responses.json")}
URLS = wiki_urls("https://wiki.example/w/index.php")


def response(status: int, body: str, content_type: str = "application/json", **headers: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body.encode()
    answer.headers.update({"Content-Type": content_type, **headers})
    return answer


def recorded_initiate(name: str) -> oauth1_protocol.OAuth1Error:
    entry = RESPONSES[name]
    with pytest.raises(oauth1_protocol.OAuth1Error) as caught:
        oauth1_protocol.parse_token_response(
            response(entry["status"], entry["body"], entry["content_type"]), "initiate"
        )
    return caught.value


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("1a initiate, wrong consumer secret (bad signature), format=json", "bad_signature"),
        ("1b initiate, wrong consumer secret (bad signature), no format", "bad_signature"),
        ("1c initiate, unknown consumer key, format=json", "unknown_consumer"),
        ("1d initiate, callback not matching registered prefix, format=json", "callback"),
        ("1h initiate via http://localhost:8080 (host differs from $wgServer)", "bad_signature"),
    ],
)
def test_each_recorded_initiate_refusal_is_told_apart(name, kind):
    assert oauth1.classify(recorded_initiate(name)) == kind


def test_unknown_consumer_and_wrong_secret_have_their_own_verdicts():
    unknown = oauth1.consumer_result(recorded_initiate("1c initiate, unknown consumer key, format=json"))
    assert unknown.status == "fail" and unknown.summary.startswith("Unknown consumer")
    assert "SOCIAL_AUTH_MEDIAWIKI_KEY" in unknown.fix
    wrong = oauth1.consumer_result(recorded_initiate("1a initiate, wrong consumer secret (bad signature), format=json"))
    assert wrong.summary.startswith("Wrong secret or wrong host name") and "SOCIAL_AUTH_MEDIAWIKI_SECRET" in wrong.fix
    host = oauth1.consumer_result(
        recorded_initiate("1h initiate via http://localhost:8080 (host differs from $wgServer)"), host_mismatch=True
    )
    assert host.summary.startswith("Wrong host name") and "SOCIAL_AUTH_MEDIAWIKI_URL" in host.fix


def test_a_request_token_means_the_consumer_works():
    assert oauth1.consumer_result(oauth1_protocol.TokenPair("k" * 32, "s" * 32)).status == "pass"


def test_a_refused_callback_names_the_registration_that_accepts_it():
    refused = recorded_initiate("1d initiate, callback not matching registered prefix, format=json")
    result = oauth1.callback_result(
        "https://tool.example/complete/mediawiki/", "https://tool.example/complete/mediawiki/", refused, None
    )
    assert result.status == "fail"
    assert 'OAuth "callback" URL https://tool.example/complete/mediawiki/' in result.fix
    assert "required prefix" in result.fix


def test_an_oob_site_is_checked_against_the_registered_callback():
    page = ConsumerPage(known=True, status="approved", callback="https://old.example/cb", callback_is_prefix=False)
    result = oauth1.callback_result("oob", "https://tool.example/complete/mediawiki/", None, page)
    assert result.status == "fail" and "https://old.example/cb" in result.summary
    good = ConsumerPage(known=True, status="approved", callback="https://tool.example/complete/mediawiki/")
    assert oauth1.callback_result("oob", "https://tool.example/complete/mediawiki/", None, good).status == "pass"


def test_approval_from_the_consumer_page():
    assert oauth1.approved_result(ConsumerPage(known=True, status="approved"), True).status == "pass"
    proposed = oauth1.approved_result(ConsumerPage(known=True, status="proposed"), True)
    assert proposed.status == "fail" and proposed.summary.startswith("Not approved")
    assert oauth1.approved_result(None, True).status == "skip"
    assert oauth1.approved_result(ConsumerPage(known=True, status="approved"), False).status == "skip"


QQX_PAGE = """<table><tr><th>(mwoauthlistconsumers-status)</th><td>(mwoauthlistconsumers-status-approved)</td></tr>
<tr><th>(mwoauthlistconsumers-wiki)</th><td>(mwoauth-consumer-allwikis)</td></tr>
<tr><th>(mwoauthlistconsumers-callbackurl)</th><td>https://tool.example/complete/mediawiki/</td></tr>
<tr><th>(mwoauthlistconsumers-callbackisprefix)</th><td>(htmlform-yes)</td></tr>
<tr><th>(mwoauthlistconsumers-grants)</th><td><ul><li>(grant-group-page-interaction): (grant-editpage)</li></ul></td></tr>
</table>"""


def test_the_consumer_page_is_read_from_its_message_keys():
    assert parse(QQX_PAGE) == ConsumerPage(
        known=True,
        status="approved",
        grants=("basic", "editpage"),
        callback="https://tool.example/complete/mediawiki/",
        callback_is_prefix=True,
        all_wikis=True,
    )
    assert parse("<p>(mwoauth-invalid-consumer-key)</p>") == ConsumerPage(known=False)
    assert parse("<html>some other page</html>") is None


def test_grants_the_site_needs_against_the_registered_ones():
    page = ConsumerPage(known=True, status="approved", grants=("basic", "editpage"), all_wikis=False)
    assert oauth1.grants_result(page, ("editpage",), ()).status == "pass"
    missing = oauth1.grants_result(page, ("editpage", "highvolume"), ())
    assert missing.status == "fail" and "highvolume" in missing.summary and "basic, editpage, highvolume" in missing.fix
    one_wiki = oauth1.grants_result(page, (), ("*.wikipedia.org",))
    assert one_wiki.status == "fail" and "all projects" in one_wiki.fix
    authonly = ConsumerPage(known=True, status="approved", grants=("mwoauth-authonly",), all_wikis=True)
    assert oauth1.grants_result(authonly, (), ("*.wikipedia.org",)).status == "fail"


def test_grants_that_the_wiki_does_not_show_are_not_guessed():
    result = oauth1.grants_result(None, ("editpage",), ())
    assert result.status == "skip" and "cannot be checked without a user" in result.summary


def test_a_redirect_names_the_url_to_configure():
    moved = response(301, "", "text/html", Location="https://wiki.example/w/index.php?title=Special:OAuth")
    result = wiki.reachable_result(wiki_urls("http://wiki.example/w/index.php"), moved)
    assert (
        result.status == "fail" and result.fix == 'Set SOCIAL_AUTH_MEDIAWIKI_URL = "https://wiki.example/w/index.php".'
    )
    assert wiki.reachable_result(URLS, response(200, "<html></html>", "text/html")).status == "pass"
    assert wiki.reachable_result(URLS, None, "ConnectionError").status == "fail"


def test_https_unless_loopback():
    assert wiki.https_result(URLS).status == "pass"
    assert wiki.https_result(wiki_urls("http://127.0.0.1:8080/index.php")).status == "pass"
    assert wiki.https_result(wiki_urls("http://[::1]:8080/w/index.php")).status == "pass"
    plain = wiki.https_result(wiki_urls("http://wiki.example/w/index.php"))
    assert plain.status == "fail" and "https://wiki.example/w/index.php" in plain.fix


@pytest.mark.parametrize(
    ("offset", "status"), [(0, "pass"), (59, "pass"), (-61, "warn"), (299, "warn"), (301, "fail"), (-900, "fail")]
)
def test_clock_thresholds(offset, status):
    assert wiki.clock_result(offset).status == status


def test_clock_offset_from_the_date_header():
    assert wiki.wiki_clock_offset("Tue, 01 Dec 2026 20:00:00 GMT", 1796155200 - 90) == 90
    assert wiki.wiki_clock_offset("not a date", 0) is None and wiki.wiki_clock_offset(None, 0) is None
    assert wiki.clock_result(None).status == "skip"


def test_the_wiki_server_must_be_the_host_the_site_signs_for():
    mismatch = wiki.server_result(wiki_urls("http://localhost:8080/index.php"), "http://127.0.0.1:8080", None)
    assert mismatch.status == "fail" and "Invalid signature" in mismatch.summary
    assert mismatch.fix == 'Set SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:8080/index.php".'
    assert mismatch.details["host_mismatch"] is True
    same = wiki.server_result(
        URLS, wiki.wiki_server({"query": {"general": {"server": "//wiki.example"}}}, "https"), None
    )
    assert same.status == "pass" and same.details["identify_issuer"] == "https://wiki.example"


def test_a_named_issuer_must_be_the_wiki_server():
    wrong = wiki.server_result(URLS, "https://wiki.example", "https://other.example")
    assert wrong.status == "fail" and 'MWSSO_IDENTIFY_ISSUER = "https://wiki.example"' in wrong.fix
    assert wiki.server_result(URLS, None, None).status == "skip"


def test_user_agent_needs_a_contact():
    assert wiki.user_agent_result("Tool/1.0 (me@example.org) mwsso", "default").status == "pass"
    assert wiki.user_agent_result("Tool/1.0 (https://tool.example)", "default").status == "pass"
    assert wiki.user_agent_result("Tool/1.0", "default").status == "fail"
    assert wiki.user_agent_result("default", "default").status == "fail"


def test_exit_status():
    ok, warn, fail, skip = (Result("x", s, "") for s in ("pass", "warn", "fail", "skip"))
    assert exit_status([ok, skip]) == 0 and exit_status([ok, warn]) == 2 and exit_status([warn, fail]) == 1


def _recorded_143(step: str) -> requests.Response:
    entry = RESPONSES_143[step]
    return response(entry["status"], entry["body"], entry["content_type"])


CLIENT = OAuth2Client(
    "https://wiki.example/w/index.php",
    "42e8407d0975a131def2db537f4c33f4",
    "s",
    "https://tool.example/complete/mediawiki-oauth2/",
)


def test_oauth2_a_bogus_code_refused_as_such_means_the_client_authenticated():
    assert oauth2.client_result(_recorded_143("extras: oauth2 token bogus code"), None).status == "pass"


def _recorded_145(n: int) -> requests.Response:
    entry = RESPONSES_145[n]
    body = entry["body"] if isinstance(entry["body"], str) else "<html>" + entry["body"]["page_text"] + "</html>"
    extra = {"Location": entry["location"]} if entry["location"] else {}
    return response(entry["status"], body, entry["content_type"], **extra)


def test_oauth2_the_token_endpoint_answers_an_unknown_client_and_a_wrong_secret_alike():
    wrong, unknown = RESPONSES_145[147], RESPONSES_145[148]  # "token wrong secret", "token unknown client"
    assert (wrong["status"], wrong["body"]) == (unknown["status"], unknown["body"])


def test_oauth2_invalid_client_is_told_apart_by_the_consumer_page():
    refused = _recorded_145(147)
    known = ConsumerPage(known=True, status="approved", callback="https://tool.example/complete/mediawiki-oauth2/")
    wrong = oauth2.client_result(refused, known)
    assert wrong.summary.startswith("Wrong client secret") and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET" in wrong.fix
    unknown = oauth2.client_result(refused, parse("<p>(mwoauth-invalid-consumer-key)</p>"))
    assert unknown.summary.startswith("Unknown client") and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY" in unknown.fix
    assert "secret" not in unknown.summary
    proposed = oauth2.client_result(refused, ConsumerPage(known=True, status="proposed"))
    assert proposed.status == "fail" and "not approved" in proposed.summary
    unreadable = oauth2.client_result(refused, None)
    assert unreadable.status == "fail" and "unknown or the secret is wrong" in unreadable.summary
    assert (
        "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY" in unreadable.fix and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET" in unreadable.fix
    )


def test_oauth2_redirect_uri_is_compared_exactly_with_the_registered_one():
    other = ConsumerPage(known=True, status="approved", callback="https://tool.example/complete/other/")
    result = oauth2.redirect_result(CLIENT, other, None, True)
    assert result.status == "fail" and "https://tool.example/complete/other/" in result.summary
    assert result.details == {"registered": "https://tool.example/complete/other/"}
    assert "https://tool.example/complete/mediawiki-oauth2/ exactly" in result.fix
    slash = ConsumerPage(known=True, status="approved", callback="https://tool.example/complete/mediawiki-oauth2")
    assert oauth2.redirect_result(CLIENT, slash, None, True).status == "fail"  # exact: no trailing-slash leeway
    same = ConsumerPage(known=True, status="approved", callback=CLIENT.redirect_uri)
    assert oauth2.redirect_result(CLIENT, same, None, True).status == "pass"


@pytest.mark.parametrize("n", [143, 144, 145])  # anonymous: known client, unknown client, wrong redirect_uri
def test_oauth2_a_redirect_to_the_login_page_proves_nothing(n):
    anonymous = _recorded_145(n)
    assert anonymous.status_code == 307 and "Special:UserLogin" in anonymous.headers["Location"]
    result = oauth2.redirect_result(CLIENT, None, anonymous, True)
    assert result.status == "skip" and result.summary.startswith("Not proven")
    assert "https://tool.example/complete/mediawiki-oauth2/ exactly" in result.fix


def test_oauth2_without_the_consumer_page_a_signed_in_refusal_still_fails():
    refused = _recorded_145(138)  # a signed-in person's "Application Connection Error" for a wrong redirect_uri
    result = oauth2.redirect_result(CLIENT, None, refused, True)
    assert result.status == "fail" and "401" in result.summary


def test_registration_values():
    target = Target(
        wiki_url="https://en.wikipedia.org/w/index.php",
        callback="https://tool.example/complete/mediawiki/",
        expected_callback="https://tool.example/complete/mediawiki/",
        site_url="https://tool.example",
        required_grants=("editpage",),
        allowed_wikis=("*.wikipedia.org",),
    )
    values = registration.values(target)
    oauth1_form, oauth2_form = values["oauth1"], values["oauth2"]
    assert (
        oauth1_form["page"]
        == "https://meta.wikimedia.org/w/index.php?title=Special:OAuthConsumerRegistration/propose/oauth1a"
    )
    assert oauth2_form["page"].endswith("Special:OAuthConsumerRegistration/propose/oauth2")
    assert oauth1_form["fields"]['OAuth "callback" URL'] == "https://tool.example/complete/mediawiki/"
    assert any(value == "tick it" for value in oauth1_form["fields"].values())
    assert oauth1_form["fields"]["Applicable grants"] == "basic, editpage"
    assert oauth1_form["fields"]["Applicable project"] == "* (all projects)"
    assert oauth2_form["fields"]['OAuth "callback" URL'].startswith("https://tool.example/complete/mediawiki-oauth2/")


def test_a_targets_repr_shows_no_secret():
    assert "s3cret" not in repr(Target("https://w.example/index.php", "key", "s3cret"))
    assert "s3cret" not in repr(OAuth2Client("https://w.example/index.php", "id", "s3cret"))


def test_oauth2_a_refused_refresh_token_still_proves_the_secret():
    bogus_code = _recorded_143("extras: oauth2 token bogus code")
    reused = RESPONSES["10b oauth2 refresh_token REUSED"]  # 401 invalid_request: the client did authenticate
    refresh = response(reused["status"], reused["body"])
    assert oauth2.client_result(bogus_code, None, refresh).status == "pass"
    refused = _recorded_143("oauth2 public: refresh WITHOUT client_secret")
    result = oauth2.client_result(bogus_code, None, refused)
    assert result.status == "fail" and "refresh" in result.summary


def test_a_redirect_within_the_wiki_is_no_misconfiguration():
    # A German wiki sends Special:OAuth on to Spezial:OAuth: same server, the URL is right.
    local = response(301, "", "text/html", Location="https://wiki.example/wiki/Spezial:OAuth")
    assert wiki.reachable_result(URLS, local).status == "pass"
    other_host = response(301, "", "text/html", Location="https://www.wiki.example/wiki/Special:OAuth")
    assert (
        wiki.reachable_result(URLS, other_host).fix
        == 'Set SOCIAL_AUTH_MEDIAWIKI_URL = "https://www.wiki.example/w/index.php".'
    )


def test_the_checks_run_without_django_settings():
    import subprocess
    import sys

    code = (
        "from mwsso.diagnostics import wiki, oauth1, registration\n"
        "from mwsso.diagnostics.consumerpage import ConsumerPage\n"
        "from mwsso.diagnostics.target import Target\n"
        "assert wiki.clock_result(400).status == 'fail'\n"
        "assert oauth1.approved_result(ConsumerPage(True, 'rejected'), True).summary.startswith('Not approved')\n"
        "assert registration.values(Target('https://en.wikipedia.org/w/index.php'))['oauth1']['page'].startswith('https://meta')\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
