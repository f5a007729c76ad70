"""Migration 0003: stored rows move from the old key (the server alone) to the wiki's server and script path, and back.

Run on SQLite, PostgreSQL and MariaDB (``DATABASE_URL``): the rows are written at 0002 with the models of
that state, migrated forward, checked with the models of 0003's state, and migrated back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.migration_states import at_migration, migrate

BEFORE = ("mwsso", "0002_accesstoken_oauth2")
AFTER = ("mwsso", "0003_wiki_key")

# (username, token: (old wiki, wiki_url) or None, identity: (old wiki, sub) or None, expected new key of each)
ROWS = [
    # A Wikimedia-style wiki under /w.
    (
        "alice",
        ("http://wiki.example", "http://wiki.example/w/index.php"),
        ("http://wiki.example", "3"),
        "http://wiki.example/w",
    ),
    # Two wikis of one farm, one server: under the old key the same wiki.
    (
        "farm-a",
        ("https://farm.example", "https://farm.example/a/w/index.php"),
        ("https://farm.example", "5"),
        "https://farm.example/a/w",
    ),
    (
        "farm-b",
        ("https://farm.example", "https://farm.example/b/w/index.php"),
        ("https://farm.example", "6"),
        "https://farm.example/b/w",
    ),
    # A wiki at the server root keeps its key.
    (
        "root",
        ("http://root.example:8080", "http://root.example:8080/index.php"),
        ("http://root.example:8080", "9"),
        "http://root.example:8080",
    ),
    # Stored under MWSSO_IDENTIFY_ISSUER: the key comes from the URL the token is used with.
    (
        "issuer",
        ("http://canonical.example", "https://canonical.example/w/index.php"),
        ("http://canonical.example", "4"),
        "https://canonical.example/w",
    ),
]
# Identities without a token: one old key that meant one wiki maps; one that meant two (the farm) stays.
LONE = [
    ("lone", ("http://wiki.example", "7"), "http://wiki.example/w"),
    ("farm-lone", ("https://farm.example", "8"), "https://farm.example"),
]


@pytest.fixture
def at_0002() -> Iterator[Any]:
    yield from at_migration(BEFORE)


@pytest.mark.django_db(transaction=True)
def test_the_migration_rekeys_rows_by_their_wiki_url_and_back(at_0002):
    users, tokens, identities = (
        at_0002.get_model(*name) for name in (("auth", "User"), ("mwsso", "AccessToken"), ("mwsso", "WikiIdentity"))
    )
    for name, token, identity, _key in ROWS:
        user = users.objects.create(username=name)
        tokens.objects.create(
            user=user,
            wiki=token[0],
            wiki_url=token[1],
            consumer_key="c",
            encrypted="x",
            key_id="k",
            fingerprint=name[:16],
        )
        identities.objects.create(user=user, wiki=identity[0], sub=identity[1], username=name)
    for name, (wiki, sub), _key in LONE:
        identities.objects.create(user=users.objects.create(username=name), wiki=wiki, sub=sub, username=name)
    # The same user twice under two old keys of one wiki (the issuer override was set, then unset):
    # the second cannot take the key the first took, and keeps its old one.
    twice = users.objects.create(username="twice")
    for wiki in ("http://twice.example", "https://twice.example"):
        tokens.objects.create(
            user=twice,
            wiki=wiki,
            wiki_url="https://twice.example/w/index.php",
            consumer_key="c",
            encrypted="x",
            key_id="k",
            fingerprint=wiki[-12:],
        )

    # Checked with the models as 0003 left them (later migrations add columns that 0003's tables lack).
    after = migrate(AFTER)
    new_tokens, new_identities = after.get_model("mwsso", "AccessToken"), after.get_model("mwsso", "WikiIdentity")
    for name, _token, _identity, key in ROWS:
        assert new_tokens.objects.get(user__username=name).wiki == key
        assert new_identities.objects.get(user__username=name).wiki == key
    for name, _identity, key in LONE:
        assert new_identities.objects.get(user__username=name).wiki == key
    twice_keys = sorted(new_tokens.objects.filter(user__username="twice").values_list("wiki", flat=True))
    assert twice_keys == ["https://twice.example", "https://twice.example/w"]

    migrate(BEFORE)
    assert sorted(tokens.objects.values_list("user__username", "wiki")) == [
        ("alice", "http://wiki.example"), ("farm-a", "https://farm.example"), ("farm-b", "https://farm.example"),
        ("issuer", "https://canonical.example"), ("root", "http://root.example:8080"),
        # Back, the moved one would take the key its user's other row kept: it stays as it is.
        ("twice", "https://twice.example"), ("twice", "https://twice.example/w"),
    ]  # fmt: skip
    assert dict(identities.objects.values_list("user__username", "wiki")) == {
        "alice": "http://wiki.example", "farm-a": "https://farm.example", "farm-b": "https://farm.example",
        "issuer": "https://canonical.example", "root": "http://root.example:8080", "lone": "http://wiki.example",
        "farm-lone": "https://farm.example",
    }  # fmt: skip
