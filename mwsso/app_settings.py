"""Every ``MWSSO_*`` setting, its type, its default and what it means.

Settings are read on every access (never cached, never at import time) so that
``override_settings`` in tests and per-process configuration just work.
social-core's ``SOCIAL_AUTH_MEDIAWIKI_*`` settings that mwsso itself needs (the wiki URL, the
consumer key and secret, the callback, the OAuth 2.0 client and its wiki) are read here too, each
with its one default (``SOCIAL_DEFAULTS``): ``app_settings.MEDIAWIKI_URL`` and so on. Nothing else
in mwsso reads them from ``django.conf.settings``; the backends read their own through
social-core's per-backend ``setting()`` with the same defaults (``backend_setting``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from mwsso import __version__
from mwsso.protocol.wikiurls import DEFAULT_WIKI_URL

LIBRARY_AGENT = f"mwsso/{__version__}"
DEFAULT_USER_AGENT = f"{LIBRARY_AGENT} (Django; set MWSSO_USER_AGENT to name your tool and a contact)"

# The social-auth pipeline mwsso expects (SOCIAL_AUTH_PIPELINE); docs/policies.md explains each step.
DEFAULT_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "mwsso.policy.check_access_policy",
    "social_core.pipeline.social_auth.social_user",
    "mwsso.pipeline.create_or_update_user",
    "social_core.pipeline.social_auth.associate_user",
    "mwsso.pipeline.store_extra_data",
    "mwsso.pipeline.store_identity",
    "mwsso.pipeline.store_access_token",
    "mwsso.policy.sync_groups",
    "mwsso.policy.send_identity_refreshed",
)

DEFAULTS: dict[str, Any] = {
    # HTTP
    "USER_AGENT": DEFAULT_USER_AGENT,
    "HTTP_TIMEOUT": 10.0,
    "HTTP_DEADLINE": None,
    "HTTP_POOL_SIZE": 64,
    # Login
    "AUTHORIZE_PAGE": "authorize",
    "JWT_LEEWAY": 10,
    "IDENTIFY_ISSUER": None,
    "SIGNIN_TOUCH_INTERVAL": 3600,
    # Token storage
    "TOKEN_KEYS": [],
    "LAST_USED_INTERVAL": 60,
    "VERIFY_CONCURRENCY": 4,
    "ADMIN_VERIFY_LIMIT": 100,
    "REFRESH_MARGIN": 60,
    # Access policy
    "BLOCKED_USERS": "deny",
    "MIN_EDITCOUNT": 0,
    "MIN_ACCOUNT_AGE_DAYS": 0,
    "REQUIRE_CONFIRMED_EMAIL": False,
    "REQUIRED_GRANTS": [],
    "ELIGIBILITY_CHECK": None,
    # Group mapping
    "GROUP_MAP": {},
    "STAFF_GROUPS": [],
    "SUPERUSER_GROUPS": [],
    # Rate limits on sign-in starts (mwsso.ratelimit)
    "LOGIN_RATE_LIMITS": {"ip": "30/5m", "session": "10/m"},
    "RATE_LIMIT_CACHE": "default",
    "CLIENT_IP": None,
    "TRUSTED_PROXIES": 0,
    "RATE_LIMIT_IPV6_PREFIX": 64,
    # API client
    "ALLOWED_WIKIS": [],
    "API_MAXLAG": 5,
    "API_MAX_RETRIES": 3,
    "API_MAX_RETRY_WAIT": 5.0,
    "SITE_CHECK_CACHE": 5.0,
}


def user_agent_header(site_agent: str) -> str:
    """``<client>/<version> (<contact>) mwsso/<version>``; the library is not named twice."""
    site_agent = " ".join(site_agent.split())  # no newline can reach a header
    if not site_agent:
        return DEFAULT_USER_AGENT
    if LIBRARY_AGENT in site_agent.split():
        return site_agent
    return f"{site_agent} {LIBRARY_AGENT}"


# social-core's settings mwsso reads, and the one default of each ("" = not set). The OAuth 2.0 wiki
# URL's default is the OAuth 1.0a one (``MEDIAWIKI_OAUTH2_URL``); docs/settings.md lists them all.
SOCIAL_DEFAULTS: dict[str, str] = {
    "SOCIAL_AUTH_MEDIAWIKI_URL": DEFAULT_WIKI_URL,
    "SOCIAL_AUTH_MEDIAWIKI_KEY": "",
    "SOCIAL_AUTH_MEDIAWIKI_SECRET": "",
    "SOCIAL_AUTH_MEDIAWIKI_CALLBACK": "oob",
    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL": "",
    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY": "",
    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET": "",
    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI": "",
}


def _get(name: str) -> Any:
    return getattr(settings, f"MWSSO_{name}", DEFAULTS[name])


def social_setting(name: str, *, default: bool = True) -> str:
    """``SOCIAL_AUTH_MEDIAWIKI_<name>`` as text; unset or empty gives its default (or "" with ``default=False``)."""
    full = f"SOCIAL_AUTH_MEDIAWIKI_{name}"
    value = getattr(settings, full, "") or (SOCIAL_DEFAULTS[full] if default else "")
    return str(value)


def backend_setting(backend: Any, name: str) -> str:
    """A backend's own ``SOCIAL_AUTH_<BACKEND NAME>_<name>`` with the default of ``social_setting``.

    The backends read through social-core's per-backend ``setting()``, so that a subclass with a name of
    its own (a second wiki) has settings of its own; the default is still the one of ``SOCIAL_DEFAULTS``.
    """
    return str(backend.setting(name) or SOCIAL_DEFAULTS.get(f"SOCIAL_AUTH_MEDIAWIKI_{name}", ""))


class AppSettings:
    """Typed, documented access to mwsso's settings: ``from mwsso.app_settings import app_settings``."""

    @property
    def USER_AGENT(self) -> str:
        """Your tool's User-Agent, e.g. ``MyTool/1.0 (https://mytool.toolforge.org; me@example.org)``.

        Wikimedia requires a tool name and a contact. What is sent is this followed by ``mwsso/<version>``
        (``SENT_USER_AGENT``), the ``<client>/<version> (<contact>) <library>/<version>`` form.
        """
        return str(_get("USER_AGENT"))

    @property
    def SENT_USER_AGENT(self) -> str:
        """The User-Agent header of every request to a wiki: ``USER_AGENT`` and then mwsso's own name and version."""
        return user_agent_header(self.USER_AGENT)

    @property
    def HTTP_TIMEOUT(self) -> float | tuple[float, float]:
        """Seconds to wait for the wiki (a number, or a (connect, read) pair)."""
        value = _get("HTTP_TIMEOUT")
        return tuple(value) if isinstance(value, (list, tuple)) else float(value)

    @property
    def HTTP_DEADLINE(self) -> float | None:
        """Seconds one whole request to a wiki may take: connecting, TLS, sending, and the answer's headers and body.

        None (the default): as long as ``HTTP_TIMEOUT`` (for a ``(connect, read)`` pair, their sum). A wiki
        that sends its answer one byte at a time is cut off at this deadline, whatever each read waits.
        """
        value = _get("HTTP_DEADLINE")
        return None if value is None else float(value)

    @property
    def HTTP_POOL_SIZE(self) -> int:
        """Keep-alive connections kept per wiki host by the process-wide HTTP session.

        At least the number of threads that call one wiki at once (a threaded server's threads, ``verify``'s
        concurrency): a thread that finds the pool empty opens a new connection (a TCP and TLS handshake) and,
        the pool being full when it is done, closes it again.
        """
        return int(_get("HTTP_POOL_SIZE"))

    @property
    def AUTHORIZE_PAGE(self) -> str:
        """``authorize`` (always ask for consent) or ``authenticate`` (skip it for an already approved user)."""
        return str(_get("AUTHORIZE_PAGE"))

    @property
    def JWT_LEEWAY(self) -> int:
        """Seconds of clock skew tolerated when checking the identify JWT's ``exp`` and ``iat``."""
        return int(_get("JWT_LEEWAY"))

    @property
    def IDENTIFY_ISSUER(self) -> str | None:
        """The identify JWT's exact ``iss`` when it is not the wiki URL's scheme and host ($wgCanonicalServer differs)."""
        return _get("IDENTIFY_ISSUER") or None

    @property
    def TOKEN_KEYS(self) -> list[str]:
        """Fernet keys for access tokens at rest: the first encrypts, all decrypt (rotation)."""
        value = _get("TOKEN_KEYS")
        if isinstance(value, str):
            value = [part for part in value.split(",")]
        return [key.strip() for key in value if key and key.strip()]

    @property
    def SIGNIN_TOUCH_INTERVAL(self) -> int:
        """Seconds during which a returning sign-in that changes nothing leaves ``WikiIdentity.refreshed_at``
        and ``AccessToken.last_verified`` as they are (no write; see docs/performance.md). 0: always write."""
        return max(0, int(_get("SIGNIN_TOUCH_INTERVAL")))

    @property
    def LAST_USED_INTERVAL(self) -> int:
        """Seconds between two writes of an access token's ``last_used`` (avoids a write per API call)."""
        return int(_get("LAST_USED_INTERVAL"))

    @property
    def VERIFY_CONCURRENCY(self) -> int:
        """Identify calls in flight at once when checking stored tokens (admin action, ``mwsso_tokens verify``)."""
        return max(1, int(_get("VERIFY_CONCURRENCY")))

    @property
    def ADMIN_VERIFY_LIMIT(self) -> int:
        """Most tokens the admin's "Verify with the wiki" checks in one request; more: ``mwsso_tokens verify``."""
        return max(1, int(_get("ADMIN_VERIFY_LIMIT")))

    @property
    def REFRESH_MARGIN(self) -> int:
        """Seconds before an OAuth 2.0 access token's ``expires_at`` when ``for_user`` refreshes it ahead of a call."""
        return int(_get("REFRESH_MARGIN"))

    @property
    def BLOCKED_USERS(self) -> str:
        """``deny`` (default) or ``allow`` users the wiki reports as blocked."""
        return str(_get("BLOCKED_USERS"))

    @property
    def MIN_EDITCOUNT(self) -> int:
        """Minimum edit count on the wiki to sign in."""
        return int(_get("MIN_EDITCOUNT"))

    @property
    def MIN_ACCOUNT_AGE_DAYS(self) -> int:
        """Minimum age of the wiki account, in days, to sign in (an account with no registration date is old)."""
        return int(_get("MIN_ACCOUNT_AGE_DAYS"))

    @property
    def REQUIRE_CONFIRMED_EMAIL(self) -> bool:
        """Refuse users without a confirmed email address on the wiki."""
        return bool(_get("REQUIRE_CONFIRMED_EMAIL"))

    @property
    def REQUIRED_GRANTS(self) -> list[str]:
        """Grants the user must have given the consumer (e.g. ``["editpage"]``); a wiki that lists none fails this rule."""
        return list(_get("REQUIRED_GRANTS"))

    @property
    def ELIGIBILITY_CHECK(self) -> str | None:
        """Import path of ``check(identity) -> None | str``; a string refuses the login with that reason."""
        return _get("ELIGIBILITY_CHECK") or None

    @property
    def GROUP_MAP(self) -> dict[str, str]:
        """Wiki group → Django group; membership of mapped Django groups is synced at every login."""
        return dict(_get("GROUP_MAP"))

    @property
    def STAFF_GROUPS(self) -> list[str]:
        """Wiki groups that make a user ``is_staff`` (revoked when the wiki group is gone; empty: the flag is not touched)."""
        return list(_get("STAFF_GROUPS"))

    @property
    def SUPERUSER_GROUPS(self) -> list[str]:
        """Wiki groups that make a user ``is_superuser`` (revoked when the wiki group is gone; empty: the flag is not touched)."""
        return list(_get("SUPERUSER_GROUPS"))

    @property
    def LOGIN_RATE_LIMITS(self) -> dict[str, str | None]:
        """Sign-in starts allowed per ``ip`` and per ``session``, as ``"<count>/<period>"`` (``"30/5m"``); None or {} turns a limit off."""
        return dict(_get("LOGIN_RATE_LIMITS") or {})

    @property
    def RATE_LIMIT_CACHE(self) -> str:
        """The ``CACHES`` alias that counts sign-in starts: shared by every worker (Redis) for the limit to hold across them."""
        return str(_get("RATE_LIMIT_CACHE"))

    @property
    def CLIENT_IP(self) -> Any:
        """A callable ``(request) -> str`` or its import path giving the client's address; None: see TRUSTED_PROXIES."""
        return _get("CLIENT_IP") or None

    @property
    def TRUSTED_PROXIES(self) -> int:
        """How many proxies of the site's own append to X-Forwarded-For (0: REMOTE_ADDR; the header is never trusted)."""
        return max(0, int(_get("TRUSTED_PROXIES")))

    @property
    def RATE_LIMIT_IPV6_PREFIX(self) -> int:
        """The IPv6 network (its prefix length) whose addresses share one sign-in count: 64, the usual one a
        household or a server gets whole; 128 counts each address alone."""
        return min(128, max(0, int(_get("RATE_LIMIT_IPV6_PREFIX"))))

    @property
    def ALLOWED_WIKIS(self) -> list[str]:
        """Extra wiki hosts the API client may call with a user's token (``*.wikipedia.org`` patterns)."""
        return list(_get("ALLOWED_WIKIS"))

    @property
    def API_MAXLAG(self) -> int | None:
        """``maxlag`` sent with API calls (None to not send it)."""
        value = _get("API_MAXLAG")
        return None if value is None else int(value)

    @property
    def API_MAX_RETRIES(self) -> int:
        """Retries after a maxlag error, HTTP 429 or 503."""
        return int(_get("API_MAX_RETRIES"))

    @property
    def API_MAX_RETRY_WAIT(self) -> float:
        """Upper bound, in seconds, on one wait before a retry (whatever Retry-After says)."""
        return float(_get("API_MAX_RETRY_WAIT"))

    @property
    def SITE_CHECK_CACHE(self) -> float:
        """Seconds a process keeps the answer to "does the wiki accept this site's own signature?".

        Asked (Special:OAuth/initiate, signed with the consumer alone) before an "Invalid signature" or
        "Expired timestamp" refusal is blamed on a user's token; the cache stops a probe per failing call.
        """
        return float(_get("SITE_CHECK_CACHE"))

    # -- social-core's settings for the wiki (SOCIAL_AUTH_MEDIAWIKI_*) ---------------------------
    @property
    def MEDIAWIKI_URL(self) -> str:
        """The OAuth 1.0a wiki's index.php URL (``SOCIAL_AUTH_MEDIAWIKI_URL``), Meta-Wiki by default."""
        return social_setting("URL")

    @property
    def MEDIAWIKI_KEY(self) -> str:
        """The OAuth 1.0a consumer key (``SOCIAL_AUTH_MEDIAWIKI_KEY``); "" when not set."""
        return social_setting("KEY")

    @property
    def MEDIAWIKI_SECRET(self) -> str:
        """The OAuth 1.0a consumer secret (``SOCIAL_AUTH_MEDIAWIKI_SECRET``); "" when not set."""
        return social_setting("SECRET")

    @property
    def MEDIAWIKI_CALLBACK(self) -> str:
        """``SOCIAL_AUTH_MEDIAWIKI_CALLBACK``: ``oob`` (the registered callback), a URL, or a path."""
        return social_setting("CALLBACK")

    @property
    def MEDIAWIKI_OAUTH2_URL(self) -> str:
        """The OAuth 2.0 client's wiki (``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL``), else the OAuth 1.0a one."""
        return social_setting("OAUTH2_URL") or self.MEDIAWIKI_URL

    @property
    def MEDIAWIKI_OAUTH2_KEY(self) -> str:
        """The OAuth 2.0 client id (``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY``); "" when not set."""
        return social_setting("OAUTH2_KEY")

    @property
    def MEDIAWIKI_OAUTH2_SECRET(self) -> str:
        """The OAuth 2.0 client secret (``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET``); "": a public client."""
        return social_setting("OAUTH2_SECRET")

    @property
    def MEDIAWIKI_OAUTH2_REDIRECT_URI(self) -> str:
        """``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI``; "": none is sent (the registered one applies)."""
        return social_setting("OAUTH2_REDIRECT_URI")


app_settings = AppSettings()
