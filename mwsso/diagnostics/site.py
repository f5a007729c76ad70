"""The ``Target`` of a Django site: its wiki settings and the URLs the wiki will see from it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from mwsso.app_settings import app_settings, social_setting
from mwsso.tokens.clients import site_clients

from .target import OAuth2Client, Target
from .wiki import is_loopback

OAUTH1_BACKEND = "mediawiki"
OAUTH2_BACKEND = "mediawiki-oauth2"


def site_url(given: str = "") -> str:
    """``--site-url``, else the sites framework's domain, else the first concrete ALLOWED_HOSTS entry ("" if none)."""
    if given:
        return given.rstrip("/")
    domain = _sites_domain()
    if not domain:
        hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
        domain = hosts[0] if hosts else ""
    if not domain:
        return ""
    scheme = "http" if is_loopback(urlsplit(f"//{domain}").hostname) else "https"
    return f"{scheme}://{domain}"


def _sites_domain() -> str:
    if "django.contrib.sites" not in settings.INSTALLED_APPS or not getattr(settings, "SITE_ID", None):
        return ""
    from django.contrib.sites.models import Site
    from django.db import DatabaseError

    try:
        return Site.objects.get_current().domain
    except (DatabaseError, Site.DoesNotExist):
        return ""


def _complete_url(base: str, backend: str) -> str:
    try:
        path = reverse("social:complete", args=[backend])
    except NoReverseMatch:
        path = f"/complete/{backend}/"
    return f"{base}{path}" if base else ""


def target_from_settings(given_site_url: str = "") -> Target:
    base = site_url(given_site_url)
    wiki_url = app_settings.MEDIAWIKI_URL
    configured = app_settings.MEDIAWIKI_CALLBACK
    if configured == "oob":
        callback, expected = "oob", _complete_url(base, OAUTH1_BACKEND)
    elif configured.startswith("/"):
        callback = expected = f"{base}{configured}" if base else ""
    else:
        callback = expected = configured
    oauth2 = None
    if app_settings.MEDIAWIKI_OAUTH2_KEY:
        # SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI is sent only when set (a path made absolute); without it
        # the wiki uses the registered one, which must then be the site's callback.
        sent = app_settings.MEDIAWIKI_OAUTH2_REDIRECT_URI
        if sent.startswith("/"):
            sent = f"{base}{sent}" if base else ""
        oauth2 = OAuth2Client(
            wiki_url=app_settings.MEDIAWIKI_OAUTH2_URL,
            client_id=app_settings.MEDIAWIKI_OAUTH2_KEY,
            client_secret=app_settings.MEDIAWIKI_OAUTH2_SECRET,
            redirect_uri=sent or _complete_url(base, OAUTH2_BACKEND),
            sends_redirect_uri=bool(app_settings.MEDIAWIKI_OAUTH2_REDIRECT_URI),
            redirect_uri_guessed=not given_site_url and not _sites_domain(),
        )
    elif others := site_clients():
        # No social-auth OAuth 2.0 client: the one another sign-in app registered (mwsso.contrib.allauth's).
        other = others[0]
        # Without a wiki URL of its own, the site checks the wiki the other app signs in with.
        wiki_url = social_setting("URL", default=False) or other.wiki_url
        oauth2 = OAuth2Client(
            wiki_url=other.wiki_url,
            client_id=other.client.client_id,
            client_secret=other.client.secret,
            redirect_uri=f"{base}{other.redirect_path}" if base and other.redirect_path else "",
            sends_redirect_uri=bool(other.redirect_path),
            redirect_uri_guessed=not given_site_url and not _sites_domain(),
        )
    return Target(
        wiki_url=wiki_url,
        consumer_key=app_settings.MEDIAWIKI_KEY,
        consumer_secret=app_settings.MEDIAWIKI_SECRET,
        callback=callback,
        expected_callback=expected,
        site_url=base,
        identify_issuer=app_settings.IDENTIFY_ISSUER,
        required_grants=tuple(app_settings.REQUIRED_GRANTS),
        allowed_wikis=tuple(app_settings.ALLOWED_WIKIS),
        user_agent=app_settings.USER_AGENT,
        oauth2=oauth2,
    )
