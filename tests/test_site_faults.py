"""A refusal that is the site's own fault spoils no token (issue 10, item 3).

Against the local wiki configured the way real deployments go wrong: a wrong consumer secret at the
site, a host name that is not the wiki's $wgServer, a clock off by an hour, and a signing bug of ours
(the doubled slash of a root-path wiki). Each gives "Invalid signature" or "Expired timestamp"; the
site's consumer-only probe (Special:OAuth/initiate with oob) tells them apart from a bad token.
"""

from __future__ import annotations

import logging
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from mwsso_devwiki.testing import running_devwiki

from mwsso import api, signals, site_probe
from mwsso.api.signing import OAuth1Signer
from mwsso.models import AccessToken
from mwsso.tokens import verify_token
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, signed_in_on

pytestmark = pytest.mark.django_db
User = get_user_model()
WRONG_SECRET = "0" * 40
REFUSED_SITE = "site's OAuth set-up is refused"


@pytest.fixture
def alice(login, site_client):  # type: ignore[no-untyped-def]
    assert login(site_client, "Alice").status_code == 302
    return User.objects.get(username="Alice")


def counter(devwiki, name: str) -> int:  # type: ignore[no-untyped-def]
    return devwiki.control("stats")["counters"].get(name, 0)


def token_of(user) -> AccessToken:  # type: ignore[no-untyped-def]
    return AccessToken.objects.get(user=user)


def userinfo(user) -> str:  # type: ignore[no-untyped-def]
    return api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]["name"]


def test_wrong_consumer_secret_is_a_typed_error_and_the_token_survives(alice, devwiki, settings, caplog):
    caplog.set_level(logging.DEBUG, logger="mwsso")
    before = token_of(alice)
    credentials = before.get_credentials()
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = WRONG_SECRET  # a bad deploy
    with pytest.raises(api.SiteMisconfigured) as caught:
        userinfo(alice)
    err = caught.value
    assert isinstance(err, api.APIError) and not isinstance(err, api.SignInRequired)
    assert err.cause == "signature" and "Invalid signature" in err.info
    for cause in ("SOCIAL_AUTH_MEDIAWIKI_SECRET", "$wgServer", "clock"):
        assert cause in err.info
    after = token_of(alice)
    assert (after.status, after.status_reason, after.last_verified) == (
        AccessToken.Status.VALID,
        before.status_reason,
        before.last_verified,
    )
    shown = [str(err), repr(err), str(err.user_message), caplog.text]
    for secret in (WRONG_SECRET, TEST_CONSUMER_SECRET, credentials.secret, credentials.key):
        assert not any(secret in text for text in shown)
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET  # the fix is deployed
    assert userinfo(alice) == "Alice"  # no new sign-in needed


def test_many_failing_calls_make_one_probe_and_one_log_line(alice, devwiki, settings, caplog):
    caplog.set_level(logging.INFO, logger="mwsso")
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = WRONG_SECRET
    clients = [api.for_user(alice) for _ in range(30)]
    probes_before = counter(devwiki, "initiate")
    errors: list[BaseException] = []

    def call(client: api.Client) -> None:
        try:
            client.get(action="query", meta="userinfo")
        except api.APIError as err:
            errors.append(err)

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for client in clients[:10]:  # and sequential calls after them
        call(client)
    assert len(errors) == 40 and all(isinstance(err, api.SiteMisconfigured) for err in errors)
    assert counter(devwiki, "initiate") - probes_before == 1
    assert caplog.text.count(REFUSED_SITE) == 1
    assert token_of(alice).status == AccessToken.Status.VALID


def test_the_log_line_comes_again_after_the_site_was_accepted_in_between(alice, devwiki, settings, caplog):
    caplog.set_level(logging.ERROR, logger="mwsso")
    settings.MWSSO_SITE_CHECK_CACHE = 0
    for wrong in (True, False, True):
        settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = WRONG_SECRET if wrong else TEST_CONSUMER_SECRET
        if wrong:
            with pytest.raises(api.SiteMisconfigured):
                userinfo(alice)
        else:
            # Calls that work need no probe; the next probe (any refused signature) finds the site accepted.
            assert userinfo(alice) == "Alice"
            assert site_probe.check_site(devwiki.index_url, api.for_user(alice).signer.consumer).ok
    assert caplog.text.count(REFUSED_SITE) == 2


def test_a_host_name_that_is_not_wgserver_spoils_no_token(alice, devwiki, monkeypatch):
    # The wiki's $wgServer is now another name for this host (localhost, not 127.0.0.1): every
    # signature the site makes for 127.0.0.1 is checked against localhost and fails.
    port = devwiki.server_url.rsplit(":", 1)[1]
    monkeypatch.setattr(devwiki.store, "server", f"http://localhost:{port}")
    with pytest.raises(api.SiteMisconfigured) as caught:
        userinfo(alice)
    assert caught.value.cause == "signature" and "$wgServer" in caught.value.info
    assert token_of(alice).status == AccessToken.Status.VALID
    monkeypatch.undo()
    assert userinfo(alice) == "Alice"


def test_a_server_clock_an_hour_off_spoils_no_token(alice, devwiki):
    devwiki.control("set_clock", offset=3600)
    with pytest.raises(api.SiteMisconfigured) as caught:
        userinfo(alice)
    assert caught.value.cause == "clock" and "Expired timestamp" in caught.value.info
    assert token_of(alice).status == AccessToken.Status.VALID
    devwiki.control("set_clock", offset=0)
    assert userinfo(alice) == "Alice"


def test_a_consumer_the_wiki_no_longer_approves_spoils_no_token(alice, devwiki, caplog):
    caplog.set_level(logging.ERROR, logger="mwsso")
    devwiki.store.consumer(TEST_CONSUMER_KEY).approved = False  # disabled by a wiki admin (reset restores it)
    probes = counter(devwiki, "initiate")
    for _ in range(3):
        with pytest.raises(api.SiteMisconfigured) as caught:
            userinfo(alice)
    assert caught.value.cause == "consumer" and "not-approved" in caught.value.code
    assert counter(devwiki, "initiate") == probes  # the wiki said what is wrong: no probe needed
    assert caplog.text.count(REFUSED_SITE) == 1
    assert token_of(alice).status == AccessToken.Status.VALID


def test_the_wiki_unreachable_for_the_probe_blames_no_token(alice, devwiki, settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = WRONG_SECRET
    devwiki.control("set_fault", step="initiate", kind="drop")
    with pytest.raises(api.SignatureRejected) as caught:
        userinfo(alice)
    assert not isinstance(caught.value, (api.SiteMisconfigured, api.SignInRequired))
    assert token_of(alice).status == AccessToken.Status.VALID


def test_a_wrong_token_secret_is_still_the_tokens_fault(alice, devwiki):
    # The probe passes (the site's consumer is fine) and identify refuses the token's signature too.
    token = token_of(alice)
    token.set_credentials(token.get_credentials().key, "1" * 40)
    token.save()
    with pytest.raises(api.TokenInvalid) as caught:
        userinfo(alice)
    assert caught.value.status == AccessToken.Status.INVALID and "Invalid signature" in caught.value.info
    assert token_of(alice).status == AccessToken.Status.INVALID


def test_a_real_revocation_marks_the_token_revoked_and_signals_once(alice, devwiki):
    received: list[str] = []

    def on_invalidated(sender, token, reason, **kwargs):  # type: ignore[no-untyped-def]
        received.append(reason)

    signals.token_invalidated.connect(on_invalidated)
    try:
        client = api.for_user(alice)
        devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
        probes = counter(devwiki, "initiate")
        for _ in range(3):
            with pytest.raises(api.TokenInvalid) as caught:
                client.get(action="query", meta="userinfo")
    finally:
        signals.token_invalidated.disconnect(on_invalidated)
    assert caught.value.status == AccessToken.Status.REVOKED
    assert token_of(alice).status == AccessToken.Status.REVOKED
    assert len(received) == 1 and "No approved grant" in received[0]
    assert counter(devwiki, "initiate") == probes  # the wiki's word needs no probe


def test_verify_restores_a_token_marked_invalid_by_mistake(alice, devwiki, settings):
    token = token_of(alice)
    token.record_status(AccessToken.Status.INVALID, "mwoauth-invalid-authorization: Invalid signature")
    # While the site is still misconfigured, verify leaves the token as it is.
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = WRONG_SECRET
    result = verify_token(token)
    assert result.site_fault and result.status == AccessToken.Status.ERROR
    assert "SOCIAL_AUTH_MEDIAWIKI_SECRET" in result.reason and WRONG_SECRET not in result.reason
    assert token_of(alice).status == AccessToken.Status.INVALID
    with pytest.raises(CommandError) as failed:
        call_command("mwsso_tokens", "verify")
    assert failed.value.returncode == 2 and token_of(alice).status == AccessToken.Status.INVALID
    # With the right secret back, the wiki accepts the token: verify restores it.
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET
    call_command("mwsso_tokens", "verify")
    restored = token_of(alice)
    assert restored.status == AccessToken.Status.VALID and restored.status_reason == ""
    assert userinfo(alice) == "Alice"


def test_verify_still_marks_a_revoked_token(alice, devwiki):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    assert verify_token(token_of(alice)).status == AccessToken.Status.REVOKED
    assert token_of(alice).status == AccessToken.Status.REVOKED


# -- a signing bug of ours: the doubled slash on a root-path wiki ---------------------------------


@pytest.fixture(scope="module")
def root_wiki():
    with running_devwiki(script_path="") as wiki:
        yield wiki


@pytest.fixture
def root_alice(root_wiki, settings, site_client):  # type: ignore[no-untyped-def]
    yield from signed_in_on(root_wiki, settings, site_client)


def test_a_wrong_api_url_of_ours_spoils_no_token(root_alice, root_wiki):
    # What the old _script_dir built for a root-path wiki: http://host//api.php.
    token = token_of(root_alice)
    credentials = token.get_credentials()
    signer = OAuth1Signer(TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, credentials.key, credentials.secret)
    broken = api.Client(f"{root_wiki.store.server}//api.php", signer, token=token)
    with pytest.raises(api.SignatureRejected) as caught:
        broken.get(action="query", meta="userinfo")
    assert not isinstance(caught.value, api.SignInRequired)
    assert "Invalid signature" in caught.value.info and "API URL" in caught.value.info
    assert token_of(root_alice).status == AccessToken.Status.VALID
    assert userinfo(root_alice) == "Alice"
