"""This site's allauth clients of the wiki, for mwsso's core (refresh, ``mwsso_check``): ``mwsso.tokens.clients``."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from django.urls import NoReverseMatch, reverse

from mwsso.contrib.allauth import conf
from mwsso.protocol import oauth2
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.tokens.clients import SiteClient

SOURCE = "SOCIALACCOUNT_PROVIDERS['mediawiki'] or a SocialApp"


def allauth_clients() -> list[SiteClient]:
    """Every app of the ``mediawiki`` provider (settings and database), with its secret, wiki and callback path."""
    try:
        wiki_url = conf.wiki_url()
    except InvalidWikiURL:
        return []  # check mwsso.E060 says so
    try:
        path = reverse(f"{conf.PROVIDER_ID}_callback")
    except NoReverseMatch:
        path = ""
    apps = get_adapter().list_apps(None, provider=conf.PROVIDER_ID)
    return [
        SiteClient(oauth2.Client(str(app.client_id), str(app.secret or "")), wiki_url, path, SOURCE) for app in apps
    ]
