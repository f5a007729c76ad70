"""Moving between keys loses no token: the development default (a key derived from SECRET_KEY) → MWSSO_TOKEN_KEYS,
and SECRET_KEY rotated with SECRET_KEY_FALLBACKS. Real tokens from the local wiki, real API calls with them."""

from __future__ import annotations

import io
import re

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from mwsso import api, crypto
from mwsso.checks.config import check_token_key_dependence
from mwsso.models import AccessToken
from mwsso.tokens import key_usage, rotate_keys

User = get_user_model()
NEW_KEY = Fernet.generate_key().decode()
OLD_SECRET = "tests-only-secret-key-0123456789abcdef0123456789abcdef"
NEW_SECRET = "rotated-secret-key-9876543210fedcba9876543210fedcba-rotated"
WIKI_USERS = {"Alice": 3, "Bob": 4, "Zoë Ünïcode-Test": 11}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mwsso_tokens", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def database_checks() -> dict[str, str]:
    """What ``manage.py check --database default`` says, by check id."""
    found = checks.run_checks(databases=["default"])
    return {message.id: f"{message.msg} {message.hint}" for message in found if message.id.startswith("mwsso.W02")}


def acts_as(username: str) -> None:
    """A signed API call with the user's stored token: the wiki must say who it is."""
    user = User.objects.get(wiki_identities__username=username)
    userinfo = api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]
    assert (userinfo["name"], userinfo["id"]) == (username, WIKI_USERS[username])


@pytest.fixture
def default_keys(wiki_settings, login, client_factory):  # type: ignore[no-untyped-def]
    """Three users signed in on a site with no MWSSO_TOKEN_KEYS: their tokens are under the SECRET_KEY-derived key."""
    wiki_settings.MWSSO_TOKEN_KEYS = []
    wiki_settings.SECRET_KEY = OLD_SECRET
    wiki_settings.SECRET_KEY_FALLBACKS = []
    for name in WIKI_USERS:
        assert login(client_factory(), name).status_code == 302
    derived = crypto.key_id(crypto.derived_key(OLD_SECRET))
    assert set(AccessToken.objects.values_list("key_id", flat=True)) == {derived}
    return wiki_settings


@pytest.mark.django_db(transaction=True)
def test_setting_explicit_keys_loses_no_token_and_rotate_keys_frees_secret_key(default_keys):
    settings = default_keys
    assert database_checks() == {}  # the derived key is the one that encrypts: W001 warns about that, not W020
    old_id = crypto.key_id(crypto.derived_key(OLD_SECRET))

    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    for name in WIKI_USERS:
        acts_as(name)  # still readable: the SECRET_KEY-derived key decrypts after the configured ones
    warned = database_checks()
    assert set(warned) == {"mwsso.W020"}
    assert "3 access tokens" in warned["mwsso.W020"] and "derived from SECRET_KEY (3)" in warned["mwsso.W020"]
    assert "manage.py mwsso_tokens rotate-keys" in warned["mwsso.W020"]

    out = run("rotate-keys", "--batch-size", "2")
    new_id = crypto.key_id(NEW_KEY)
    assert f"Re-encrypted 3 access tokens with MWSSO_TOKEN_KEYS[0] (key id {new_id})." in out
    assert f"MWSSO_TOKEN_KEYS[0], id {new_id}: 0 → 3 (encrypts)" in out
    assert f"derived from SECRET_KEY, id {old_id}: 3 → 0 (no token depends on SECRET_KEY any more)" in out
    assert NEW_KEY not in out and crypto.derived_key(OLD_SECRET) not in out
    assert set(AccessToken.objects.values_list("key_id", flat=True)) == {new_id}
    assert database_checks() == {}

    # The old SECRET_KEY-derived access is gone entirely (a new SECRET_KEY, no fallback): the calls still work.
    settings.SECRET_KEY = NEW_SECRET
    for name in WIKI_USERS:
        acts_as(name)
    # And a rerun has nothing left to do.
    assert "Re-encrypted 0 access tokens" in run("rotate-keys")


@pytest.mark.django_db(transaction=True)
def test_rotating_secret_key_with_fallbacks_loses_no_token(default_keys):
    settings = default_keys
    settings.SECRET_KEY = NEW_SECRET
    settings.SECRET_KEY_FALLBACKS = [OLD_SECRET]
    for name in WIKI_USERS:
        acts_as(name)
    warned = database_checks()
    assert set(warned) == {"mwsso.W020"}
    assert "derived from SECRET_KEY_FALLBACKS[0] (3)" in warned["mwsso.W020"]

    out = run("rotate-keys")
    old_id, new_id = crypto.key_id(crypto.derived_key(OLD_SECRET)), crypto.key_id(crypto.derived_key(NEW_SECRET))
    assert f"Re-encrypted 3 access tokens with the key derived from SECRET_KEY (key id {new_id})." in out
    assert f"derived from SECRET_KEY, id {new_id}: 0 → 3 (encrypts)" in out
    assert f"derived from SECRET_KEY_FALLBACKS[0], id {old_id}: 3 → 0 (no token depends on it any more)" in out
    assert database_checks() == {}

    settings.SECRET_KEY_FALLBACKS = []  # the old secret is gone
    for name in WIKI_USERS:
        acts_as(name)


@pytest.mark.django_db(transaction=True)
def test_without_the_change_the_tokens_are_lost(default_keys):
    # What the two tests above guard against: the token's key is gone when nothing derives it any more.
    default_keys.MWSSO_TOKEN_KEYS = [NEW_KEY]
    default_keys.SECRET_KEY = NEW_SECRET
    with pytest.raises(api.TokenUnusable):
        api.for_user(User.objects.get(username="Alice"))
    # Not spoiled: with the old secret as a fallback the very same row works again.
    default_keys.SECRET_KEY_FALLBACKS = [OLD_SECRET]
    acts_as("Alice")


@pytest.mark.django_db
def test_a_token_under_no_known_key_is_counted_and_left_untouched(settings):
    settings.MWSSO_TOKEN_KEYS = []
    settings.SECRET_KEY_FALLBACKS = []
    users = [User.objects.create(username=f"u{i}") for i in range(4)]
    lost = Fernet.generate_key().decode()
    for i, user in enumerate(users):
        keys = [lost] if i == 2 else []
        with override_settings(MWSSO_TOKEN_KEYS=keys):
            token = AccessToken(user=user, wiki="https://w.example", wiki_url="https://w.example/w/index.php")
            token.set_credentials(f"key-{i}-xxxxxxxxxxxx", f"secret-{i}-xxxxxxxxxxxxxxxxxxx")
            token.save()
    orphan = AccessToken.objects.get(user=users[2])
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    warned = database_checks()
    assert set(warned) == {"mwsso.W020", "mwsso.W021"}
    assert warned["mwsso.W021"].startswith("1 access tokens were encrypted with a key that is neither")

    with pytest.raises(CommandError, match=rf"Stopped: access token {orphan.pk} .*--skip-unreadable"):
        run("rotate-keys")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 access token cannot be decrypted") as caught:
        call_command("mwsso_tokens", "rotate-keys", "--skip-unreadable", stdout=out, stderr=io.StringIO())
    assert caught.value.returncode == 1
    report = out.getvalue()
    assert f"no known key, id {crypto.key_id(lost)}: 1 → 1 (no known key: cannot be decrypted)" in report
    assert "derived from SECRET_KEY, id" in report and ": 3 → 0" in report
    kept = AccessToken.objects.get(pk=orphan.pk)
    assert (kept.encrypted, kept.key_id, kept.status) == (orphan.encrypted, orphan.key_id, orphan.status)
    assert set(database_checks()) == {"mwsso.W021"}
    for i, user in enumerate(users):
        if i != 2:
            assert AccessToken.objects.get(user=user).get_credentials().secret.startswith(f"secret-{i}-")


@pytest.mark.django_db
def test_rotation_never_writes_a_token_it_could_not_read_even_if_its_key_id_lies(settings):
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    user = User.objects.create(username="u")
    token = AccessToken(user=user, wiki="https://w.example", wiki_url="https://w.example/w/index.php")
    with override_settings(MWSSO_TOKEN_KEYS=[Fernet.generate_key().decode()]):
        token.set_credentials("key-xxxxxxxxxxxx", "secret-xxxxxxxxxxxxxxxxxxx")
    token.key_id = crypto.key_id(crypto.derived_key(settings.SECRET_KEY))  # claims a key we have
    token.save()
    result = rotate_keys(skip_unreadable=True)
    assert result.rotated == 0 and result.unreadable == [token.pk]
    kept = AccessToken.objects.get(pk=token.pk)
    assert (kept.encrypted, kept.key_id) == (token.encrypted, token.key_id)


def test_the_decrypting_keys_are_labelled_and_never_shown(settings):
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY, "b2xkLXRlc3Qta2V5LTExMTExMTExMTExMTExMTExMTA="]
    settings.SECRET_KEY = NEW_SECRET
    settings.SECRET_KEY_FALLBACKS = [OLD_SECRET, NEW_SECRET]  # a duplicate is tried once, under its first name
    labels = [key.label for key in crypto.decryption_keys()]
    assert labels == [
        "MWSSO_TOKEN_KEYS[0]", "MWSSO_TOKEN_KEYS[1]", "derived from SECRET_KEY", "derived from SECRET_KEY_FALLBACKS[0]",
    ]  # fmt: skip
    assert crypto.primary_key().label == "MWSSO_TOKEN_KEYS[0]"
    assert all(key.key not in repr(key) for key in crypto.decryption_keys())
    settings.MWSSO_TOKEN_KEYS = []
    assert crypto.primary_key().label == "derived from SECRET_KEY"
    assert crypto.primary_key_id() == crypto.key_id(crypto.derived_key(NEW_SECRET))


def test_one_multifernet_per_settings_value_and_override_settings_still_works(settings):
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    sealed = crypto.encrypt("x")
    crypto._fernet_for.cache_clear()
    for _ in range(200):
        assert crypto.decrypt(sealed) == "x"
    info = crypto._fernet_for.cache_info()
    assert (info.misses, info.hits) == (1, 199)  # built once, not per call
    other = Fernet.generate_key().decode()
    with override_settings(MWSSO_TOKEN_KEYS=[other]):
        with pytest.raises(crypto.InvalidToken):
            crypto.decrypt(sealed)
        assert crypto.primary_key_id() == crypto.key_id(other)
    assert crypto.decrypt(sealed) == "x" and crypto.primary_key_id() == crypto.key_id(NEW_KEY)


@pytest.mark.django_db
def test_the_key_checks_never_query_without_a_database(settings, django_assert_num_queries):
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    user = User.objects.create(username="u")
    with override_settings(MWSSO_TOKEN_KEYS=[]):
        token = AccessToken(user=user, wiki="https://w.example", wiki_url="https://w.example/w/index.php")
        token.set_credentials("key-xxxxxxxxxxxx", "secret-xxxxxxxxxxxxxxxxxxx")
        token.save()
    # Django 6.1's model checks ask SQLite once per connection whether it has JSON (a cached feature probe,
    # "SELECT JSON(...)"): Django's, not one of mwsso's checks, and asked here before counting.
    assert connection.features.supports_json_field
    with django_assert_num_queries(0):
        # What plain ``manage.py check`` runs: database-tagged checks get no databases.
        assert check_token_key_dependence(databases=None) == []
        messages = checks.run_checks()
    assert not any(message.id.startswith("mwsso.W02") for message in messages)
    out = io.StringIO()
    call_command("check", "--database", "default", stdout=out, stderr=out)
    assert re.search(r"mwsso\.W020.*1 access tokens still depend", out.getvalue())


@pytest.mark.django_db
def test_key_usage_lists_derived_keys_only_while_in_use(settings):
    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    assert [u.label for u in key_usage()] == ["MWSSO_TOKEN_KEYS[0]"]
    settings.MWSSO_TOKEN_KEYS = []
    assert [(u.label, u.tokens) for u in key_usage()] == [("derived from SECRET_KEY", 0)]


def test_the_admin_names_a_derived_key_and_asks_for_rotate_keys(settings):
    from mwsso.admin.tokens import encryption_key_label

    settings.MWSSO_TOKEN_KEYS = [NEW_KEY]
    settings.SECRET_KEY = NEW_SECRET
    settings.SECRET_KEY_FALLBACKS = [OLD_SECRET]
    derived = crypto.key_id(crypto.derived_key(NEW_SECRET))
    fallback = crypto.key_id(crypto.derived_key(OLD_SECRET))
    assert encryption_key_label(crypto.key_id(NEW_KEY)).endswith("(key 1 of 1, current)")
    assert encryption_key_label(derived) == f"{derived} (derived from SECRET_KEY, old: run mwsso_tokens rotate-keys)"
    assert "derived from SECRET_KEY_FALLBACKS[0], old" in encryption_key_label(fallback)
    assert encryption_key_label("0123456789ab").endswith("(no known key: unreadable)")
    settings.MWSSO_TOKEN_KEYS = []
    assert encryption_key_label(derived) == f"{derived} (derived from SECRET_KEY, current)"
