"""The recorded wikis, as the local wiki is set up to mirror each: server, script path, users, registrations.

Read from the recordings themselves: consumer keys and client ids from the requests' URLs and the
identify claims' ``aud``, grants from the claims and the consent pages, callbacks from the Allow
redirects, secrets where the recording shows them (1.43) and local ones where it redacted them
(1.45). The users are the recorded wikis' (WikiSysop, Alice, Mallory blocked, Zoë Ünïcode), with
enough edits to be autoconfirmed, as the recorded ones were on wikis without autoconfirm thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSWORD = "devwiki"  # every mirrored user's; the recordings redacted theirs
CALLBACK = "http://127.0.0.1:8000/complete/mediawiki/"
REDIRECT = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"
UNKNOWN_KEYS = ("ffffffffffffffffffffffffffffffff", "00000000000000000000000000000000")


@dataclass(frozen=True)
class Mirror:
    """One recorded wiki: where it was, what it had, and how the local wiki plays it."""

    version: str
    server: str  # the recorded $wgServer
    script_path: str
    site_name: str
    consumers: dict[str, dict[str, Any]]  # by the name step names use
    clients: dict[str, dict[str, Any]]
    pages: list[str] = field(default_factory=list)
    # Grants the recorded wiki had before the recording began (its first /authenticate skipped the dialog).
    prior_grants: list[tuple[str, str]] = field(default_factory=list)

    def config(self) -> dict[str, Any]:
        return {
            "builtins": False,
            "mw_version": self.version,
            "script_path": self.script_path,
            "users": USERS,
            "consumers": list(self.consumers.values()),
            "oauth2_clients": list(self.clients.values()),
            "pages": [
                {"title": "Main Page", "text": "The mirror."},
                *({"title": t, "text": "seeded by the mirror"} for t in self.pages),
            ],
        }

    def consumer_named(self, name: str) -> dict[str, Any]:
        return self.consumers[name]

    def secret_of(self, key: str) -> str | None:
        for spec in (*self.consumers.values(), *self.clients.values()):
            if key in (spec.get("key"), spec.get("client_id")):
                return str(spec["secret"])
        return None


def _user(sub: int, name: str, **extra: Any) -> dict[str, Any]:
    spec = {"sub": sub, "name": name, "editcount": 20, "registered": "20200101000000", "email": f"{sub}@example.org"}
    return {**spec, "email_confirmed": True, "password": PASSWORD, **extra}


USERS = [
    _user(1, "WikiSysop", groups=["bureaucrat", "interface-admin", "sysop"]),
    _user(3, "Alice"),
    _user(4, "Mallory", blocked=True, block_reason="Blocked for OAuth testing"),
    _user(5, "Zoë Ünïcode"),
]


def _consumer(name: str, key: str, secret: str, grants: list[str], **extra: Any) -> dict[str, Any]:
    spec = {"key": key, "secret": secret, "name": name, "callback": CALLBACK, "callback_is_prefix": True}
    return {**spec, "grants": grants, "owner": "WikiSysop", "description": f"test consumer {name}", **extra}


def _client(name: str, client_id: str, secret: str, grants: list[str], **extra: Any) -> dict[str, Any]:
    spec = {"client_id": client_id, "secret": secret, "name": name, "redirect_uri": REDIRECT, "grants": grants}
    return {**spec, "owner": "WikiSysop", "description": f"test consumer {name}", **extra}


MIRRORS = {
    "1.43": Mirror(
        version="1.43",
        server="http://127.0.0.1:8090",
        script_path="/w",
        site_name="RealWiki43",
        consumers={
            "mwsso-test": _consumer(
                "mwsso-test",
                "443f4384346f6d98b364ba5f7335c80b",
                "43-test-consumer-secret",
                ["basic", "editpage", "createeditmovepage", "highvolume"],
            ),
            "mwsso-authonly": _consumer(
                "mwsso-authonly", "fcc8e963b737ae22610a0dcff0157216", "43-authonly-secret", ["mwoauth-authonly"]
            ),
        },
        clients={
            "mwsso-oauth2": _client(
                "mwsso-oauth2",
                "42e8407d0975a131def2db537f4c33f4",
                "804fdc4dd49aa2984df37d7062041b4e3f5746b5",
                ["basic", "editpage", "createeditmovepage"],
            ),
            "mwsso-oauth2-public": _client(
                "mwsso-oauth2-public",
                "f0c0329d39a4d8b3f04eaa864ff74bc4",
                "c92573e6945048cc408c52ec7dab6bf8f760f3d1",
                ["basic", "editpage", "createeditmovepage"],
                confidential=False,
            ),
        },
        pages=["Realwiki43 OAuth1 proof page"],
        prior_grants=[("mwsso-authonly", "Alice")],
    ),
    "1.45": Mirror(
        version="1.45",
        server="http://127.0.0.1:8082",
        script_path="/mediawiki",
        site_name="RealWiki145",
        consumers={
            "mwsso-test": _consumer(
                "mwsso-test", "b4dd3b1e74a9f892acfeb9d230d9634e", "45-test-secret", ["basic", "editpage"]
            ),
            "mwsso-identify": _consumer(
                "mwsso-identify", "162699e37bda45b8a9e50c957084ed7d", "45-identify-secret", ["mwoauth-authonly"]
            ),
            "mwsso-owner": _consumer(
                "mwsso-owner",
                "0e1d2c3b4a5968778695a4b3c2d1e0f0",
                "45-owner-secret",
                ["basic", "editpage"],
                owner_only=True,
                owner="Alice",
            ),
        },
        clients={
            "mwsso-oauth2": _client(
                "mwsso-oauth2", "7b70bb3d48004257aaede0d2fa8ff32c", "45-oauth2-secret", ["basic", "editpage"]
            ),
            "mwsso-oauth2-public": _client(
                "mwsso-oauth2-public",
                "66dc3333606c72326fb963e757e63241",
                "45-public-secret",
                ["basic", "editpage"],
                confidential=False,
            ),
            "mwsso-oauth2-owner": _client(
                "mwsso-oauth2-owner",
                "c8e6dce0f3329803aa6c37acc2684f9f",
                "45-owner-client-secret",
                ["basic", "editpage"],
                owner_only=True,
                owner="Alice",
            ),
        },
        pages=["Realwiki45 OAuth1 proof page"],
    ),
}
