"""Sign-in failures that are the site's own configuration: trying again cannot help, the operator must fix it.

Only what the wiki answered this site directly is judged: the consumer-only signed initiate (OAuth
1.0a: nothing of a user's is in it yet, so any refusal of the consumer, the signature, the clock or
the callback is the site's), the OAuth 2.0 client's authentication at the token endpoint, and the
issuer of an identify JWT whose signature with the site's own secret checked out. Text that arrived
in a callback URL could be anyone's and is never taken as the site's fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mwsso.app_settings import app_settings
from mwsso.backends.client_secret import problem as unusable_secret
from mwsso.diagnostics.oauth1 import classify as classify_initiate
from mwsso.exceptions import IdentityRejected, LoginError, WikiRefused
from mwsso.protocol import oauth1, oauth2

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Misconfiguration:
    """What is wrong with the site's set-up and the change that fixes it, for the operator.

    ``problem`` and ``fix`` are translatable templates filled with ``params`` when read, so that
    the log gets them in English and the page (in DEBUG) in the person's language.
    """

    problem: Any
    fix: Any
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> tuple[str, str]:
        """``(problem, fix)`` in the active language."""
        return str(self.problem) % self.params, str(self.fix) % self.params


_INITIATE: dict[str, Misconfiguration] = {
    "unknown_consumer": Misconfiguration(
        _("The wiki has no consumer with the key in SOCIAL_AUTH_MEDIAWIKI_KEY."),
        _(
            "Set SOCIAL_AUTH_MEDIAWIKI_KEY to the consumer token shown when the consumer was registered on this wiki, "
            "or register one (manage.py mwsso_check --register)."
        ),
    ),
    "bad_signature": Misconfiguration(
        _(
            "The wiki refuses the signature of this site's own request: the consumer secret is wrong, or "
            "SOCIAL_AUTH_MEDIAWIKI_URL does not use the wiki's own host name ($wgServer)."
        ),
        _(
            "Set SOCIAL_AUTH_MEDIAWIKI_SECRET to the consumer secret shown at registration, and SOCIAL_AUTH_MEDIAWIKI_URL "
            "to the wiki's index.php under its own host name."
        ),
    ),
    "clock": Misconfiguration(
        _("The wiki refuses the request's timestamp: this server's clock is more than 5 minutes off."),
        _("Synchronise this server's clock (NTP)."),
    ),
    "owner_only": Misconfiguration(
        _("The consumer is owner-only: it cannot sign anyone in."),
        _('Register a consumer without "This consumer is for use only by …" (manage.py mwsso_check --register).'),
    ),
    "no_secret": Misconfiguration(
        _("The consumer was registered with an RSA key, not a secret."),
        _("Register a consumer with a secret (manage.py mwsso_check --register)."),
    ),
    "source_ip": Misconfiguration(
        _("The consumer's IP restriction does not allow this server's address."),
        _("Update the consumer's allowed IP ranges on Special:OAuthConsumerRegistration/list on the wiki."),
    ),
}


def diagnose(err: Exception, request: HttpRequest) -> Misconfiguration | None:
    """The site's misconfiguration that made ``err`` happen, or None when it is not (or not surely) the site's."""
    if not isinstance(err, LoginError):
        return None
    if err.reason == "bad_wiki_url":
        return Misconfiguration(
            _("The wiki URL is not usable: %(detail)s"),
            _("Set it to the wiki's index.php URL, e.g. https://meta.wikimedia.org/w/index.php."),
            {"detail": err.detail},
        )
    if isinstance(err, IdentityRejected) and err.reason == "wrong_issuer":
        # Checked after the JWT's signature with the site's secret: the wiki named itself differently.
        return Misconfiguration(
            _("The wiki names itself differently from SOCIAL_AUTH_MEDIAWIKI_URL: %(detail)s."),
            _(
                "Set SOCIAL_AUTH_MEDIAWIKI_URL to the wiki's canonical server, or MWSSO_IDENTIFY_ISSUER to the issuer "
                "the wiki sends (its $wgCanonicalServer)."
            ),
            {"detail": err.detail},
        )
    if err.reason == "unusable_client_secret":  # mwsso.backends.client_secret, at the sign-in start
        found = unusable_secret()
        return Misconfiguration(*found) if found is not None else None
    cause = err.__cause__
    if not isinstance(err, WikiRefused) or cause is None:
        return None
    # (only OAuth 1.0a has an "initiate" step)
    if err.stage == "begin" and isinstance(cause, oauth1.OAuth1Error) and cause.step == "initiate":
        kind = classify_initiate(cause)
        if kind == "callback":
            return _refused_callback(err, request)
        return _INITIATE.get(kind)
    if (
        isinstance(cause, oauth2.OAuth2Error)
        and cause.step in ("token", "refresh")
        and cause.wiki_code == "invalid_client"
    ):
        return _refused_oauth2_client()
    return None


def _refused_callback(err: WikiRefused, request: HttpRequest) -> Misconfiguration:
    sent = _sent_callback(err.backend)
    problem = _(
        "The wiki refuses the callback %(callback)s (%(code)s): the consumer's registered callback is not a "
        "prefix of it."
    )
    params = {"callback": sent, "code": err.wiki_code or err.wiki_message, "host": request.get_host()}
    if err.wiki_code == "mwoauth-callback-not-oob":
        return Misconfiguration(
            _('The consumer was registered without "callback is a prefix", so the wiki takes only "oob".'),
            _('Set SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob" (the wiki then uses the registered callback).'),
        )
    if _is_local_wiki() and urlsplit(sent).hostname != "127.0.0.1":
        return Misconfiguration(
            problem,
            _(
                "The local wiki's consumers accept callbacks on http://127.0.0.1 only: open this site at "
                "%(site)s, not at %(host)s."
            ),
            {**params, "site": _on_loopback(request)},
        )
    return Misconfiguration(
        problem,
        _(
            "Open the site at the address its consumer's callback was registered with, or set "
            'SOCIAL_AUTH_MEDIAWIKI_CALLBACK to a URL that starts with the registered callback, or to "oob" to use the '
            "registered one. manage.py mwsso_check --site-url <this site's URL> says which."
        ),
        params,
    )


def _refused_oauth2_client() -> Misconfiguration:
    if not app_settings.MEDIAWIKI_OAUTH2_SECRET:
        return Misconfiguration(
            _(
                "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET is empty, so this site signs in as a public client, and the wiki "
                "refuses that client (invalid_client): it is a confidential client."
            ),
            _("Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the client application secret shown at registration."),
        )
    return Misconfiguration(
        _(
            "The wiki refuses this site's OAuth 2.0 client (invalid_client): the client secret is wrong, the client id "
            "is unknown, or a redirect URI was sent that differs from the registered one."
        ),
        _(
            "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY and SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the client application key "
            "and secret shown at registration; manage.py mwsso_check tells which is wrong."
        ),
    )


def _on_loopback(request: HttpRequest) -> str:
    """This site's root at 127.0.0.1, on the port the request came to."""
    port = urlsplit(f"//{request.get_host()}").port
    return f"http://127.0.0.1{f':{port}' if port else ''}/"


def _sent_callback(backend: Any) -> str:
    try:
        return str(backend.callback())
    except Exception:  # a backend without one (or a broken request): the message still names the setting
        return "SOCIAL_AUTH_MEDIAWIKI_CALLBACK"


def _is_local_wiki() -> bool:
    return urlsplit(app_settings.MEDIAWIKI_URL).hostname in LOOPBACK
