"""Smaller holes: verify counts only what it wrote; ``--user`` selects one user; a bad callback uses its handshake up.

- A verify that raced a new sign-in said "1 revoked" of a token it left valid (the result was dropped).
- After a wiki rename, ``mwsso_tokens list --user Alice`` selected the old and the new Alice.
- A callback with a tampered ``oauth_verifier`` failed, yet the genuine callback then still signed in:
  the wiki's 502 kept Django from saving the session that had used the request token up.
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from mwsso_devwiki.testing import authorize

from mwsso.models import AccessToken, WikiIdentity
from mwsso.tokens import verify_tokens
from tests.conftest import TEST_CONSUMER_KEY, callback_path, start_login

User = get_user_model()
Status = AccessToken.Status


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mwsso_tokens", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# -- verify reports what it wrote ------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_verify_racing_a_new_sign_in_reports_what_it_wrote(login, site_client, devwiki):
    login(site_client, "Alice")
    token = AccessToken.objects.get()
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")  # the wiki will say "revoked"...
    devwiki.control("set_fault", step="identify", kind="slow", seconds=1.0)

    def new_sign_in() -> None:
        # ...of the old token, while a new sign-in stores a new one in its row.
        time.sleep(0.3)
        try:
            AccessToken.objects.filter(pk=token.pk).update(**AccessToken.credential_fields("new-key", "new-secret"))
        finally:
            connection.close()

    racer = threading.Thread(target=new_sign_in)
    racer.start()
    summary = verify_tokens(AccessToken.objects.all())
    racer.join()
    assert AccessToken.objects.get().status == Status.VALID  # the wiki's word on the old token was dropped...
    assert summary.counts[Status.REVOKED] == 0 and summary.problems == []  # ...and is not reported either
    assert (summary.done, summary.replaced, summary.exit_code) == (1, 1, 0)


# -- --user selects exactly one user -----------------------------------------------------------
@pytest.mark.django_db
def test_after_a_rename_user_selects_the_user_who_has_the_name_now(login, devwiki, client_factory):
    login(client_factory(), "Alice")
    devwiki.control("rename", sub="3", new_name="Alice Old")
    devwiki.control("rename", sub="4", new_name="Alice")  # Bob takes the name
    login(client_factory(), "Alice")
    bob, old_alice = (AccessToken.objects.get(user__social_auth__uid=uid) for uid in ("4", "3"))
    # Old Alice's identity still says "Alice" (she has not signed in since); her user stepped aside.
    assert WikiIdentity.objects.get(sub="3").username == "Alice" and old_alice.user.username == "Alice~3"
    listed = run("list", "--user", "Alice")
    assert bob.fingerprint in listed and old_alice.fingerprint not in listed and "1 access token" in listed
    assert old_alice.fingerprint in run("list", "--user", "Alice~3")
    assert "1 access token" not in run("list", "--user", "alice")  # exactly the name, whatever the collation


@pytest.mark.django_db
def test_a_wiki_username_of_two_users_is_ambiguous(wiki_settings):
    for name, wiki in (("carol-a", "https://a.example/w"), ("carol-b", "https://b.example/w")):
        user = User.objects.create_user(name)
        WikiIdentity.objects.create(user=user, wiki=wiki, sub="8", username="Carol")
        AccessToken.objects.create(
            user=user,
            wiki=wiki,
            wiki_url=f"{wiki}/index.php",
            consumer_key="c",
            **AccessToken.credential_fields(name, "s"),
        )
    for action in ("list", "verify"):
        with pytest.raises(CommandError, match=r"ambiguous.*carol-a, carol-b"):
            run(action, "--user", "Carol")
    assert "1 access token" in run("list", "--user", "carol-b")


# -- a bad callback uses the pending handshake up ----------------------------------------------------------
@pytest.mark.django_db
def test_a_tampered_verifier_uses_the_pending_sign_in_up(wiki_settings, devwiki, site_client, caplog):
    allowed = authorize(None, start_login(site_client), user="Alice")
    genuine = callback_path(allowed.headers["Location"])
    tampered = genuine.replace("oauth_verifier=", "oauth_verifier=x")
    refused = site_client.get(tampered)
    assert refused.status_code == 502 and "Sign-in failed" in refused.content.decode()  # the wiki refused it
    late = site_client.get(genuine)
    assert late.status_code == 400 and "callback_rejected" in late.content.decode()
    assert not User.objects.exists() and "_auth_user_id" not in site_client.session
    # A new sign-in from the same browser works.
    allowed = authorize(None, start_login(site_client), user="Alice")
    assert site_client.get(callback_path(allowed.headers["Location"])).status_code == 302
