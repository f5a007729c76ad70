"""The provider's two views, at allauth's usual URLs: ``/accounts/mediawiki/login/`` and ``…/login/callback/``.

The login view is allauth's (``SOCIALACCOUNT_LOGIN_ON_GET``, ``process=connect``, ``next`` as for any
provider); the callback is mwsso's: the wiki (``handshake``), then allauth's flow (``signin``), every
failure ending on a page (``errors``), never a 500.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2LoginView
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import MultipleObjectsReturned
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from social_core.exceptions import AuthCanceled

from mwsso.contrib.allauth import conf, handshake
from mwsso.contrib.allauth.errors import render_error
from mwsso.exceptions import LoginError


class MediaWikiOAuth2Adapter(OAuth2Adapter):  # type: ignore[misc]  # allauth ships no types: its classes are Any
    """allauth's view plumbing; every URL of the wiki comes from ``conf`` and ``mwsso.protocol.wikiurls``."""

    provider_id = conf.PROVIDER_ID


oauth2_login = OAuth2LoginView.adapter_view(MediaWikiOAuth2Adapter)


@login_not_required
@never_cache
@require_GET
def oauth2_callback(request: HttpRequest) -> HttpResponse:
    """Where the wiki sends the browser back (no CSRF token: the state bound to this session protects it)."""
    try:
        provider = MediaWikiOAuth2Adapter(request).get_provider()
    except (SocialApp.DoesNotExist, MultipleObjectsReturned) as err:
        detail = (
            f"no single client for provider 'mediawiki' in SOCIALACCOUNT_PROVIDERS or SocialApp ({type(err).__name__})"
        )
        return render_error(
            request, None, LoginError(None, detail, reason="no_client", stage="callback"), step="callback"
        )
    try:
        wiki_said = handshake.from_callback(request, provider)
    except (LoginError, AuthCanceled) as err:
        return render_error(request, provider, err, step="callback")
    # Imported here: allauth imports this module (through the provider) to check a site that may not
    # have installed mwsso yet, whose models signin needs; mwsso.E060 then says so instead of a traceback.
    from mwsso.contrib.allauth import signin

    return signin.complete(request, provider, wiki_said)
