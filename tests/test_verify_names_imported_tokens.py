"""``mwsso_tokens verify`` fills in the wiki user of tokens imported from social-core's stock backend.

The imported tokens are real ones, left by a real stock sign-in (tests.test_import_social), so the wiki's
answer to verify is its own word on who each belongs to.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from social_django.models import UserSocialAuth

from mwsso.models import WikiIdentity
from tests.test_import_social import WIKI_IDS, run, stock_sign_in, stock_site, switch_to_mwsso  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def tokens(*args: str) -> str:
    out = io.StringIO()
    call_command("mwsso_tokens", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def wiki_users_listed() -> list[str]:
    """The "wiki user" column of ``mwsso_tokens list``, row by row."""
    header, *rows = tokens("list").splitlines()[:-1]
    start = header.index("wiki user")
    return [row[start:].split()[0] for row in rows]


def test_verify_stores_who_the_wiki_says_each_imported_token_belongs_to(stock_site):  # noqa: F811
    for name in ("Alice", "Bob"):
        stock_sign_in(name)
    switch_to_mwsso(stock_site)
    run()
    assert wiki_users_listed() == ["-", "-"]

    out = tokens("verify")
    assert "Stored the wiki user of 2 access tokens nobody had signed in with yet (imported)." in out
    assert "2 valid" in out
    assert wiki_users_listed() == ["Alice", "Bob"]
    alice = WikiIdentity.objects.get(username="Alice")
    assert (alice.sub, alice.user.social_auth.get().uid) == (str(WIKI_IDS["Alice"]), str(WIKI_IDS["Alice"]))
    assert alice.editcount > 0 and alice.groups and alice.rights and alice.grants

    # Once named, a token is left to sign-ins: a second verify stores nothing.
    assert "Stored the wiki user" not in tokens("verify")
    assert WikiIdentity.objects.count() == 2


def test_a_token_of_another_wiki_user_than_the_account_is_not_named(stock_site, caplog):  # noqa: F811
    stock_sign_in("Bob")
    switch_to_mwsso(stock_site)
    run()
    UserSocialAuth.objects.update(uid="999")  # the account says it is someone else
    caplog.set_level(logging.INFO, logger="mwsso")
    out = tokens("verify")
    assert "1 valid" in out and "Stored the wiki user" not in out
    assert not WikiIdentity.objects.exists()
    assert "identifies wiki user 4, but the user is linked to ['999']" in caplog.text
