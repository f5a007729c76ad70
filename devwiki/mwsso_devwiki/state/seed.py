"""The local wiki's seed: built-in consumers, OAuth 2.0 clients, users and pages, and the identify JWT variants.

The keys and secrets are public on purpose (docs/devwiki.md lists them): they belong to a wiki
that only ever runs on a developer's machine.
"""

from __future__ import annotations

from typing import Any

DEMO_CONSUMER_KEY = "9d1c6c1e8f3b4a7e9f2d5b6a8c0e1f23"
DEMO_CONSUMER_SECRET = "4b8e2f9a1c7d3e5f6a0b9c8d7e6f5a4b3c2d1e0f"
TEST_CONSUMER_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TEST_CONSUMER_SECRET = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3"
UNAPPROVED_CONSUMER_KEY = "badc0ffee0ddf00d1234567890abcdef"
UNAPPROVED_CONSUMER_SECRET = "1234567890abcdef1234567890abcdef12345678"
PRIVATE_CONSUMER_KEY = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
PRIVATE_CONSUMER_SECRET = "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5"

# OAuth 2.0 clients (rest.php/oauth2/*). The redirect URI must match exactly (no prefix option in
# OAuth 2.0); tests change the test client's through the control action oauth2_set_redirect_uri. The demo
# and public clients also take it on any port of 127.0.0.1 (any_loopback_port, a local-wiki convenience).
DEMO_OAUTH2_CLIENT_ID = "6f2a9c4e1b8d4e7fa3c5d0b9e8f7a6c1"
DEMO_OAUTH2_CLIENT_SECRET = "c3a1e5f7b9d2c4e6a8b0d1f3e5a7c9b2d4f6a8c0"
TEST_OAUTH2_CLIENT_ID = "7e3b0d5f2c9a4f8e94d6e1c0f9a8b7d2"
TEST_OAUTH2_CLIENT_SECRET = "d4b2f6a8c0e3d5f7b9a1c2e4f6a8b0c1e3f5a7b9"
# public (non-confidential): needs PKCE; the wiki still shows it a secret, needed for refresh
PUBLIC_OAUTH2_CLIENT_ID = "8f4c1e6a3d0b4a9fa5e7f2d1a0b9c8e3"
PUBLIC_OAUTH2_CLIENT_SECRET = "e5c3a7b9d1f4e6a8c0b2d3a5c7e9b1d2f4a6c8e0"
DEMO_OAUTH2_REDIRECT_URI = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"
TEST_OAUTH2_REDIRECT_URI = "http://127.0.0.1:9000/complete/mediawiki-oauth2/"

_PAGE_GRANTS = ["basic", "editpage", "createeditmovepage"]
_ANY_PORT_CALLBACK = "http://127.0.0.1:1/complete/mediawiki/"

BUILTIN_CONSUMERS: list[dict[str, Any]] = [
    {
        "key": DEMO_CONSUMER_KEY,
        "secret": DEMO_CONSUMER_SECRET,
        "name": "mwsso demo",
        "callback": _ANY_PORT_CALLBACK,
        "callback_is_prefix": True,
        "grants": _PAGE_GRANTS,
        "description": "The mwsso demo site (make run).",
    },
    {
        "key": TEST_CONSUMER_KEY,
        "secret": TEST_CONSUMER_SECRET,
        "name": "mwsso tests",
        "callback": _ANY_PORT_CALLBACK,
        "callback_is_prefix": True,
        "grants": _PAGE_GRANTS,
        "description": "Test suites; port 1 in the callback allows any port.",
    },
    {
        "key": UNAPPROVED_CONSUMER_KEY,
        "secret": UNAPPROVED_CONSUMER_SECRET,
        "name": "mwsso unapproved",
        "callback": _ANY_PORT_CALLBACK,
        "callback_is_prefix": True,
        "grants": ["basic", "editpage"],
        "approved": False,
        "description": "Proposed but never approved.",
    },
    {
        "key": PRIVATE_CONSUMER_KEY,
        "secret": PRIVATE_CONSUMER_SECRET,
        "name": "mwsso private info",
        "callback": _ANY_PORT_CALLBACK,
        "callback_is_prefix": True,
        "grants": ["mwoauth-authonlyprivate"],
        "description": "Authentication only, with real name and email address.",
    },
]

BUILTIN_OAUTH2_CLIENTS: list[dict[str, Any]] = [
    {
        "client_id": DEMO_OAUTH2_CLIENT_ID,
        "secret": DEMO_OAUTH2_CLIENT_SECRET,
        "name": "mwsso demo (OAuth 2.0)",
        "redirect_uri": DEMO_OAUTH2_REDIRECT_URI,
        "grants": _PAGE_GRANTS,
        "description": "The mwsso demo site (make run), confidential; any port of 127.0.0.1.",
        "any_loopback_port": True,
    },
    {
        "client_id": TEST_OAUTH2_CLIENT_ID,
        "secret": TEST_OAUTH2_CLIENT_SECRET,
        "name": "mwsso tests (OAuth 2.0)",
        "redirect_uri": TEST_OAUTH2_REDIRECT_URI,
        "grants": _PAGE_GRANTS,
        "description": "Test suites, confidential; set its redirect URI with oauth2_set_redirect_uri.",
    },
    {
        "client_id": PUBLIC_OAUTH2_CLIENT_ID,
        "secret": PUBLIC_OAUTH2_CLIENT_SECRET,
        "name": "mwsso public (OAuth 2.0)",
        "redirect_uri": DEMO_OAUTH2_REDIRECT_URI,
        "confidential": False,
        "grants": _PAGE_GRANTS,
        "description": "A public client: PKCE required; refresh needs the secret the wiki shows.",
        "any_loopback_port": True,
    },
]

BUILTIN_USERS: list[dict[str, Any]] = [
    {
        "sub": 1,
        "name": "Admin Sysop",
        "groups": ["bureaucrat", "interface-admin", "sysop"],
        "editcount": 50000,
        "registered": "20080115093000",
        "email": "admin@example.org",
        "email_confirmed": True,
        "realname": "Ada Sysop",
    },
    {
        "sub": 3,
        "name": "Alice",
        "editcount": 1234,
        "registered": "20150301120000",
        "email": "alice@example.org",
        "email_confirmed": True,
        "realname": "Alice Example",
    },
    {
        "sub": 4,
        "name": "Bob",
        "editcount": 87,
        "registered": "20190612080000",
        "email": "bob@example.org",
        "email_confirmed": True,
        "realname": "",
    },
    {
        "sub": 5,
        "name": "Mallory",
        "editcount": 12,
        "registered": "20200404040404",
        "email": "mallory@example.org",
        "email_confirmed": False,
        "blocked": True,
        "block_reason": "Vandalism",
    },
    {
        "sub": 7,
        "name": "Newbie",
        "editcount": 0,
        "registered": "now",
        "email": "newbie@example.org",
        "email_confirmed": False,
    },
    {
        "sub": 11,
        "name": "Zoë Ünïcode-Test",
        "editcount": 42,
        "registered": "20210909090909",
        "email": "zoe@example.org",
        "email_confirmed": True,
        "realname": "Zoë Ünïcode",
    },
]

_SEED_TITLES = [
    "Main Page",
    "Sandbox",
    "Apple",
    "Apricot",
    "Banana",
    "Blackberry",
    "Cherry",
    "Coconut",
    "Damson",
    "Date",
    "Elderberry",
    "Fig",
    "Gooseberry",
    "Grape",
    "Guava",
    "Kiwi",
    "Lemon",
    "Lime",
    "Mango",
    "Nectarine",
    "Orange",
    "Papaya",
    "Peach",
    "Pear",
    "Plum",
    "Quince",
]
BUILTIN_PAGES: list[dict[str, str]] = [
    {"title": t, "text": f"'''{t}''' is a page on the mwsso development wiki."} for t in _SEED_TITLES
]

# identify JWT variants seen in the wild: name -> allowed values (the first is the default)
JWT_VARIANTS: dict[str, tuple[Any, ...]] = {
    "sub_type": ("str", "int"),
    "grants_format": ("object", "list"),
    "email_verified": (True, False),
    # "always": the address even unconfirmed, as before the email_verified change (REL1_39 too)
    "email": ("if_confirmed", "always"),
}
