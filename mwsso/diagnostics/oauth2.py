"""OAuth 2.0 checks: the client id is known, the secret is right, the redirect URI is the registered one.

Requests a client may make without a user, that create nothing on the wiki:
- a token request with a bogus authorization code: the wiki authenticates the client before it reads
  the code, so ``invalid_request`` / ``invalid_grant`` (400, "Cannot decrypt the authorization code")
  means the id and the secret are right; ``invalid_client`` (401) comes alike for an unknown id, a
  wrong secret and a client that is not approved, so it alone tells none of them apart;
- the public consumer page (``Special:OAuthListConsumers/view/<client id>``): "No consumer exists
  with the given key." for an unknown id; for a known one, its status and its registered redirect
  URI, which the site's must match exactly (OAuth 2.0 has no prefix option);
- a refresh with a bogus refresh token: a public client's code redemption is not authenticated, its
  refresh is, so this is what proves its secret (and that the client may refresh, which mwsso needs);
- only when the consumer page cannot be read: an authorize GET. It proves nothing on a real wiki,
  which sends a visitor who is not signed in to Special:UserLogin before it looks at the client or
  the redirect URI (every version, REL1_39 to REL1_45); that redirect is "not proven", never a pass.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import unquote

import requests

from mwsso import local_wiki
from mwsso.protocol.wikiurls import InvalidWikiURL, WikiURLs, wiki_urls

from .consumerpage import ConsumerPage
from .results import Result, _
from .target import OAuth2Client


def probe_token(
    session: requests.Session,
    urls: WikiURLs,
    client: OAuth2Client,
    grant_type: str = "authorization_code",
    **options: Any,
) -> requests.Response:
    # No such code or refresh token: only client authentication can pass, and nothing is issued.
    bogus = "mwsso-check-" + secrets.token_hex(16)
    data = {"grant_type": grant_type, "client_id": client.client_id, "client_secret": client.client_secret}
    data["code" if grant_type == "authorization_code" else "refresh_token"] = bogus
    return session.post(urls.rest_route("oauth2/access_token"), data=data, allow_redirects=False, **options)


def probe_authorize(
    session: requests.Session, urls: WikiURLs, client: OAuth2Client, redirect_uri: str = "", **options: Any
) -> requests.Response:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "state": secrets.token_urlsafe(16),
        # A public client without PKCE is refused before its redirect URI is looked at.
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return session.get(urls.rest_route("oauth2/authorize"), params=params, allow_redirects=False, **options)


def _error(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _authenticated(token: requests.Response) -> bool:
    # A bad code is 400 invalid_request; a bad refresh token 401 invalid_request ("The refresh token is invalid").
    return token.status_code in (400, 401) and _error(token) in ("invalid_request", "invalid_grant")


def client_result(
    token: requests.Response, page: ConsumerPage | None, refresh: requests.Response | None = None
) -> Result:
    """From the bogus-code token answer, told apart by the consumer page when the wiki refuses the client."""
    check = "oauth2.client"
    error = _error(token)
    if _authenticated(token):
        if refresh is not None and not _authenticated(refresh):
            return Result(
                check,
                "fail",
                _(
                    "The wiki refuses this client's refresh: the client secret is wrong (a public client's code "
                    "exchange does not check it) or the client may not use the refresh_token grant."
                ),
                _(
                    "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the secret the wiki shows for the client, and register "
                    'it with the "Refresh token" grant type.'
                ),
                {"status": refresh.status_code, "error": _error(refresh)},
            )
        if refresh is None:
            return Result(
                check,
                "pass",
                _(
                    "The OAuth 2.0 client id is known. It is a public client (no secret): it "
                    "cannot refresh, so users sign in again when their token expires."
                ),
            )
        return Result(check, "pass", _("The OAuth 2.0 client id is known and the client secret is right."))
    if error == "invalid_client":
        return _refused_client(check, page)
    if token.status_code == 404:
        return Result(
            check,
            "fail",
            _("The wiki has no OAuth 2.0 endpoints (rest.php/oauth2/access_token answers 404)."),
            _("Check SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL; the wiki needs Extension:OAuth with OAuth 2.0."),
        )
    return Result(
        check,
        "fail",
        _("The token endpoint answered HTTP %(status)s %(error)s.") % {"status": token.status_code, "error": error},
        _("See the wiki's answer."),
        {"status": token.status_code, "error": error},
    )


def _refused_client(check: str, page: ConsumerPage | None) -> Result:
    """invalid_client: which of an unknown id, an unapproved client and a wrong secret, as the consumer page says."""
    key_fix = _(
        "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY to the client application key shown at registration, or "
        "register one: manage.py mwsso_check --register."
    )
    secret_fix = _(
        "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the client secret shown at registration "
        "(reset it on Special:OAuthConsumerRegistration/list if it is lost)."
    )
    if page is not None and not page.known:
        return Result(
            check,
            "fail",
            _(
                "Unknown client: the wiki has no OAuth 2.0 client with this id (its consumer "
                "page says no consumer exists with this key)."
            ),
            key_fix,
            {"known": False},
        )
    if page is not None and page.status not in (None, "approved"):
        return Result(
            check,
            "fail",
            _("The wiki refuses the client because it is not approved (its status is %(status)s): see oauth2.approved.")
            % {"status": page.status},
            _("Until it is approved only its owner can use it."),
            {"status": page.status},
        )
    if page is not None and page.status == "approved":
        return Result(
            check,
            "fail",
            _("Wrong client secret: the wiki knows the client id but refuses its secret."),
            secret_fix,
            {"known": True},
        )
    return Result(
        check,
        "fail",
        _(
            "The wiki refuses the client: the id is unknown or the secret is wrong (the token endpoint answers both "
            "alike, and the wiki's consumer page, which would tell, could not be read)."
        ),
        key_fix + " " + secret_fix,
    )


def _is_login_redirect(authorize: requests.Response) -> bool:
    location = unquote(authorize.headers.get("Location", ""))
    return authorize.is_redirect and ("Special:UserLogin" in location or "Special:Userlogin" in location)


def redirect_result(
    client: OAuth2Client, page: ConsumerPage | None, authorize: requests.Response | None, client_ok: bool
) -> Result:
    """The redirect URI the wiki will use against the site's: the registered one (from the consumer page), exactly."""
    check = "oauth2.redirect_uri"
    if not client.redirect_uri:
        return Result(
            check,
            "skip",
            _("The site's URL is unknown, so its redirect URI cannot be built."),
            _("Pass --site-url https://your.site."),
        )
    if not client_ok:
        return Result(check, "skip", _("Not checked: the client itself is not usable (see oauth2.client)."))
    uri = {"uri": client.redirect_uri}
    registration = _('Register an OAuth 2.0 client with OAuth "callback" URL %(uri)s exactly.') % uri
    registered = page.callback if page is not None and page.known else None
    if registered is None:
        return _unproven(check, client, authorize, registration)
    if registered == client.redirect_uri:
        if client.sends_redirect_uri:
            return Result(
                check,
                "pass",
                _("The site sends the registered redirect URI, %(uri)s.") % uri,
                details={"registered": registered},
            )
        return Result(
            check,
            "pass",
            _("The registered redirect URI is the site's: %(uri)s.") % uri,
            details={"registered": registered},
        )
    names = {"uri": client.redirect_uri, "registered": registered}
    if client.sends_redirect_uri and local_wiki.takes_on_any_port(
        client.wiki_url, client.client_id, registered, client.redirect_uri
    ):
        # The local wiki's demo clients take any loopback port: true here, and said so, never a real wiki's pass.
        return Result(
            check,
            "pass",
            _(
                "The local wiki's demo client takes the redirect URI %(uri)s that the site "
                "sends on any port of 127.0.0.1 (registered: %(registered)s). This is a "
                "convenience of the local wiki only: a real wiki needs the registered one "
                "exactly."
            )
            % names,
            details={"registered": registered, "any_loopback_port": True},
        )
    fix = registration
    if client.sends_redirect_uri:
        summary = (
            _(
                "The wiki refuses the redirect URI %(uri)s that the site sends: the client's registered one is "
                "%(registered)s, and OAuth 2.0 needs exactly it (no prefix)."
            )
            % names
        )
        fix += " " + _("Or set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI to the registered one, if it is this site's.")
    else:
        summary = (
            _(
                "The site sends no redirect URI, so the wiki sends users to the registered one, %(registered)s, "
                "which is not %(uri)s."
            )
            % names
        )
    details = {"registered": registered}
    if client.redirect_uri_guessed:
        # An OAuth 2.0 redirect URI matches exactly, port included, and ALLOWED_HOSTS names no scheme or port:
        # the guess may be what is wrong, not the registration.
        summary += " " + _("That address was guessed from ALLOWED_HOSTS.")
        fix = (
            _(
                "Run mwsso_check --site-url with the address people open (scheme, host and port), e.g. "
                "--site-url https://mytool.toolforge.org; if it still fails: "
            )
            + fix
        )
        return Result(check, "warn", summary, fix, details)
    return Result(check, "fail", summary, fix, details)


def _unproven(check: str, client: OAuth2Client, authorize: requests.Response | None, registration: str) -> Result:
    """Without the consumer page: what the authorize GET can say, which is little on a real wiki."""
    uri = {"uri": client.redirect_uri}
    if authorize is None or _is_login_redirect(authorize):
        return Result(
            check,
            "skip",
            _(
                "Not proven: the wiki's consumer page does not show the registered redirect URI, and the wiki sends a "
                "visitor who is not signed in to its login page before it looks at the redirect URI. It must be "
                "exactly %(uri)s."
            )
            % uri,
            registration,
        )
    if authorize.is_redirect:
        return Result(check, "pass", _("The wiki accepts the redirect URI %(uri)s.") % uri)
    return Result(
        check,
        "fail",
        _("The wiki refuses the redirect URI %(uri)s (HTTP %(status)s).") % {**uri, "status": authorize.status_code},
        registration,
        {"status": authorize.status_code},
    )


def run(client: OAuth2Client, session: requests.Session, page: ConsumerPage | None, **options: Any) -> list[Result]:
    """client (id, secret) and redirect URI, from the token endpoint and the public consumer page ``page``."""
    try:
        urls = wiki_urls(client.wiki_url)
    except InvalidWikiURL as err:
        return [Result("oauth2.client", "fail", str(err), _("Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL."))]
    try:
        token = probe_token(session, urls, client, **options)
        refresh = None
        if _authenticated(token) and client.client_secret:
            refresh = probe_token(session, urls, client, "refresh_token", **options)
        client_check = client_result(token, page, refresh)
        ok = client_check.status == "pass"
        authorize = None
        if ok and client.redirect_uri and (page is None or not page.known or page.callback is None):
            sent = client.redirect_uri if client.sends_redirect_uri else ""
            authorize = probe_authorize(session, urls, client, sent, **options)
    except requests.RequestException as err:
        return [
            Result(
                "oauth2.client",
                "fail",
                _("The wiki's OAuth 2.0 endpoints could not be reached (%(error)s).") % {"error": type(err).__name__},
                _("Check SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL."),
            )
        ]
    return [client_check, redirect_result(client, page, authorize, ok)]


def registration_results(
    page: Any, client_ok: bool, required: tuple[str, ...], allowed_wikis: tuple[str, ...]
) -> list[Result]:
    from . import oauth1

    return [
        oauth1.approved_result(page, client_ok, check="oauth2.approved"),
        oauth1.grants_result(page, required, allowed_wikis, check="oauth2.grants"),
    ]
