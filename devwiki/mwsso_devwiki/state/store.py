"""The local wiki's whole state, in memory and thread-safe.

Every public method takes the lock, so HTTP handler threads, test code and the
control endpoint can use one Store at the same time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..faults.switches import Faults
from ..messages import MWOAuthError
from ..versions import VersionTraits, traits
from ..wikiurls import ScriptPathError, WikiURLs, check_script_path
from .config import (
    ConfigError,
    check_version,
    demo_site_clients,
    load_config,
    make_consumer,
    make_user,
    version_variant,
)
from .models import AccessToken, Consumer, RequestToken, User
from .oauth2 import OAuth2State
from .pages import PageStore

REQUEST_TOKEN_TTL = 600
NONCE_TTL = 300


def new_key() -> str:
    """32 hex digits, like MWCryptRand::generateHex(32)."""
    return secrets.token_hex(16)


class Store:
    """Consumers, users, tokens, nonces, pages, switches and counters of one devwiki."""

    def __init__(
        self,
        config: dict[str, Any] | str | Path | None = None,
        clock: Callable[[], float] = time.time,
        script_path: str | None = None,
        mw_version: str | None = None,
        site_url: str | None = None,
    ) -> None:
        self.config = load_config(config)
        if site_url:  # --site-url: where the demo site runs (make run's PORT)
            self.config["oauth2_clients"] = demo_site_clients(self.config["oauth2_clients"], site_url)
        if mw_version is not None:  # --mw-version / running_devwiki(mw_version=...) win over the config file
            self.config["mw_version"] = check_version(mw_version)
        self.clock = clock  # tests may swap in a fake clock
        self.clock_offset = 0.0  # control "set_clock": the wiki's clock ahead (or behind) the real one
        self.server = (self.config["server"] or "").rstrip("/")  # set by the server on bind
        # $wgScriptPath: index.php, api.php and rest.php are served under it (and only there).
        try:
            self.script_path = check_script_path(self.config["script_path"] if script_path is None else script_path)
        except ScriptPathError as err:
            raise ConfigError(str(err)) from err
        self.secret = self.config["secret"] or secrets.token_hex(16)
        self.faults = Faults()
        self._lock = threading.RLock()
        self.oauth2 = OAuth2State(self.now)
        self.oauth2.configure(self.config["oauth2_clients"], self.config["oauth2"])
        self.reset()

    def now(self) -> float:
        """The wiki's time: its clock plus ``clock_offset`` (control ``set_clock``, config ``clock_offset``)."""
        return self.clock() + self.clock_offset

    @property
    def urls(self) -> WikiURLs:
        """This wiki's entry points as a client must call them ($wgServer + $wgScriptPath)."""
        return WikiURLs(server=self.server, script_path=self.script_path)

    @property
    def traits(self) -> VersionTraits:
        """What the MediaWiki version this wiki plays does (versions.py)."""
        return traits(self.mw_version)

    def set_version(self, version: str) -> None:
        """Play another MediaWiki version until ``reset`` (which returns to the configured one)."""
        with self._lock:
            self.mw_version = check_version(version)
            self.variant = {**version_variant(self.mw_version), **self.config["jwt"]}

    def reset(self) -> None:
        """Back to the configured state: no tokens, no faults, seeded pages, zero counters."""
        self.clock_offset = float(self.config.get("clock_offset") or 0)
        now = self.now()
        with self._lock:
            self.set_version(self.config["mw_version"])
            self._consumers = {c["key"]: make_consumer(c) for c in self.config["consumers"]}
            self._users = {int(u["sub"]): make_user(u, now) for u in self.config["users"]}
            self.pages = PageStore(self.config["pages"], now)
            self._request_tokens: dict[str, RequestToken] = {}
            self._access_tokens: dict[str, AccessToken] = {}
            self._current: dict[tuple[str, int], str] = {}
            # Acceptance ids of Special:OAuthManageMyGrants/revoke/<id>, per (consumer key or client id, sub).
            self._acceptances: dict[tuple[str, int], int] = {}
            self._nonces: dict[tuple[str, str | None, str], float] = {}
            self._next_prune = now + NONCE_TTL
            self.counters: Counter[str] = Counter()
            # Like Wikimedia's ChronologyProtector and load-balancer cookies: sent on every answer when set.
            self.set_cookie: str | None = None
            self.cookies_received: list[dict[str, str]] = []
        self.faults.clear()
        self.oauth2.reset()

    def count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    def record_cookie(self, header: str, user_agent: str) -> None:
        """Keep a Cookie header a client sent and its User-Agent (the latest 100), so tests can see who sends cookies."""
        with self._lock:
            self.cookies_received = [*self.cookies_received[-99:], {"cookie": header, "user_agent": user_agent}]

    # Consumers and users

    def consumer(self, key: str) -> Consumer | None:
        with self._lock:
            return self._consumers.get(key)

    def consumers(self) -> list[Consumer]:
        with self._lock:
            return list(self._consumers.values())

    def add_consumer(self, consumer: Consumer) -> None:
        with self._lock:
            self._consumers[consumer.key] = consumer

    def users(self) -> list[User]:
        with self._lock:
            return sorted(self._users.values(), key=lambda u: u.sub)

    def user(self, ref: int | str | None) -> User | None:
        """A user by central id (int or digits) or by name (spaces or underscores)."""
        if ref is None:
            return None
        with self._lock:
            if isinstance(ref, int) or str(ref).isdigit():
                return self._users.get(int(ref))
            name = str(ref).replace("_", " ").strip()
            return next((u for u in self._users.values() if u.name == name), None)

    def add_user(self, user: User) -> None:
        with self._lock:
            if any(u.name == user.name and u.sub != user.sub for u in self._users.values()):
                raise ValueError(f"a user named {user.name!r} already exists")
            self._users[user.sub] = user

    def update_user(self, user: User, **fields: Any) -> None:
        with self._lock:
            name = fields.get("name")
            if name is not None and any(u.name == name and u.sub != user.sub for u in self._users.values()):
                raise ValueError(f"a user named {name!r} already exists")
            for field_name, value in fields.items():
                setattr(user, field_name, value)

    def next_sub(self) -> int:
        with self._lock:
            return max(self._users, default=0) + 1

    # Nonces

    def nonce_seen(self, consumer_key: str, token_key: str | None, nonce: str, timestamp: int) -> bool:
        """Record the nonce and say whether it was already used (MWOAuthDataStore::lookup_nonce)."""
        key = (consumer_key, token_key, nonce)
        now = self.now()
        with self._lock:
            if now > self._next_prune:
                self._nonces = {k: exp for k, exp in self._nonces.items() if exp > now}
                self._next_prune = now + 60
            expiry = self._nonces.get(key)
            if expiry is not None and expiry > now:
                return True
            self._nonces[key] = timestamp + NONCE_TTL
            return False

    # Handshake

    def new_request_token(self, consumer: Consumer, callback: str) -> RequestToken:
        token = RequestToken(new_key(), new_key(), consumer.key, callback, self.now() + REQUEST_TOKEN_TTL)
        with self._lock:
            self._request_tokens[token.key] = token
        return token

    def request_token(self, consumer_key: str, key: str | None) -> RequestToken:
        """The live request token of this consumer, or the wiki's error for it."""
        with self._lock:
            token = self._request_tokens.get(key or "")
            if token is None or token.consumer_key != consumer_key or token.expires < self.now():
                raise MWOAuthError("mwoauthdatastore-request-token-not-found")
            if token.used:
                raise MWOAuthError("mwoauthdatastore-request-token-already-used")
            return token

    def consumer_key_of(self, request_key: str | None) -> str | None:
        with self._lock:
            token = self._request_tokens.get(request_key or "")
            return token.consumer_key if token else None

    def callback_of(self, request_key: str | None) -> str | None:
        """The callback a pending request token was initiated with (None once used, or for none)."""
        with self._lock:
            token = self._request_tokens.get(request_key or "")
            return token.callback if token else None

    def authorize(self, consumer: Consumer, request_key: str | None, user: User) -> tuple[str, str]:
        """Record the user's consent; return (callback from initiate, verifier)."""
        with self._lock:
            token = self.request_token(consumer.key, request_key)
            if token.callback is None:
                raise MWOAuthError("mwoauthdatastore-callback-not-found")
            access = self.issue_access_token(consumer, user)
            token.verifier = new_key()
            token.access_key = access.key
            token.expires = self.now() + REQUEST_TOKEN_TTL
            callback, token.callback = token.callback, None
            return callback, token.verifier

    def exchange(self, token: RequestToken, verifier: str | None) -> AccessToken:
        """Trade an authorized request token for its access token (once)."""
        with self._lock:
            if not token.verifier or not token.access_key:
                raise MWOAuthError("mwoauthdatastore-bad-token")
            if verifier != token.verifier:
                raise MWOAuthError("mwoauthdatastore-bad-verifier")  # token stays usable
            access = self._access_tokens.get(token.access_key)
            if access is None or access.revoked:
                raise MWOAuthError("mwoauthdatastore-access-token-not-found")
            token.used = True
            token.expires = self.now() + REQUEST_TOKEN_TTL
            return access

    def issue_access_token(self, consumer: Consumer, user: User) -> AccessToken:
        """The user's current access token for this consumer; a new one only after revocation."""
        with self._lock:
            key = self._current.get((consumer.key, user.sub))
            if key is not None:
                access = self._access_tokens[key]
                access.grants = consumer.stored_grants()
                return access
            access = AccessToken(new_key(), secrets.token_hex(20), consumer.key, user.sub, consumer.stored_grants())
            self._access_tokens[access.key] = access
            self._current[(consumer.key, user.sub)] = access.key
            return access

    def has_authorized(self, consumer: Consumer, user: User) -> bool:
        with self._lock:
            return (consumer.key, user.sub) in self._current

    def access_token(self, key: str) -> AccessToken | None:
        with self._lock:
            access = self._access_tokens.get(key)
            return None if access is None or access.revoked else access

    def acceptance_id(self, key: str, sub: int) -> int:
        """The id of the user's acceptance of a consumer or client (made the first time it is asked for)."""
        with self._lock:
            found = self._acceptances.get((key, sub))
            if found is None:
                found = self._acceptances[(key, sub)] = max(self._acceptances.values(), default=0) + 1
            return found

    def grants_of(self, user: User) -> list[tuple[Consumer, AccessToken]]:
        """The consumers ``user`` allowed and has not revoked (Special:OAuthManageMyGrants), by name."""
        with self._lock:
            found = []
            for (consumer_key, sub), key in self._current.items():
                consumer = self.consumer(consumer_key)
                if sub == user.sub and consumer is not None:
                    found.append((consumer, self._access_tokens[key]))
            return sorted(found, key=lambda pair: pair[0].name)

    def revoke(self, consumer_key: str, user: User) -> AccessToken | None:
        with self._lock:
            key = self._current.pop((consumer_key, user.sub), None)
            if key is None:
                return None
            access = self._access_tokens[key]
            access.revoked = True
            return access

    # The state file (persistence.py): what a restart must not lose

    def dump(self) -> dict[str, Any]:
        """Users, consumers, OAuth 1.0a tokens and grants, pages, the secret and the OAuth 2.0 state, as plain data.

        Request tokens, nonces, codes, faults and counters are left out: they are short-lived or
        belong to one run.
        """
        with self._lock:
            return {
                "secret": self.secret,
                "users": [asdict(u) for u in self._users.values()],
                "consumers": [asdict(c) for c in self._consumers.values()],
                "access_tokens": [asdict(a) for a in self._access_tokens.values()],
                "current": [[consumer_key, sub, key] for (consumer_key, sub), key in self._current.items()],
                "acceptances": [[key, sub, number] for (key, sub), number in self._acceptances.items()],
                "pages": self.pages.dump(),
                "oauth2": self.oauth2.dump(),
            }

    def load(self, state: dict[str, Any]) -> None:
        """Bring back what ``dump`` kept, over the configured state.

        What the config defines (users by sub, consumers by key, OAuth 2.0 clients by id) stays as
        the config has it, so that editing the config (or make run's site URL) takes effect;
        everything the wiki gathered while it ran comes back from ``state``.
        """
        configured_users = {int(u["sub"]) for u in self.config["users"]}
        configured_consumers = {c["key"] for c in self.config["consumers"]}
        with self._lock:
            self.secret = self.config["secret"] or state["secret"]  # a configured secret wins
            for spec in state["users"]:
                if int(spec["sub"]) not in configured_users:
                    self._users[int(spec["sub"])] = make_user(spec)
            for spec in state["consumers"]:
                if spec["key"] not in configured_consumers:
                    self._consumers[spec["key"]] = make_consumer(spec)
            self._access_tokens = {
                a["key"]: AccessToken(**{**a, "grants": [(int(i), g) for i, g in a["grants"]]})
                for a in state["access_tokens"]
            }
            self._current = {(consumer_key, int(sub)): key for consumer_key, sub, key in state["current"]}
            self._acceptances = {(key, int(sub)): int(number) for key, sub, number in state["acceptances"]}
            self.pages.load(state["pages"])
        self.oauth2.load(state["oauth2"], {c["client_id"] for c in self.config["oauth2_clients"]})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "counters": dict(self.counters),
                "access_tokens": [
                    {
                        "key": a.key,
                        "consumer_key": a.consumer_key,
                        "sub": a.sub,
                        "user": self._users[a.sub].name if a.sub in self._users else None,
                        "revoked": a.revoked,
                    }
                    for a in self._access_tokens.values()
                ],
                "request_tokens": len(self._request_tokens),
                "pages": len(self.pages),
                "faults": self.faults.describe(),
                "variant": dict(self.variant),
                "cookies_received": list(self.cookies_received),
                "mw_version": self.mw_version,
            }
