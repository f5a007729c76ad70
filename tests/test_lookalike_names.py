"""A username's holder steps aside only for a user of its own wiki who now has exactly that name.

The attack (MariaDB, whose default collations ignore case and accents): wiki user "ÁLICE" signed in
and the database took the name for Alice's, so Alice was moved aside to "Alice~3", ``username="Alice"``
found the attacker, and each later sign-in of either flipped the names. The same holds across wikis:
a user of one wiki called Alice says nothing about the names of another. Run on MariaDB and PostgreSQL
(``DATABASE_URL``) as well as SQLite.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from social_django.models import UserSocialAuth

from mwsso.models import WikiIdentity
from tests import test_hostile
from tests.test_hostile import hostile_login

pytestmark = pytest.mark.django_db
User = get_user_model()
hostile = test_hostile.hostile  # the fixture, shared


def sign_in(hostile, client_factory, sub: str, name: str) -> int:  # type: ignore[no-untyped-def]
    hostile.claims.update(sub=sub, username=name)
    return hostile_login(client_factory(), hostile).status_code


def username_of(sub: str) -> str:
    return UserSocialAuth.objects.select_related("user").get(uid=sub).user.username


@pytest.mark.parametrize("look_alike", ["ÁLICE", "alice", "ALICE", "Alíce"])
def test_a_look_alike_name_never_moves_the_holder_aside(hostile, client_factory, caplog, look_alike):
    caplog.set_level("INFO")
    assert sign_in(hostile, client_factory, "3", "Alice") == 302
    for _ in range(2):  # each later sign-in of either leaves both names as they are
        assert sign_in(hostile, client_factory, "5", look_alike) == 302
        assert username_of("3") == "Alice"
        # Its own name where the database tells the two apart; suffixed where it takes them for one.
        assert username_of("5") in (look_alike, f"{look_alike}~5")
        assert sign_in(hostile, client_factory, "3", "Alice") == 302
    alice = UserSocialAuth.objects.get(uid="3").user
    assert User.objects.get(username="Alice").pk == alice.pk
    assert "moved stale username" not in caplog.text


def test_the_same_name_on_another_wiki_is_another_person(hostile, client_factory):
    # Alice of another wiki (signed in there with OAuth 2.0) holds the name.
    holder = User.objects.create(username="Alice")
    UserSocialAuth.objects.create(user=holder, provider="mediawiki-oauth2", uid="9", id_key="userID")
    WikiIdentity.objects.create(user=holder, wiki="https://other.example/w", sub="9", username="Alice")
    assert sign_in(hostile, client_factory, "5", "Alice") == 302
    holder.refresh_from_db()
    assert holder.username == "Alice" and username_of("5") == "Alice~5"


def test_a_renamed_holder_of_the_same_wiki_still_steps_aside(hostile, client_factory, caplog):
    caplog.set_level("INFO")
    assert sign_in(hostile, client_factory, "3", "Alice") == 302
    # The wiki renamed user 3 and gave the name to user 5: its word on its own names stands.
    assert sign_in(hostile, client_factory, "5", "Alice") == 302
    assert (username_of("3"), username_of("5")) == ("Alice~3", "Alice")
    assert "moved stale username 'Alice' of wiki user 3 aside for wiki user 5" in caplog.text
    assert sign_in(hostile, client_factory, "3", "Alice Old") == 302
    assert username_of("3") == "Alice Old"
