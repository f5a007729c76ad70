"""The ``mediawiki`` allauth provider: allauth's id, extra data and user fields, mwsso's protocol.

Same id and uid (the profile's ``sub``, the wiki's central user id) as
``allauth.socialaccount.providers.mediawiki``, so that a site's ``SocialAccount`` rows carry over and
renames on the wiki keep the account. The authorize URL is ``mwsso.protocol.oauth2``'s with PKCE S256 always;
allauth's ``AUTH_PARAMS`` are not sent (no parameter may replace the redirect URI or the challenge).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from allauth.account.models import EmailAddress
from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.utils import build_absolute_uri
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from mwsso.contrib.allauth import conf
from mwsso.contrib.allauth.errors import render_error
from mwsso.contrib.allauth.views import MediaWikiOAuth2Adapter
from mwsso.exceptions import LoginError
from mwsso.protocol import oauth2
from mwsso.protocol.wikiurls import InvalidWikiURL


class MediaWikiAccount(ProviderAccount):  # type: ignore[misc]  # allauth ships no types: its classes are Any
    def get_profile_url(self) -> str | None:
        username = self.account.extra_data.get("username")
        template = conf.userpage_template()
        if not isinstance(username, str) or not username or not template:
            return None
        return template.format(username=quote(username.replace(" ", "_"), safe=""))


class MediaWikiProvider(OAuth2Provider):  # type: ignore[misc]  # allauth ships no types: its classes are Any
    id = conf.PROVIDER_ID
    name = "MediaWiki"
    account_class = MediaWikiAccount
    oauth2_adapter_class = MediaWikiOAuth2Adapter
    pkce_enabled_default = True

    # -- the profile, as allauth's own provider maps it (``data`` is ``Identity.as_json()``) --
    def extract_uid(self, data: Mapping[str, Any]) -> str:
        return str(data["sub"])

    def extract_extra_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        # Never a token: those live encrypted in mwsso's store.
        return {
            "email": data.get("email"),
            "realname": data.get("realname"),
            "username": data.get("username"),
            "wiki": data.get("wiki"),  # the wiki key (mwsso.protocol.identity.wiki_key): server and script path
        }

    def extract_common_fields(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"email": data.get("email"), "username": data.get("username"), "name": data.get("realname")}

    def extract_email_addresses(self, data: Mapping[str, Any]) -> list[EmailAddress]:
        # mwsso.protocol.identity keeps an address only when the wiki confirmed it.
        address = data.get("email")
        return [EmailAddress(email=address, verified=True, primary=True)] if address else []

    # -- the way to the wiki ------------------------------------------------------------------
    def callback_url(self, request: HttpRequest) -> str:
        """The redirect URI: this site's callback, absolute (it must be the registered one, exactly)."""
        return cast(str, build_absolute_uri(request, reverse(f"{self.id}_callback")))  # allauth is untyped

    def redirect(
        self, request: HttpRequest, process: Any, next_url: str | None = None, data: Any = None, **kwargs: Any
    ) -> HttpResponse:
        kwargs.pop("auth_params", None)
        requested = kwargs.pop("scope", None)
        pkce = oauth2.pkce_pair()
        # The verifier lives in this browser's session only, inside the state allauth stashes, used once.
        state_id = self.stash_redirect_state(
            request, process, next_url, data, pkce_code_verifier=pkce.verifier, **kwargs
        )
        try:
            wiki_url = conf.wiki_url()
        except InvalidWikiURL as err:
            problem = LoginError(
                None,
                f"SOCIALACCOUNT_PROVIDERS['mediawiki']['REST_API'] is not usable: {err}",
                reason="bad_wiki_url",
                stage="begin",
            )
            return render_error(request, self, problem, step="begin")
        redirect_uri = self.callback_url(request)
        return HttpResponseRedirect(
            oauth2.authorize_url(
                wiki_url,
                self.app.client_id,
                state_id,
                pkce.challenge,
                redirect_uri=redirect_uri,
                scope=conf.scope(requested),
            )
        )


provider_classes = [MediaWikiProvider]
