"""Check ``mwsso.E053``: an OAuth 2.0 client secret that cannot be right (``mwsso.backends.client_secret``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from mwsso.backends.client_secret import problem

OAUTH2_BACKEND_PATH = "mwsso.backends.MediaWikiOAuth2"


@checks.register(checks.Tags.security)
def check_oauth2_secret(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """mwsso.E053: the OAuth 2.0 client secret cannot be right (blank, padded, or missing for a confidential client)."""
    if OAUTH2_BACKEND_PATH not in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        return []
    found = problem()
    if found is None:
        return []
    text, fix, params = found
    text, fix = str(text) % params, str(fix) % params
    return [checks.Error(text, hint=fix, id="mwsso.E053")]
