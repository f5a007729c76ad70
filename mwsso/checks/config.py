"""System checks (``manage.py check``): configuration mistakes fail at deploy time, not at the first login."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from mwsso.app_settings import DEFAULT_USER_AGENT, app_settings
from mwsso.checks.text import _
from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls

BACKEND_PATH = "mwsso.backends.MediaWikiOAuth"


def _backend_enabled() -> bool:
    return BACKEND_PATH in getattr(settings, "AUTHENTICATION_BACKENDS", [])


@checks.register(checks.Tags.security)
def check_consumer(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not _backend_enabled():
        return []
    errors: list[checks.CheckMessage] = []
    for name, value in (
        ("SOCIAL_AUTH_MEDIAWIKI_KEY", app_settings.MEDIAWIKI_KEY),
        ("SOCIAL_AUTH_MEDIAWIKI_SECRET", app_settings.MEDIAWIKI_SECRET),
    ):
        if not value:
            errors.append(
                checks.Error(
                    _("%(name)s is not set.") % {"name": name},
                    hint=_(
                        "Register a consumer at Special:OAuthConsumerRegistration on the wiki and set its key and secret."
                    ),
                    id="mwsso.E001",
                )
            )
    url = app_settings.MEDIAWIKI_URL
    try:
        wiki_urls(url)
        usable = url.split("?", 1)[0].rstrip("/").endswith("/index.php")
    except InvalidWikiURL:
        usable = False
    if not usable:
        errors.append(
            checks.Error(
                _("SOCIAL_AUTH_MEDIAWIKI_URL %(url)r is not a wiki's index.php URL.") % {"url": url},
                hint=_("Use the full URL of index.php, e.g. https://meta.wikimedia.org/w/index.php."),
                id="mwsso.E003",
            )
        )
    return errors


OAUTH2_BACKEND_PATH = "mwsso.backends.MediaWikiOAuth2"


@checks.register(checks.Tags.security)
def check_oauth2_client(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if OAUTH2_BACKEND_PATH not in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        return []
    if not app_settings.MEDIAWIKI_OAUTH2_KEY:
        return [
            checks.Error(
                _("SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY is not set."),
                hint=_(
                    "Register an OAuth 2.0 client at Special:OAuthConsumerRegistration/propose/oauth2 and set its client id."
                ),
                id="mwsso.E050",
            )
        ]
    from mwsso.backends import oauth2_wiki_url
    from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls

    try:
        wiki_urls(oauth2_wiki_url())
    except InvalidWikiURL:
        return [
            checks.Error(
                _("SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL %(url)r is not a wiki URL.") % {"url": oauth2_wiki_url()},
                hint=_("Use the wiki's index.php URL, e.g. https://meta.wikimedia.org/w/index.php."),
                id="mwsso.E051",
            )
        ]
    from mwsso.backends.client_secret import problem as unusable_secret

    # Not when mwsso.E053 says the empty secret is surely wrong (a confidential client of the local wiki).
    if not app_settings.MEDIAWIKI_OAUTH2_SECRET and unusable_secret() is None:
        return [
            checks.Warning(
                _(
                    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET is empty: this site signs in as a public OAuth 2.0 client, "
                    "and MediaWiki does not let a public client refresh its tokens without a secret, so every user "
                    "must sign in again when their access token expires."
                ),
                hint=_(
                    "A server-side site can keep a secret: register a confidential client (tick 'Client is "
                    "confidential') and set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET."
                ),
                id="mwsso.W050",
            )
        ]
    return []


def configured_wikis() -> list[tuple[str, str]]:
    """(setting, wiki URL) of every mwsso backend in AUTHENTICATION_BACKENDS (a site's subclasses too)."""
    from django.utils.module_loading import import_string
    from social_core.utils import setting_name

    from mwsso.backends import MediaWikiOAuth, MediaWikiOAuth2
    from mwsso.configured import DEFAULT_WIKI_URL, oauth2_wiki_url

    found: dict[str, str] = {}
    for path in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        try:
            backend = import_string(path)
        except ImportError:
            continue  # Django reports a backend that cannot be imported
        if not isinstance(backend, type):
            continue
        if issubclass(backend, MediaWikiOAuth2):
            found.setdefault("SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL", oauth2_wiki_url())
        elif issubclass(backend, MediaWikiOAuth):
            name = setting_name(backend.name, "URL")
            found.setdefault(name, str(getattr(settings, name, "") or DEFAULT_WIKI_URL))
    return list(found.items())


def _named_apart(url: str) -> tuple[tuple[str, str], ...]:
    """What else of a wiki URL may tell two wikis apart: its query (a farm choosing the wiki by parameter)."""
    return tuple(sorted((name, value) for name, value in parse_qsl(urlsplit(url.strip()).query) if name != "title"))


@checks.register(checks.Tags.security)
def check_wiki_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Two configured wikis that mwsso would key alike: one's users would sign in as the other's with the same id."""
    from mwsso.protocol.identity import wiki_key

    errors: list[checks.CheckMessage] = []
    for (first, first_url), (second, second_url) in combinations(configured_wikis(), 2):
        try:
            key = wiki_key(first_url)
            shared = key == wiki_key(second_url)
        except ValueError:
            continue  # mwsso.E003 / mwsso.E051 say so
        if shared and _named_apart(first_url) != _named_apart(second_url):
            errors.append(
                checks.Error(
                    _(
                        "%(first)s %(first_url)r and %(second)s %(second_url)r name two wikis that mwsso cannot tell "
                        "apart: both are keyed %(key)r (server and script path), so a user of one would sign in as "
                        "the user of the other with the same central id."
                    )
                    % {"first": first, "first_url": first_url, "second": second, "second_url": second_url, "key": key},
                    hint=_(
                        "mwsso reaches a wiki by its server and script path alone (index.php, api.php and rest.php "
                        "beside each other): point both settings at the same wiki, or at wikis with their own "
                        "server or script path."
                    ),
                    id="mwsso.E052",
                )
            )
    return errors


@checks.register()
def check_http_deadline(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``MWSSO_HTTP_DEADLINE``: None (as long as ``MWSSO_HTTP_TIMEOUT``) or a number of seconds above 0."""
    value = _raw("HTTP_DEADLINE")
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        return []
    return [
        checks.Error(
            _("MWSSO_HTTP_DEADLINE must be a number of seconds above 0, or None."),
            hint=_("None (the default) gives each request to a wiki as long as MWSSO_HTTP_TIMEOUT in all."),
            id="mwsso.E007",
        )
    ]


@checks.register(checks.Tags.security)
def check_token_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    keys = app_settings.TOKEN_KEYS
    if not keys:
        return [
            checks.Warning(
                _("MWSSO_TOKEN_KEYS is empty: access tokens are encrypted with a key derived from SECRET_KEY."),
                hint=_(
                    "Set MWSSO_TOKEN_KEYS to a list of Fernet keys (Fernet.generate_key()), then run 'manage.py "
                    "mwsso_tokens rotate-keys'. Until then, keep the old SECRET_KEY in SECRET_KEY_FALLBACKS whenever "
                    "you change it, or the stored tokens become unreadable (docs/migrating.md)."
                ),
                id="mwsso.W001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for position, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                checks.Error(
                    _("MWSSO_TOKEN_KEYS[%(position)s] is not a valid Fernet key.") % {"position": position},
                    hint=_("A key is 32 url-safe base64-encoded bytes: %(command)s")
                    % {
                        "command": "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
                    },
                    id="mwsso.E002",
                )
            )
    return errors


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if _backend_enabled() and app_settings.USER_AGENT == DEFAULT_USER_AGENT:
        messages.append(
            checks.Warning(
                _("MWSSO_USER_AGENT is the default."),
                hint=_(
                    "Wikimedia's User-Agent policy asks for your tool's name and a contact, e.g. "
                    "'MyTool/1.0 (https://mytool.toolforge.org; me@example.org)'."
                ),
                id="mwsso.W002",
            )
        )
    if app_settings.BLOCKED_USERS not in ("deny", "allow"):
        messages.append(
            checks.Error(
                _("MWSSO_BLOCKED_USERS must be 'deny' or 'allow'."), hint=_("The default is 'deny'."), id="mwsso.E004"
            )
        )
    if app_settings.AUTHORIZE_PAGE not in ("authorize", "authenticate"):
        messages.append(
            checks.Error(
                _("MWSSO_AUTHORIZE_PAGE must be 'authorize' or 'authenticate'."),
                hint=_("The default is 'authorize'."),
                id="mwsso.E005",
            )
        )
    if str(getattr(settings, "SESSION_COOKIE_SAMESITE", "Lax")).lower() == "strict":
        messages.append(
            checks.Warning(
                _(
                    "SESSION_COOKIE_SAMESITE is 'Strict': the browser will not send the session cookie on the wiki's "
                    "redirect back to /complete/, so every sign-in fails as 'no pending login'."
                ),
                hint=_("Use 'Lax' (Django's default)."),
                id="mwsso.W003",
            )
        )
    if "social_django" not in settings.INSTALLED_APPS and _needs_social_django():
        messages.append(
            checks.Error(
                _("'social_django' must be in INSTALLED_APPS."),
                hint=_("mwsso stores the wiki account link with it."),
                id="mwsso.E006",
            )
        )
    return messages


def _needs_social_django() -> bool:
    """social_django holds the wiki account links, unless the site signs in only through mwsso.contrib.allauth."""
    from django.apps import apps

    backends = getattr(settings, "AUTHENTICATION_BACKENDS", [])
    social_backend = any(path in backends for path in (BACKEND_PATH, OAUTH2_BACKEND_PATH))
    return social_backend or not apps.is_installed("mwsso.contrib.allauth")


# --- Defaults that must work on a new site (the quick start) -------------------


# The keys of the local wiki's built-in consumers (docs/devwiki.md), all registered with the callback
# prefix http://127.0.0.1:1/complete/mediawiki/ (port 1: any port). Named here, not imported: the local
# wiki is installed apart and mwsso never imports it (tests/test_defaults.py checks they still agree).
LOCAL_WIKI_ANY_PORT_CONSUMERS = frozenset(
    {
        "9d1c6c1e8f3b4a7e9f2d5b6a8c0e1f23",  # mwsso demo
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",  # mwsso tests
        "badc0ffee0ddf00d1234567890abcdef",  # mwsso unapproved
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",  # mwsso private info
    }
)
LOCAL_WIKI_CALLBACK = "http://127.0.0.1:1/complete/mediawiki/"


@checks.register()
def check_callback(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """ "oob" sends the browser to the registered callback, which for the local wiki's consumers is on port 1."""
    if not _backend_enabled():
        return []
    callback = app_settings.MEDIAWIKI_CALLBACK
    key = app_settings.MEDIAWIKI_KEY
    wiki_host = urlsplit(app_settings.MEDIAWIKI_URL).hostname or ""
    local_wiki = wiki_host in ("127.0.0.1", "localhost", "::1")
    if callback != "oob" or not local_wiki or key not in LOCAL_WIKI_ANY_PORT_CONSUMERS:
        return []
    return [
        checks.Warning(
            _(
                'SOCIAL_AUTH_MEDIAWIKI_CALLBACK is "oob" with a consumer of the local wiki: the wiki would send '
                "the browser back to its registered callback, %(callback)s, on port 1, which no browser opens."
            )
            % {"callback": LOCAL_WIKI_CALLBACK},
            hint=_(
                "The local wiki's consumers accept any callback that starts with http://127.0.0.1: set "
                'SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/" and browse the site at http://127.0.0.1:<port>/.'
            ),
            id="mwsso.W040",
        )
    ]


def _resolves(target: str) -> bool:
    """Whether ``target`` (a URL name or a path, as django.shortcuts.resolve_url takes it) names a view of this site."""
    if "/" not in target and "." not in target:  # a URL name, e.g. "profile" or "myapp:home"
        try:
            reverse(target)
        except NoReverseMatch:
            return False
        return True
    if not target.startswith("/"):  # an absolute URL (another site) or a relative path: not ours to judge
        return True
    path = urlsplit(target).path
    prefix = str(getattr(settings, "FORCE_SCRIPT_NAME", "") or "").rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@checks.register(checks.Tags.urls)
def check_login_redirect(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """After Allow the browser lands on LOGIN_REDIRECT_URL; Django's default, /accounts/profile/, is usually a 404."""
    if not _backend_enabled():
        return []
    # social-auth reads its own setting first, then Django's.
    for name in ("SOCIAL_AUTH_LOGIN_REDIRECT_URL", "LOGIN_REDIRECT_URL"):
        target = getattr(settings, name, None)
        if target:
            break
    target = str(target or "/accounts/profile/")
    if _resolves(target):
        return []
    return [
        checks.Warning(
            _("%(setting)s %(target)r does not resolve to a view: users would land on a 404 after signing in.")
            % {"setting": name, "target": target},
            hint=_('Set %(setting)s to a page of your site, e.g. %(setting)s = "/" or the name of a URL pattern.')
            % {"setting": name},
            id="mwsso.W041",
        )
    ]


# An email address or a URL: what Wikimedia's User-Agent policy accepts as a way to reach the operator.
_CONTACT = re.compile(r"[^\s@()<>;]+@[^\s@()<>;]+\.[^\s@()<>;]+|https?://\S+", re.IGNORECASE)


@checks.register()
def check_user_agent_contact(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    agent = app_settings.USER_AGENT
    if not _backend_enabled() or agent == DEFAULT_USER_AGENT or _CONTACT.search(agent):
        return []  # the default has its own warning, mwsso.W002
    return [
        checks.Warning(
            _("MWSSO_USER_AGENT %(agent)r has no contact information (an email address or a URL).") % {"agent": agent},
            hint=_(
                "Wikimedia's User-Agent policy asks for a way to reach you, e.g. "
                "'MyTool/1.0 (https://mytool.toolforge.org; me@example.org)'; wikis may block agents without one."
            ),
            id="mwsso.W042",
        )
    ]


# --- Access policy and group mapping (mwsso.policy) ---------------------------


def _raw(name: str) -> Any:
    # The raw value: app_settings' typed properties would coerce (or crash on) the mistakes checked here.
    from mwsso.app_settings import DEFAULTS

    return getattr(settings, f"MWSSO_{name}", DEFAULTS[name])


def _is_text_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) and item for item in value)


def _eligibility_check_checks() -> list[checks.CheckMessage]:
    from django.utils.module_loading import import_string

    path = _raw("ELIGIBILITY_CHECK")
    if not path:
        return []
    try:
        hook = import_string(path)
    except Exception as err:  # any import-time failure of the site's module is a configuration error
        return [
            checks.Error(
                _("MWSSO_ELIGIBILITY_CHECK %(path)r cannot be imported (%(error_type)s: %(error)s).")
                % {"path": path, "error_type": type(err).__name__, "error": err},
                hint=_("Give the dotted path of a function check(identity) -> None | str, e.g. 'mysite.policy.check'."),
                id="mwsso.E010",
            )
        ]
    if not callable(hook):
        return [
            checks.Error(
                _("MWSSO_ELIGIBILITY_CHECK %(path)r is not callable.") % {"path": path},
                hint=_("It must name a function check(identity) -> None | str."),
                id="mwsso.E011",
            )
        ]
    return []


@checks.register()
def check_policy_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.contrib.auth import get_user_model

    messages = _eligibility_check_checks()
    for name in ("MIN_EDITCOUNT", "MIN_ACCOUNT_AGE_DAYS"):
        value = _raw(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            messages.append(
                checks.Error(
                    _("MWSSO_%(name)s must be a whole number, 0 or more.") % {"name": name},
                    hint=_("The default, 0, disables the rule."),
                    id="mwsso.E012",
                )
            )
    for name in ("REQUIRED_GRANTS", "STAFF_GROUPS", "SUPERUSER_GROUPS"):
        if not _is_text_list(_raw(name)):
            messages.append(
                checks.Error(
                    _("MWSSO_%(name)s must be a list of names.") % {"name": name},
                    hint=_("Write a list even for one name: %(example)s.")
                    % {"example": f'MWSSO_{name} = ["{"editpage" if name == "REQUIRED_GRANTS" else "sysop"}"]'},
                    id="mwsso.E013",
                )
            )
    group_map = _raw("GROUP_MAP")
    if not isinstance(group_map, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in group_map.items()
    ):
        messages.append(
            checks.Error(
                _("MWSSO_GROUP_MAP must map wiki group names to Django group names."),
                hint=_('For example {"sysop": "Wiki admins", "bureaucrat": "Wiki admins"}.'),
                id="mwsso.E014",
            )
        )
    messages.extend(user_model_policy_checks(get_user_model()))
    staff, superuser = _raw("STAFF_GROUPS"), _raw("SUPERUSER_GROUPS")
    if _is_text_list(staff) and _is_text_list(superuser):
        not_staff = [group for group in superuser if group not in staff]
        if not_staff:
            messages.append(
                checks.Warning(
                    _("Wiki groups %(groups)s make users superusers but not staff: they cannot sign in to the admin.")
                    % {"groups": not_staff},
                    hint=_("Add them to MWSSO_STAFF_GROUPS too, unless superusers should stay out of the admin."),
                    id="mwsso.W010",
                )
            )
    return messages


def user_model_policy_checks(user_model: Any) -> list[checks.CheckMessage]:
    """Group settings need the user model fields they manage (PermissionsMixin's)."""
    field_names = {field.name for field in user_model._meta.get_fields()}
    return [
        checks.Error(
            _("MWSSO_%(name)s is set but %(model)s has no %(field)r field.")
            % {"name": name, "model": user_model._meta.label, "field": field},
            hint=_("Use a user model with PermissionsMixin, or leave the setting empty."),
            obj=user_model,
            id="mwsso.E015",
        )
        for name, field in (("GROUP_MAP", "groups"), ("STAFF_GROUPS", "is_staff"), ("SUPERUSER_GROUPS", "is_superuser"))
        if _raw(name) and field not in field_names
    ]


@checks.register()
def check_rate_limit_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Sign-in start limits (mwsso.ratelimit): rates that parse, a cache that exists and counts."""
    from mwsso.ratelimit import InvalidRate, parse_rate

    messages: list[checks.CheckMessage] = []
    limits = _raw("LOGIN_RATE_LIMITS")
    hint = _('For example MWSSO_LOGIN_RATE_LIMITS = {"ip": "30/5m", "session": "10/m"}; None turns one limit off.')
    if limits is not None and not isinstance(limits, dict):
        messages.append(checks.Error(_("MWSSO_LOGIN_RATE_LIMITS must be a dict."), hint=hint, id="mwsso.E030"))
    else:
        for scope, value in (limits or {}).items():
            try:
                if scope not in ("ip", "session"):
                    raise InvalidRate(f"unknown scope {scope!r} (use 'ip' or 'session')")
                if value is not None:
                    parse_rate(str(value))
            except InvalidRate as err:
                messages.append(
                    checks.Error(_("MWSSO_LOGIN_RATE_LIMITS: %(error)s.") % {"error": err}, hint=hint, id="mwsso.E030")
                )
    alias = _raw("RATE_LIMIT_CACHE")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "") if isinstance(alias, str) else ""
    if not backend:
        messages.append(
            checks.Error(
                _("MWSSO_RATE_LIMIT_CACHE %(alias)r is not in CACHES.") % {"alias": alias},
                hint=_("Name a CACHES alias; the default is 'default'."),
                id="mwsso.E031",
            )
        )
    elif limits and backend.endswith("DummyCache"):
        messages.append(
            checks.Warning(
                _("Sign-in start limits are set but their cache is a DummyCache, which counts nothing."),
                hint=_("Use Redis (or Memcached) shared by every worker, or the local-memory cache for one process."),
                id="mwsso.W030",
            )
        )
    proxies = _raw("TRUSTED_PROXIES")
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        messages.append(
            checks.Error(
                _("MWSSO_TRUSTED_PROXIES must be a whole number, 0 or more."),
                hint=_("The default, 0, trusts no X-Forwarded-For."),
                id="mwsso.E032",
            )
        )
    prefix = _raw("RATE_LIMIT_IPV6_PREFIX")
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not 0 <= prefix <= 128:
        messages.append(
            checks.Error(
                _("MWSSO_RATE_LIMIT_IPV6_PREFIX must be a prefix length from 0 to 128."),
                hint=_("The default, 64, counts an IPv6 /64 network as one client."),
                id="mwsso.E033",
            )
        )
    return messages


# --- Stored tokens (database checks: ``manage.py check --database default``) ---
# Registered with Tags.database, so Django runs them only when asked for a database: plain
# ``manage.py check`` never queries. ``migrate`` asks before migrating, hence the table test.


def _alias_holding(model: Any, databases: Any) -> str | None:
    """The database ``model`` is read from, if the check was asked about it and its table exists yet."""
    from django.db import connections, router

    alias = router.db_for_read(model)
    if not databases or alias not in databases:
        return None
    if model._meta.db_table not in connections[alias].introspection.table_names():
        return None
    return alias


@checks.register(checks.Tags.database)
def check_token_key_dependence(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Tokens still encrypted with a key derived from SECRET_KEY (or a fallback), or with no known key."""
    from django.db.models import Count

    from mwsso import crypto
    from mwsso.models import AccessToken

    alias = _alias_holding(AccessToken, databases)
    if alias is None:
        return []
    keys = crypto.decryption_keys()
    primary = keys[0]
    counts = dict(AccessToken.objects.using(alias).order_by().values_list("key_id").annotate(n=Count("pk")))
    known = {key.id for key in keys}
    derived = [(key, counts[key.id]) for key in keys[1:] if key.is_derived and counts.get(key.id)]
    unknown = sum(n for key_id, n in counts.items() if key_id not in known)
    messages: list[checks.CheckMessage] = []
    if derived:
        where = ", ".join(f"{key.label} ({n})" for key, n in derived)
        messages.append(
            checks.Warning(
                _(
                    "%(count)s access tokens still depend on a key derived from SECRET_KEY or SECRET_KEY_FALLBACKS: %(where)s."
                )
                % {"count": sum(n for _key, n in derived), "where": where},
                hint=_(
                    "They stay readable only while that secret stays in SECRET_KEY or SECRET_KEY_FALLBACKS. Run "
                    "'manage.py mwsso_tokens rotate-keys' to move them onto %(primary)s."
                )
                % {"primary": primary.label},
                id="mwsso.W020",
            )
        )
    if unknown:
        messages.append(
            checks.Warning(
                _(
                    "%(count)s access tokens were encrypted with a key that is neither in MWSSO_TOKEN_KEYS nor derived "
                    "from SECRET_KEY or SECRET_KEY_FALLBACKS: they cannot be decrypted."
                )
                % {"count": unknown},
                hint=_(
                    "Put the old key back in MWSSO_TOKEN_KEYS (after the first) or the old SECRET_KEY in "
                    "SECRET_KEY_FALLBACKS, then run 'manage.py mwsso_tokens rotate-keys'. Otherwise their users "
                    "get a new token at their next sign-in."
                ),
                id="mwsso.W021",
            )
        )
    return messages


@checks.register(checks.Tags.database)
def check_stock_plain_tokens(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Plain-text access tokens social-core's stock MediaWiki backend left in UserSocialAuth.extra_data."""
    from django.apps import apps

    if not apps.is_installed("social_django"):
        return []  # a site that signs in through django-allauth (mwsso.contrib.allauth has its own check)
    from social_django.models import UserSocialAuth

    from mwsso.tokens.importing import stock_token_rows

    alias = _alias_holding(UserSocialAuth, databases)
    if alias is None:
        return []
    remaining = stock_token_rows().using(alias).count()
    if not remaining:
        return []
    return [
        checks.Warning(
            _(
                "%(count)s social-auth associations still hold a plain-text MediaWiki access token from social-core's "
                "stock backend (UserSocialAuth.extra_data['access_token'])."
            )
            % {"count": remaining},
            hint=_(
                "Run 'manage.py mwsso_tokens import-social' to move them into encrypted storage (add --dry-run to "
                "see the counts first). Rows it reports as malformed must be cleaned by hand."
            ),
            id="mwsso.W022",
        )
    ]
