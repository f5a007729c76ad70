"""An OAuth 2.0 client secret that cannot be right, found before anyone is sent to the wiki's consent page.

The wiki checks the client secret only at the token step, after the person has signed in on the wiki
and pressed Allow: a secret that cannot work wastes their time and ends on an error page. What mwsso
can tell without asking the wiki is refused earlier, by the system check ``mwsso.E053`` and by the
sign-in start (the misconfiguration page, with the fix in the log):

- a secret of white space only, or with white space around it (a secret never has any: a pasted
  line end, an empty environment variable quoted with a space);
- no secret for one of the local wiki's confidential built-in clients (the quick start's demo
  client), which the wiki refuses without it.

An empty secret for any other client may be a public client's, which works (warning ``mwsso.W050``);
``manage.py mwsso_check`` asks the wiki whether the secret is right.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from mwsso import local_wiki
from mwsso.app_settings import app_settings
from mwsso.exceptions import LoginError

#: What is wrong, as the misconfiguration page and check mwsso.E053 say it: (problem, fix, parameters).
Problem = tuple[Any, Any, dict[str, Any]]

REASON = "unusable_client_secret"
_FIX = _(
    "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the client application secret shown at registration, "
    "exactly, without spaces."
)


def problem() -> Problem | None:
    """What is wrong with ``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET`` for sure, or None."""
    secret = app_settings.MEDIAWIKI_OAUTH2_SECRET
    client_id = app_settings.MEDIAWIKI_OAUTH2_KEY
    if secret and not secret.strip():
        return (_("SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET is blank (white space only)."), _FIX, {})
    if secret != secret.strip():
        return (
            _("SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET starts or ends with white space, which no client secret has."),
            _FIX,
            {},
        )
    wiki_url = app_settings.MEDIAWIKI_OAUTH2_URL
    if not secret and client_id in local_wiki.CONFIDENTIAL_OAUTH2_CLIENTS and local_wiki.is_local(wiki_url):
        return (
            _(
                "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET is empty, but the local wiki's client %(client_id)s is confidential: "
                "the wiki would refuse the sign-in after the consent page."
            ),
            _(
                "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to that client's secret (docs/devwiki.md lists it; the README's "
                '"Add OAuth 2.0" step has it as the default).'
            ),
            {"client_id": client_id},
        )
    return None


def refuse_unusable_secret(backend: Any) -> None:
    """At the sign-in start: raise the LoginError that ends on the misconfiguration page, before the wiki is asked."""
    found = problem()
    if found is not None:
        # The log line gets the problem in English from the error page's handler (never the secret itself).
        raise LoginError(backend, "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET cannot be right", reason=REASON, stage="begin")
