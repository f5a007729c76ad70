"""A signed-in browser never merges or takes over accounts (issue 13, docs/security.md).

README's promises, as written: "two wiki users never share a Django user" and "a
local account that is not linked to the wiki is never touched". Each sign-in runs
for real against the local wiki; the callback link is opened by the browser that
holds the request token, as an attacker would make it happen.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from mwsso_devwiki.testing import authorize
from social_django.models import UserSocialAuth

import mwsso
from mwsso.exceptions import AccountNotLinked
from mwsso.models import AccessToken, WikiIdentity
from mwsso.pipeline import create_or_update_user
from mwsso.protocol.identity import Identity
from mwsso.socialauth.handshakes import drop_pending_handshakes, is_handshake_key
from mwsso.tokens.verify import verify_token
from tests.conftest import callback_path, start_login

pytestmark = pytest.mark.django_db(transaction=False)
User = get_user_model()
PENDING = "mediawikiunauthorized_token_name"
ALICE_SUB, BOB_SUB = "3", "4"


def signed_in_user(client):  # type: ignore[no-untyped-def]
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def allowed_callback(authorize_url: str, user: str) -> str:
    """Press Allow as ``user`` on the wiki (in the wiki's own browser) and return the callback link."""
    allowed = authorize(None, authorize_url, user=user, action="accept")
    assert allowed.status_code == 302, allowed.text[:500]
    return callback_path(allowed.headers["Location"])


def assert_one_user_per_wiki_account() -> None:
    """README: "two wiki users never share a Django user"; and no user has two accounts of one wiki."""
    links = list(UserSocialAuth.objects.filter(provider="mediawiki").values_list("user_id", "uid"))
    assert len({user_id for user_id, _ in links}) == len(links), links
    assert len({uid for _, uid in links}) == len(links), links


def assert_untouched_local_account(local, password: str, *, superuser: bool = False) -> None:  # type: ignore[no-untyped-def]
    """README: "a local account that is not linked to the wiki is never touched"."""
    before = local.username
    local.refresh_from_db()
    assert local.username == before and local.check_password(password)
    assert local.is_superuser == superuser and local.is_staff == superuser
    assert not UserSocialAuth.objects.filter(user=local).exists()
    assert not WikiIdentity.objects.filter(user=local).exists()
    assert not AccessToken.objects.filter(user=local).exists()


# -- 1. a second wiki account signed in from a signed-in browser ------------------------------------------


def test_signing_in_with_a_second_wiki_account_switches_and_never_merges(login, site_client, client_factory):
    login(site_client, "Alice")
    alice = signed_in_user(site_client)
    alice_token = AccessToken.objects.get(user=alice).get_credentials().key

    response = login(site_client, "Bob")  # still signed in as Alice

    assert response.status_code == 302 and response["Location"] == "/profile/"
    bob = signed_in_user(site_client)
    assert bob.pk != alice.pk and bob.username == "Bob"
    alice.refresh_from_db()
    assert alice.username == "Alice"
    assert list(UserSocialAuth.objects.filter(user=alice).values_list("uid", flat=True)) == [ALICE_SUB]
    assert list(UserSocialAuth.objects.filter(user=bob).values_list("uid", flat=True)) == [BOB_SUB]
    assert mwsso.identity_for(alice).username == "Alice" and mwsso.identity_for(bob).username == "Bob"
    assert AccessToken.objects.get(user=alice).get_credentials().key == alice_token
    assert_one_user_per_wiki_account()
    # From any browser, each wiki account still signs in to its own user.
    other = client_factory()
    login(other, "Alice")
    assert signed_in_user(other).pk == alice.pk
    # The admin's verify action and `mwsso_tokens verify` see each token as its own user's.
    for user, name in ((alice, "Alice"), (bob, "Bob")):
        result = verify_token(AccessToken.objects.get(user=user))
        assert (result.status, result.username) == (AccessToken.Status.VALID, name)


def test_signing_in_again_as_the_same_wiki_account_keeps_the_user(login, site_client):
    login(site_client, "Alice")
    alice = signed_in_user(site_client)
    login(site_client, "Alice")
    assert signed_in_user(site_client).pk == alice.pk
    assert User.objects.count() == 1 and UserSocialAuth.objects.count() == 1


def test_a_switch_signs_the_previous_user_out(login, site_client):
    from django.contrib.auth.signals import user_logged_out

    seen = []

    def receiver(sender, request, user, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(user.username)

    user_logged_out.connect(receiver)
    try:
        login(site_client, "Alice")
        login(site_client, "Bob")
    finally:
        user_logged_out.disconnect(receiver)
    assert seen == ["Alice"]
    assert signed_in_user(site_client).username == "Bob"


def test_a_switch_still_follows_next(login, site_client):
    login(site_client, "Alice")
    started = start_login(site_client, next_url="/profile/?after=switch")
    response = site_client.get(allowed_callback(started, "Bob"))
    assert response.status_code == 302 and response["Location"] == "/profile/?after=switch"
    assert signed_in_user(site_client).username == "Bob"


# -- 2. a local superuser's "Sign in again" ----------------------------------------------------------------


def test_a_signed_in_superuser_who_signs_in_with_the_wiki_is_never_taken_over(login, site_client, client_factory):
    admin = User.objects.create_superuser("admin", "admin@example.org", "admin-password")
    assert site_client.login(username="admin", password="admin-password")
    # The demo profile offers "Sign in again" to a user with no token: the same POST as that button.
    assert "/login/mediawiki/" in site_client.get("/profile/").content.decode()

    response = login(site_client, "Alice")

    assert response.status_code == 302
    alice = signed_in_user(site_client)
    assert alice.pk != admin.pk and alice.username == "Alice" and not alice.is_superuser
    assert_untouched_local_account(admin, "admin-password", superuser=True)
    # Alice, from anywhere, signs in to her own user, never to the superuser.
    other = client_factory()
    login(other, "Alice")
    assert signed_in_user(other).pk == alice.pk
    assert_one_user_per_wiki_account()


def test_a_signed_in_local_account_with_the_wiki_users_name_is_never_touched(login, site_client):
    local = User.objects.create_user("Alice", password="local-password")
    assert site_client.login(username="Alice", password="local-password")
    login(site_client, "Alice")
    wiki_user = signed_in_user(site_client)
    assert wiki_user.pk != local.pk and wiki_user.username == "Alice~3"
    assert_untouched_local_account(local, "local-password")


# -- 3. a request token started in the victim's browser before the victim signs in --------------------------


@pytest.mark.parametrize("victim_signs_in", ["with a password", "with the wiki"])
def test_a_sign_in_started_before_the_victim_signs_in_cannot_be_finished(
    login, site_client, devwiki, victim_signs_in, caplog
):
    planted = start_login(site_client)  # someone at the victim's keyboard, before the victim signs in
    if victim_signs_in == "with a password":
        victim = User.objects.create_user("Victim", password="victim-password")
        assert site_client.login(username="Victim", password="victim-password")
    else:
        login(site_client, "Alice")
        victim = signed_in_user(site_client)
    link = allowed_callback(planted, "Bob")  # the attacker allows it as their own wiki account

    response = site_client.get(link)  # the victim opens the link they were sent

    assert response.status_code == 400 and "no_pending_login" in response.content.decode()
    assert signed_in_user(site_client).pk == victim.pk
    assert not UserSocialAuth.objects.filter(uid=BOB_SUB).exists()
    assert not User.objects.filter(username="Bob").exists()
    if victim_signs_in == "with a password":
        assert_untouched_local_account(victim, "victim-password")
    else:
        victim.refresh_from_db()
        assert victim.username == "Alice"
        assert list(UserSocialAuth.objects.filter(user=victim).values_list("uid", flat=True)) == [ALICE_SUB]
    assert_one_user_per_wiki_account()


def test_a_sign_in_started_before_signing_out_cannot_be_finished(login, site_client):
    login(site_client, "Alice")
    planted = start_login(site_client)
    site_client.post("/logout/")
    response = site_client.get(allowed_callback(planted, "Bob"))
    assert response.status_code == 400 and "no_pending_login" in response.content.decode()
    assert signed_in_user(site_client) is None and not User.objects.filter(username="Bob").exists()


def test_a_sign_in_started_while_signed_in_switches_to_the_wiki_accounts_own_user(login, site_client):
    # Started by the signed-in person in this session: it ends as a switch, like a sign-in from a signed-out
    # browser, and never links Bob to Alice's user.
    login(site_client, "Alice")
    alice = signed_in_user(site_client)
    started = start_login(site_client)
    assert site_client.get(allowed_callback(started, "Bob")).status_code == 302
    assert signed_in_user(site_client).username == "Bob"
    assert list(UserSocialAuth.objects.filter(user=alice).values_list("uid", flat=True)) == [ALICE_SUB]
    assert_one_user_per_wiki_account()


# -- pending handshakes end with the session's user -----------------------------------------------------------

OAUTH2_KEYS = {
    # social-core's BaseOAuth2 / BaseOAuth2PKCE session keys for the OAuth 2.0 backend's name.
    "mediawiki-oauth2_state": "s" * 32,
    "mediawiki-oauth2_oauth2_state_abc": {"state": "abc", "timestamp": 1, "code_verifier": "v" * 43},
    "mediawiki-oauth2_oauth2_transaction_index": {"abc": 1},
    "mediawiki-oauth2_code_verifier": "v" * 43,
}


def test_oauth2_state_and_pkce_verifiers_are_dropped_at_sign_in(login, site_client):
    session = site_client.session
    session.update({**OAUTH2_KEYS, "unrelated": "kept", "mediawiki-oauth2_statement": "kept too"})
    session.save()
    login(site_client, "Alice")
    after = site_client.session
    assert not set(OAUTH2_KEYS) & set(after.keys()) and PENDING not in after
    assert after["unrelated"] == "kept" and after["mediawiki-oauth2_statement"] == "kept too"


def test_other_tabs_pending_sign_ins_end_with_a_sign_in(login, site_client):
    other_tab = start_login(site_client)
    login(site_client, "Alice")
    assert PENDING not in site_client.session
    response = site_client.get(allowed_callback(other_tab, "Alice"))
    assert response.status_code == 400 and "no_pending_login" in response.content.decode()


def test_handshake_keys_are_recognised_by_backend_name() -> None:
    names = ("mediawiki", "mediawiki-oauth2")
    assert all(is_handshake_key(key, names) for key in [PENDING, "partial_pipeline_token", *OAUTH2_KEYS])
    assert not any(
        is_handshake_key(key, names)
        for key in [
            "_auth_user_id",
            "next",
            "mediawiki-oauth2_statement",
            "other_state",
            "social_auth_last_login_backend",
        ]
    )


def test_drop_pending_handshakes_leaves_other_session_data(settings) -> None:
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    session = SessionStore()
    session.update({**OAUTH2_KEYS, PENDING: ["oauth_token=a&oauth_token_secret=b"], "next": "/x/"})
    assert sorted(drop_pending_handshakes(session)) == sorted([*OAUTH2_KEYS, PENDING])
    assert dict(session.items()) == {"next": "/x/"}


# -- the pipeline itself refuses a user that is not the wiki account's -----------------------------------------


@pytest.mark.parametrize("linked_to", ["nothing", "another wiki account"])
def test_the_pipeline_refuses_to_attach_a_wiki_account_to_another_user(linked_to) -> None:
    local = User.objects.create_user("someone", password="pw")
    other = None
    if linked_to == "another wiki account":
        other = UserSocialAuth.objects.create(user=local, provider="mediawiki", uid=ALICE_SUB)
    identity = Identity(
        sub=BOB_SUB,
        username="Bob",
        issuer="http://127.0.0.1",
        editcount=1,
        confirmed_email=True,
        blocked=False,
        registered=None,
    )
    with pytest.raises(AccountNotLinked):
        create_or_update_user(None, BOB_SUB, identity, user=local, social=None)
    with pytest.raises(AccountNotLinked):
        create_or_update_user(None, BOB_SUB, identity, user=local, social=other)
    local.refresh_from_db()
    assert local.username == "someone"
    assert list(UserSocialAuth.objects.filter(user=local).values_list("uid", flat=True)) == (
        [ALICE_SUB] if other else []
    )


def test_the_docs_way_to_find_accounts_merged_by_an_older_version() -> None:
    from pathlib import Path

    section = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    code = section.split("### Accounts merged by an older version", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    merged_user = User.objects.create_user("Alice")
    merged_user.set_unusable_password()
    merged_user.save()
    UserSocialAuth.objects.create(user=merged_user, provider="mediawiki", uid=ALICE_SUB)
    UserSocialAuth.objects.create(user=merged_user, provider="mediawiki", uid=BOB_SUB)
    superuser = User.objects.create_superuser("Zoë", "admin@example.org", "admin-password")
    taken = UserSocialAuth.objects.create(user=superuser, provider="mediawiki", uid="11")
    fine = User.objects.create_user("Newbie")
    fine.set_unusable_password()
    fine.save()
    UserSocialAuth.objects.create(user=fine, provider="mediawiki", uid="7")
    found: dict = {}
    exec(code, found)  # the documented snippet, as written
    assert list(found["merged"]) == [{"user": merged_user.pk, "n": 2}]
    assert [link.pk for link in found["taken_over"]] == [taken.pk]


def test_an_ordinary_sign_in_logs_no_dropped_handshake(login, site_client, caplog) -> None:
    # The finished handshake leaves only an empty list: nothing unfinished was dropped, so nothing to say.
    with caplog.at_level("INFO", logger="mwsso.login"):
        assert login(site_client, "Alice").status_code == 302
    assert not [r for r in caplog.records if "handshake" in r.getMessage()]
