"""Who a wiki account is linked to: allauth's "connect", a browser already signed in, a stale handshake, e-mail matching.

What is safe, and allowed: a signed-in user connecting a first wiki account (they started it with a
POST and finished it in the same session), and a browser signed in as one user signing in with another
wiki account (it switches to that account's user, linking nothing). What is refused: a second wiki
account for a user, a wiki account that another user of the site signs in with, and a handshake
started before the session's user changed.
"""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from mwsso.models import AccessToken, WikiIdentity
from tests.allauth.support import *  # noqa: F403
from tests.allauth.support import point_at, sign_in, signed_in_as, start, to_wiki_and_back
from tests.oauth2_support import *  # noqa: F403

pytestmark = pytest.mark.django_db
User = get_user_model()


def password_login(client, username: str = "carol") -> object:  # type: ignore[no-untyped-def]
    """A local account signing in with its password through allauth's own login form."""
    if not User.objects.filter(username=username).exists():
        User.objects.create_user(username, f"{username}@example.net", "correct horse battery")
    response = client.post("/accounts/login/", {"login": username, "password": "correct horse battery"})
    assert response.status_code == 302, response.content[:1000]
    return User.objects.get(username=username)


def test_a_signed_in_user_connects_a_first_wiki_account(aa_settings, o2wiki, browser):
    carol = password_login(browser)
    response = sign_in(browser, process="connect")
    assert response.status_code == 302 and response["Location"] == "/accounts/3rdparty/"
    assert SocialAccount.objects.get().user == carol
    assert AccessToken.objects.get().user == carol and WikiIdentity.objects.get().user == carol
    assert signed_in_as(browser) == "Signed in as carol."


def test_a_second_wiki_account_is_never_connected(aa_settings, o2wiki, browser, caplog):
    carol = password_login(browser)
    sign_in(browser, process="connect")
    first = AccessToken.objects.get()
    response = sign_in(browser, user="Bob", process="connect")
    assert response.status_code == 409
    assert "not linked to the account you are signed in with" in response.content.decode()
    assert [(a.uid, a.user) for a in SocialAccount.objects.all()] == [("3", carol)]
    assert AccessToken.objects.get().fingerprint == first.fingerprint
    assert any("second_wiki_account" in r.getMessage() for r in caplog.records)


def test_a_wiki_account_of_another_user_is_not_connected(aa_settings, o2wiki, browser, client_factory):
    owner = client_factory()
    sign_in(owner)  # Alice's own user
    token = AccessToken.objects.get()
    password_login(browser)
    response = sign_in(browser, process="connect")
    assert response.status_code == 409
    account = SocialAccount.objects.get()
    assert account.user.username == "Alice" and AccessToken.objects.get().fingerprint == token.fingerprint
    assert signed_in_as(browser) == "Signed in as carol."


def test_a_handshake_started_before_someone_signs_in_cannot_link_to_them(aa_settings, o2wiki, browser):
    # Someone at this browser starts a "connect" while nobody is signed in, and keeps the consent link.
    planted = start(browser, process="connect")
    password_login(browser)  # the owner of the browser signs in
    response = to_wiki_and_back(browser, planted, user="Bob")
    assert response.status_code == 400 and "not valid any more" in response.content.decode()
    assert not SocialAccount.objects.exists() and not AccessToken.objects.exists()


def test_a_handshake_started_by_the_previous_user_ends_at_sign_out(aa_settings, o2wiki, browser):
    password_login(browser, "dave")
    planted = start(browser, process="connect")
    browser.post("/accounts/logout/")
    password_login(browser, "carol")
    assert to_wiki_and_back(browser, planted, user="Bob").status_code == 400
    assert not SocialAccount.objects.exists()


def test_a_signed_in_browser_signing_in_with_another_wiki_account_switches_users(aa_settings, o2wiki, browser):
    sign_in(browser, user="Alice")
    assert sign_in(browser, user="Bob").status_code == 302
    assert signed_in_as(browser) == "Signed in as Bob."
    links = {a.uid: a.user.username for a in SocialAccount.objects.all()}
    assert links == {"3": "Alice", "4": "Bob"}
    assert {t.user.username for t in AccessToken.objects.all()} == {"Alice", "Bob"}


def test_a_wiki_account_that_signs_in_through_social_auth_as_another_user_is_refused(aa_settings, o2wiki, browser):
    # A site that also runs the social-auth backends: the same wiki account already belongs to someone.
    other = User.objects.create_user("alice-social")
    WikiIdentity.objects.create(user=other, wiki=o2wiki.server_url + "/w", sub="3", username="Alice")
    assert sign_in(browser).status_code == 409
    assert not SocialAccount.objects.exists() and not AccessToken.objects.exists()


def test_email_authentication_does_not_give_a_user_a_second_wiki_account(settings, o2wiki, browser, client_factory):
    # A client with the private-info grant: the profile carries the confirmed e-mail address.
    private = o2wiki.control(
        "oauth2_add_client", redirect_uri="http://127.0.0.1:8000/accounts/mediawiki/login/callback/",
        grants=["basic", "mwoauth-authonlyprivate"],
    )  # fmt: skip
    point_at(settings, o2wiki, (private["client_id"], private["secret"]))
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
    # bob@example.org is a local account that connected Alice's wiki account.
    carol = password_login(browser)
    sign_in(browser, process="connect")
    carol.email = "bob@example.org"
    carol.save()
    carol.emailaddress_set.update_or_create(email="bob@example.org", defaults={"verified": True, "primary": True})
    response = sign_in(client_factory(), user="Bob")
    assert response.status_code == 409
    assert [(a.uid, a.user) for a in SocialAccount.objects.all()] == [("3", carol)]


@pytest.mark.django_db(transaction=True)
def test_two_sign_ins_of_a_new_wiki_account_at_once_end_as_one_user(aa_settings, o2wiki, browser):
    import threading

    from allauth.socialaccount.signals import pre_social_login
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("another connection writing meanwhile needs PostgreSQL or MariaDB")

    def the_other_sign_in_wins(**kwargs) -> None:  # type: ignore[no-untyped-def]
        # Between allauth's lookup (no account yet) and its signup, another worker creates the account.
        pre_social_login.disconnect(dispatch_uid="t-aa-race")

        def other_worker() -> None:
            try:
                user = User.objects.create_user("Alice (other worker)")
                SocialAccount.objects.create(user=user, provider="mediawiki", uid="3", extra_data={"username": "Alice"})
            finally:
                connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(10)

    pre_social_login.connect(the_other_sign_in_wins, weak=False, dispatch_uid="t-aa-race")
    try:
        response = sign_in(browser)
    finally:
        pre_social_login.disconnect(dispatch_uid="t-aa-race")
    assert response.status_code == 302, response.content[:1000]
    assert signed_in_as(browser) == "Signed in as Alice (other worker)."
    assert list(User.objects.values_list("username", flat=True)) == ["Alice (other worker)"]
    assert AccessToken.objects.get().user.username == "Alice (other worker)"
