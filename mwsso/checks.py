"""System checks (``manage.py check``): configuration mistakes fail at deploy time, not at the first login."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

from mwsso.app_settings import DEFAULT_USER_AGENT, app_settings

BACKEND_PATH = "mwsso.backends.MediaWikiOAuth"


def _backend_enabled() -> bool:
    return BACKEND_PATH in getattr(settings, "AUTHENTICATION_BACKENDS", [])


@checks.register(checks.Tags.security)
def check_consumer(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not _backend_enabled():
        return []
    errors: list[checks.CheckMessage] = []
    for name in ("SOCIAL_AUTH_MEDIAWIKI_KEY", "SOCIAL_AUTH_MEDIAWIKI_SECRET"):
        if not getattr(settings, name, ""):
            errors.append(
                checks.Error(
                    f"{name} is not set.",
                    hint="Register a consumer at Special:OAuthConsumerRegistration on the wiki and set its key and secret.",
                    id="mwsso.E001",
                )
            )
    url = str(getattr(settings, "SOCIAL_AUTH_MEDIAWIKI_URL", "") or "https://meta.wikimedia.org/w/index.php")
    if not url.startswith(("https://", "http://")) or not url.rstrip("/").endswith("index.php"):
        errors.append(
            checks.Error(
                f"SOCIAL_AUTH_MEDIAWIKI_URL {url!r} is not a wiki's index.php URL.",
                hint="Use the full URL of index.php, e.g. https://meta.wikimedia.org/w/index.php.",
                id="mwsso.E003",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_token_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    keys = app_settings.TOKEN_KEYS
    if not keys:
        return [
            checks.Warning(
                "MWSSO_TOKEN_KEYS is empty: access tokens are encrypted with a key derived from SECRET_KEY.",
                hint="Set MWSSO_TOKEN_KEYS to a list of Fernet keys (Fernet.generate_key()); changing SECRET_KEY "
                "would otherwise make every stored token unreadable.",
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
                    f"MWSSO_TOKEN_KEYS[{position}] is not a valid Fernet key.",
                    hint="A key is 32 url-safe base64-encoded bytes: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
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
                "MWSSO_USER_AGENT is the default.",
                hint="Wikimedia's User-Agent policy asks for your tool's name and a contact, e.g. "
                "'MyTool/1.0 (https://mytool.toolforge.org; me@example.org)'.",
                id="mwsso.W002",
            )
        )
    if app_settings.BLOCKED_USERS not in ("deny", "allow"):
        messages.append(
            checks.Error("MWSSO_BLOCKED_USERS must be 'deny' or 'allow'.", hint="The default is 'deny'.", id="mwsso.E004")
        )
    if app_settings.AUTHORIZE_PAGE not in ("authorize", "authenticate"):
        messages.append(
            checks.Error(
                "MWSSO_AUTHORIZE_PAGE must be 'authorize' or 'authenticate'.", hint="The default is 'authorize'.", id="mwsso.E005"
            )
        )
    if "social_django" not in settings.INSTALLED_APPS:
        messages.append(
            checks.Error("'social_django' must be in INSTALLED_APPS.", hint="mwsso stores the wiki account link with it.", id="mwsso.E006")
        )
    return messages
