"""Access policies and group mapping through the whole sign-in against the local wiki (real HTTP)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from social_django.models import UserSocialAuth

from mwsso import signals
from mwsso.backends import MediaWikiOAuth
from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.identity import Identity
from tests.conftest import TEST_CONSUMER_SECRET

pytestmark = pytest.mark.django_db(transaction=False)
User = get_user_model()


def host(devwiki: Any) -> str:
    return devwiki.server_url.split("://", 1)[1]


def signed_in_username(client: Any) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "social": UserSocialAuth.objects.count(),
        "identities": WikiIdentity.objects.count(),
        "tokens": AccessToken.objects.count(),
    }


def set_wiki_groups(devwiki: Any, name: str, groups: list[str]) -> None:
    """Change a user's explicit groups on the wiki between two logins (as a bureaucrat would)."""
    devwiki.store.update_user(devwiki.store.user(name), groups=groups)


def refusal_text(response: Any) -> str:
    """The refusal the error page shows (its ``mwsso-error-refusal`` paragraph), unescaped."""
    assert response.status_code == 403, response.content[:500]
    page = response.content.decode()
    assert TEST_CONSUMER_SECRET not in page
    match = re.search(r'<p class="mwsso-error-refusal"><strong>(.*?)</strong></p>', page, re.S)
    assert match, page
    return html.unescape(match.group(1))


@pytest.fixture
def sent() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Every identity_refreshed and login_refused sent during the test, with its arguments."""
    calls: dict[str, list[dict[str, Any]]] = {"refreshed": [], "refused": []}

    def on_refreshed(sender: Any, **kwargs: Any) -> None:
        calls["refreshed"].append({"sender": sender, **kwargs})

    def on_refused(sender: Any, **kwargs: Any) -> None:
        calls["refused"].append({"sender": sender, **kwargs})

    signals.identity_refreshed.connect(on_refreshed)
    signals.login_refused.connect(on_refused)
    yield calls
    signals.identity_refreshed.disconnect(on_refreshed)
    signals.login_refused.disconnect(on_refused)


# --- blocked users -----------------------------------------------------------------


def test_blocked_user_is_refused_naming_the_wiki_and_nothing_is_written(login, site_client, devwiki, sent):
    before = row_counts()
    response = login(site_client, "Mallory")
    text = refusal_text(response)
    assert f"Your account is blocked on {host(devwiki)}." in text
    assert signed_in_username(site_client) is None
    assert row_counts() == before == {"users": 0, "social": 0, "identities": 0, "tokens": 0}
    [refused] = sent["refused"]
    assert refused["sender"] is MediaWikiOAuth
    assert isinstance(refused["identity"], Identity)
    assert (refused["identity"].username, refused["identity"].blocked) == ("Mallory", True)
    assert refused["reason"] == f"Your account is blocked on {host(devwiki)}."
    assert sent["refreshed"] == []


def test_blocked_user_may_sign_in_when_allowed(login, site_client, settings):
    settings.MWSSO_BLOCKED_USERS = "allow"
    assert login(site_client, "Mallory").status_code == 302
    assert signed_in_username(site_client) == "Mallory"
    assert WikiIdentity.objects.get().blocked is True


def test_signed_in_user_blocked_since_is_refused_and_signed_out(login, site_client, devwiki, sent):
    assert login(site_client, "Alice").status_code == 302
    old_session = site_client.session.session_key
    token_before = AccessToken.objects.values().get()
    devwiki.control("block", user="Alice", blocked=True)
    text = refusal_text(login(site_client, "Alice"))  # same browser, still signed in
    assert f"Your account is blocked on {host(devwiki)}." in text
    assert signed_in_username(site_client) is None
    assert not Session.objects.filter(session_key=old_session).exists()
    # The refused login changed nothing: the user stays, its identity and token are as before.
    assert WikiIdentity.objects.get().blocked is False
    assert AccessToken.objects.values().get() == token_before
    assert [call["identity"].username for call in sent["refused"]] == ["Alice"]


def test_someone_else_signed_in_stays_signed_in_when_a_blocked_account_is_refused(login, site_client, devwiki):
    login(site_client, "Bob")
    text = refusal_text(login(site_client, "Mallory"))
    assert "blocked" in text
    assert signed_in_username(site_client) == "Bob"
    assert not UserSocialAuth.objects.filter(uid="5").exists()


def test_unblocked_user_signs_in_again(login, site_client, devwiki):
    devwiki.control("block", user="Alice", blocked=True)
    refusal_text(login(site_client, "Alice"))
    devwiki.control("block", user="Alice", blocked=False)
    assert login(site_client, "Alice").status_code == 302
    assert signed_in_username(site_client) == "Alice"


# --- eligibility rules, each alone ----------------------------------------------------


def test_min_editcount(login, site_client, devwiki, settings):
    settings.MWSSO_MIN_EDITCOUNT = 100
    text = refusal_text(login(site_client, "Newbie"))
    assert f"You need at least 100 edits on {host(devwiki)}; you have 0." in text
    assert row_counts()["users"] == 0
    assert login(site_client, "Alice").status_code == 302  # 1234 edits
    assert signed_in_username(site_client) == "Alice"


def test_min_account_age(login, site_client, devwiki, settings):
    settings.MWSSO_MIN_ACCOUNT_AGE_DAYS = 30
    text = refusal_text(login(site_client, "Newbie"))  # registered today
    assert f"Your account on {host(devwiki)} must be at least 30 days old; it is less than a day old." in text
    assert login(site_client, "Admin Sysop").status_code == 302  # registered 2008


def test_require_confirmed_email(login, site_client, devwiki, settings):
    settings.MWSSO_REQUIRE_CONFIRMED_EMAIL = True
    text = refusal_text(login(site_client, "Newbie"))
    assert f"You need a confirmed email address on {host(devwiki)}" in text
    assert login(site_client, "Alice").status_code == 302


def test_required_grants(login, site_client, devwiki, settings):
    settings.MWSSO_REQUIRED_GRANTS = ["editpage"]  # the test consumer asks for it
    assert login(site_client, "Alice").status_code == 302
    site_client.post("/logout/")
    settings.MWSSO_REQUIRED_GRANTS = ["editpage", "uploadfile"]
    text = refusal_text(login(site_client, "Alice"))
    assert f"This site needs permissions you have not granted it on {host(devwiki)}: uploadfile." in text


# --- rules in combination -------------------------------------------------------------


@pytest.fixture
def strict(settings):  # type: ignore[no-untyped-def]
    settings.MWSSO_MIN_EDITCOUNT = 100
    settings.MWSSO_MIN_ACCOUNT_AGE_DAYS = 30
    settings.MWSSO_REQUIRE_CONFIRMED_EMAIL = True
    settings.MWSSO_REQUIRED_GRANTS = ["editpage"]
    return settings


def test_new_user_is_told_every_unmet_rule(login, site_client, devwiki, strict, sent):
    text = refusal_text(login(site_client, "Newbie"))
    wiki = host(devwiki)
    for text in (
        f"You need at least 100 edits on {wiki}; you have 0.",
        f"Your account on {wiki} must be at least 30 days old",
        f"You need a confirmed email address on {wiki}",
    ):
        assert text in text
    assert "granted" not in text  # the grant rule is met
    [refused] = sent["refused"]
    assert refused["reason"].startswith(f"You need at least 100 edits on {wiki}; you have 0. Your account on {wiki}")
    assert row_counts() == {"users": 0, "social": 0, "identities": 0, "tokens": 0}


def test_blocked_user_is_told_only_about_the_block(login, site_client, devwiki, strict):
    text = refusal_text(login(site_client, "Mallory"))  # 12 edits, no confirmed email, and blocked
    assert f"Your account is blocked on {host(devwiki)}." in text
    assert "edits" not in text and "email" not in text


@pytest.mark.parametrize("user", ["Alice", "Admin Sysop"])
def test_experienced_users_meet_every_rule(login, site_client, strict, user):
    assert login(site_client, user).status_code == 302
    assert signed_in_username(site_client) == user


def test_user_meeting_some_rules_is_told_the_rest(login, site_client, devwiki, strict):
    devwiki.control("add_user", name="Carol", editcount=150, registered="now", email_confirmed=True)
    text = refusal_text(login(site_client, "Carol"))
    assert "must be at least 30 days old" in text
    assert "edits" not in text and "email" not in text


# --- the site's own hook ----------------------------------------------------------------

HOOK_SEEN: list[Identity] = []


def no_bobs(identity: Identity) -> str | None:
    HOOK_SEEN.append(identity)
    return "Accounts named Bob are not welcome here." if identity.username == "Bob" else None


def test_eligibility_hook(login, site_client, devwiki, settings, sent):
    HOOK_SEEN.clear()
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy_login.no_bobs"
    text = refusal_text(login(site_client, "Bob"))
    assert "Accounts named Bob are not welcome here." in text
    assert [call["reason"] for call in sent["refused"]] == ["Accounts named Bob are not welcome here."]
    assert row_counts()["users"] == 0
    assert login(site_client, "Alice").status_code == 302
    assert [(i.username, i.sub, i.issuer) for i in HOOK_SEEN] == [
        ("Bob", "4", devwiki.server_url),
        ("Alice", "3", devwiki.server_url),
    ]


def test_hook_is_not_asked_about_users_the_rules_refuse(login, site_client, settings):
    HOOK_SEEN.clear()
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy_login.no_bobs"
    refusal_text(login(site_client, "Mallory"))
    assert HOOK_SEEN == []


# --- group mapping -------------------------------------------------------------------

GROUP_MAP = {"sysop": "Wiki admins", "bureaucrat": "Wiki admins", "autoconfirmed": "Editors"}


def django_groups(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_groups_are_created_and_mapped(login, site_client, settings):
    settings.MWSSO_GROUP_MAP = GROUP_MAP
    assert not Group.objects.exists()
    login(site_client, "Admin Sysop")
    assert django_groups("Admin Sysop") == {"Wiki admins", "Editors"}
    assert set(Group.objects.values_list("name", flat=True)) == {"Wiki admins", "Editors"}
    site_client.post("/logout/")
    login(site_client, "Newbie")  # not autoconfirmed, no explicit groups
    assert django_groups("Newbie") == set()


def test_demotion_and_promotion_across_logins(login, site_client, devwiki, settings):
    settings.MWSSO_GROUP_MAP = GROUP_MAP
    login(site_client, "Admin Sysop")
    user = User.objects.get(username="Admin Sysop")
    local = Group.objects.create(name="Local reviewers")  # the site's own group, not in the map
    user.groups.add(local)

    set_wiki_groups(devwiki, "Admin Sysop", [])
    site_client.post("/logout/")
    login(site_client, "Admin Sysop")
    assert django_groups("Admin Sysop") == {"Editors", "Local reviewers"}

    set_wiki_groups(devwiki, "Admin Sysop", ["bureaucrat"])
    site_client.post("/logout/")
    login(site_client, "Admin Sysop")
    assert django_groups("Admin Sysop") == {"Wiki admins", "Editors", "Local reviewers"}
    assert Group.objects.filter(name="Wiki admins").count() == 1


def test_promotion_of_an_ordinary_user(login, site_client, devwiki, settings):
    settings.MWSSO_GROUP_MAP = GROUP_MAP
    login(site_client, "Alice")
    assert django_groups("Alice") == {"Editors"}
    set_wiki_groups(devwiki, "Alice", ["sysop"])
    site_client.post("/logout/")
    login(site_client, "Alice")
    assert django_groups("Alice") == {"Wiki admins", "Editors"}


def test_unchanged_groups_cost_one_query_and_no_write(login, site_client, settings):
    settings.MWSSO_GROUP_MAP = GROUP_MAP
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    settings.MWSSO_SUPERUSER_GROUPS = ["sysop"]
    login(site_client, "Admin Sysop")
    site_client.post("/logout/")
    with CaptureQueriesContext(connection) as queries:
        assert login(site_client, "Admin Sysop").status_code == 302
    group_sql = [q["sql"] for q in queries if "auth_group" in q["sql"] or "auth_user_groups" in q["sql"]]
    assert len(group_sql) == 1 and group_sql[0].startswith("SELECT"), group_sql
    flag_writes = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "is_staff" in q["sql"]]
    assert flag_writes == []


def test_nothing_is_touched_without_a_map(login, site_client, settings):
    login(site_client, "Admin Sysop")
    assert django_groups("Admin Sysop") == set()
    assert not Group.objects.exists()


# --- staff and superuser ---------------------------------------------------------------


def flags(username: str) -> tuple[bool, bool]:
    user = User.objects.get(username=username)
    return user.is_staff, user.is_superuser


def test_staff_and_superuser_granted_and_revoked(login, site_client, devwiki, settings):
    settings.MWSSO_STAFF_GROUPS = ["sysop", "bureaucrat"]
    settings.MWSSO_SUPERUSER_GROUPS = ["bureaucrat"]
    login(site_client, "Admin Sysop")
    assert flags("Admin Sysop") == (True, True)
    assert site_client.get("/admin/").status_code == 200

    set_wiki_groups(devwiki, "Admin Sysop", ["sysop"])
    site_client.post("/logout/")
    login(site_client, "Admin Sysop")
    assert flags("Admin Sysop") == (True, False)

    set_wiki_groups(devwiki, "Admin Sysop", [])
    site_client.post("/logout/")
    login(site_client, "Admin Sysop")
    assert flags("Admin Sysop") == (False, False)
    assert site_client.get("/admin/").status_code == 302  # to the admin's login page


def test_ordinary_user_is_neither_staff_nor_superuser_until_promoted(login, site_client, devwiki, settings):
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    settings.MWSSO_SUPERUSER_GROUPS = ["sysop"]
    login(site_client, "Alice")
    assert flags("Alice") == (False, False)
    set_wiki_groups(devwiki, "Alice", ["sysop"])
    site_client.post("/logout/")
    login(site_client, "Alice")
    assert flags("Alice") == (True, True)


def test_flags_are_left_to_the_site_when_the_settings_are_empty(login, site_client, settings):
    login(site_client, "Alice")
    User.objects.filter(username="Alice").update(is_staff=True, is_superuser=True)  # made superuser locally
    site_client.post("/logout/")
    login(site_client, "Alice")
    assert flags("Alice") == (True, True)


def test_only_the_configured_flag_is_managed(login, site_client, settings):
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    login(site_client, "Alice")
    User.objects.filter(username="Alice").update(is_staff=True, is_superuser=True)
    site_client.post("/logout/")
    login(site_client, "Alice")
    assert flags("Alice") == (False, True)


# --- identity_refreshed --------------------------------------------------------------------


def test_identity_refreshed_after_each_login(login, site_client, devwiki, sent):
    login(site_client, "Alice")
    site_client.post("/logout/")
    login(site_client, "Alice")
    user = User.objects.get(username="Alice")
    assert [(c["sender"], c["user"], c["created"]) for c in sent["refreshed"]] == [
        (MediaWikiOAuth, user, True),
        (MediaWikiOAuth, user, False),
    ]
    identity = sent["refreshed"][-1]["identity"]
    assert isinstance(identity, Identity)
    assert (identity.username, identity.sub, identity.issuer, identity.editcount) == (
        "Alice",
        "3",
        devwiki.server_url,
        1234,
    )
    assert sent["refused"] == []


def test_identity_refreshed_sees_the_synced_user(login, site_client, settings):
    settings.MWSSO_GROUP_MAP = GROUP_MAP
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    seen: list[tuple[bool, set[str], bool]] = []

    def receiver(sender: Any, user: Any, identity: Identity, created: bool, **kwargs: Any) -> None:
        seen.append(
            (
                user.is_staff,
                set(user.groups.values_list("name", flat=True)),
                AccessToken.objects.filter(user=user).exists(),
            )
        )

    signals.identity_refreshed.connect(receiver)
    try:
        login(site_client, "Admin Sysop")
    finally:
        signals.identity_refreshed.disconnect(receiver)
    assert seen == [(True, {"Wiki admins", "Editors"}, True)]
