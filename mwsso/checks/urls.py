"""System checks of the site's URL configuration: the sign-in URLs must be served by mwsso's views.

A site migrated from social-core's stock backend that keeps ``include("social_django.urls",
namespace="social")`` signs people in, but its views are social-app-django's: a forged or stale
callback, a wiki error or a refusal is a 500 with a traceback instead of mwsso's error page, there
is no rate limit on sign-in starts, and a browser signed in as someone else is not switched. These
checks name the view that answers instead and the one line to change.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

# What a site writes in its urls.py to get mwsso's views (README, docs/migrating.md).
MWSSO_INCLUDE = 'path("", include("mwsso.urls"))'
STOCK_INCLUDE = 'path("", include("social_django.urls", namespace="social"))'
# The settings holding a path (or absolute URL) the wiki sends the browser back to, per backend name.
CALLBACK_SETTINGS = {
    "mediawiki": "SOCIAL_AUTH_MEDIAWIKI_CALLBACK",
    "mediawiki-oauth2": "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI",
}


def mwsso_backend_names() -> list[str]:
    """Names (``mediawiki``, ``mediawiki-oauth2``, a subclass's own) of the mwsso backends the site enables."""
    from mwsso.backends import MediaWikiOAuth, MediaWikiOAuth2

    names = []
    for path in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        try:
            backend = import_string(path)
        except ImportError:
            continue  # Django's own check reports a backend that cannot be imported
        if isinstance(backend, type) and issubclass(backend, (MediaWikiOAuth, MediaWikiOAuth2)):
            names.append(backend.name)
    return names


def mwsso_views() -> dict[str, Callable[..., Any]]:
    """URL name → the view ``mwsso.urls`` serves under it (unwrapped from its decorators)."""
    from mwsso import urls

    return {pattern.name: inspect.unwrap(pattern.callback) for pattern in urls.urlpatterns if pattern.name}


def view_name(view: Callable[..., Any]) -> str:
    view = inspect.unwrap(view)
    view = getattr(view, "view_class", view)  # a class-based view's as_view()
    return f"{view.__module__}.{view.__qualname__}"


def _routed(path: str) -> Callable[..., Any] | None:
    prefix = str(getattr(settings, "FORCE_SCRIPT_NAME", "") or "").rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    try:
        view: Callable[..., Any] = inspect.unwrap(resolve(path).func)  # (typeshed: unwrap returns Any)
        return view
    except Resolver404:
        return None


def _callback_path(backend: str) -> str | None:
    """The path of the configured callback or redirect URI, when it is one (not ``oob``, not unset)."""
    value = str(getattr(settings, CALLBACK_SETTINGS.get(backend, ""), "") or "")
    if not value or value == "oob":
        return None
    return urlsplit(value).path or "/"


def _not_mwsso(what: str, found: Callable[..., Any], want: str) -> checks.CheckMessage:
    return checks.Warning(
        _(
            "%(what)s is served by %(view)s, not by mwsso's %(want)s view: a failed sign-in there (a stale or forged "
            "callback, a wiki error, a refusal) is a server error (500) instead of mwsso's error page, and sign-in "
            "starts are not rate-limited."
        )
        % {"what": what, "view": view_name(found), "want": want},
        hint=_(
            "In your urls.py, replace %(stock)s (or the pattern that routes there) with %(mwsso)s: the same URLs and "
            "URL names (social:begin, social:complete), plus social:logout. See docs/migrating.md."
        )
        % {"stock": STOCK_INCLUDE, "mwsso": MWSSO_INCLUDE},
        id="mwsso.W043",
    )


def _missing(what: str) -> checks.CheckMessage:
    return checks.Warning(
        _("%(what)s: no view of this site answers there, so nobody can sign in.") % {"what": what},
        hint=_(
            "Add %(mwsso)s to your urls.py; when it is mounted under a prefix, the callback path must start with "
            "that prefix too."
        )
        % {"mwsso": MWSSO_INCLUDE},
        id="mwsso.W044",
    )


def _backend_problems(backend: str, views: dict[str, Callable[..., Any]]) -> Iterator[checks.CheckMessage]:
    for url_name in ("begin", "complete"):
        what = f"The URL social:{url_name} for {backend!r}"
        try:
            path = reverse(f"social:{url_name}", args=[backend])
        except NoReverseMatch:
            yield _missing(what)
            continue
        found = _routed(path)
        if found is None:
            yield _missing(f"{what} ({path})")
        elif found is not views[url_name]:
            yield _not_mwsso(f"{what} ({path})", found, url_name)
    callback = _callback_path(backend)
    if callback is not None:
        what = f"{CALLBACK_SETTINGS[backend]}'s path {callback}"
        found = _routed(callback)
        if found is None:
            yield _missing(what)
        elif found is not views["complete"]:
            yield _not_mwsso(what, found, "complete")


@checks.register(checks.Tags.urls)
def check_sign_in_urls(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Each enabled mwsso backend's sign-in start and callback resolve to mwsso's own views."""
    names = mwsso_backend_names()
    if not names:
        return []
    views = mwsso_views()
    return [message for backend in names for message in _backend_problems(backend, views)]
