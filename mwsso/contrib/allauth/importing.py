"""Moving the plain-text tokens of allauth's own MediaWiki provider into mwsso's encrypted store.

With ``SOCIALACCOUNT_STORE_TOKENS``, ``allauth.socialaccount.providers.mediawiki`` keeps each user's
OAuth 2.0 access token in ``SocialToken.token`` and the refresh token in ``token_secret``, in plain
text, with ``expires_at``. ``import_tokens`` moves each into an encrypted ``AccessToken`` of the
account's user and deletes the plain row, one row per transaction (the row locked and read again
inside it), so it can be killed and rerun at any point: a row is either untouched, or imported and
deleted. A user who already has an mwsso token for the wiki keeps it (a later sign-in) and the plain
row is deleted all the same. The wiki is the configured one; the client the row's ``SocialApp``, or
the only client configured in settings. Grants are unknown until the next sign-in or ``verify``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialToken
from django.db import transaction
from django.db.models import QuerySet

from mwsso.contrib.allauth import conf
from mwsso.models import AccessToken
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.tokens import ImportNotConfigured, ImportResult
from mwsso.tokens.importing import import_in_batches, save_imported

logger = logging.getLogger("mwsso.allauth.importing")

IMPORTED_REASON = "imported from django-allauth's MediaWiki provider; not verified yet"


@dataclass(frozen=True)
class Target:
    wiki: str
    wiki_url: str
    settings_client_id: str  # for rows whose app is not a SocialApp row ("" when several are configured)


def plain_token_rows() -> QuerySet[SocialToken]:
    """allauth's token rows of the ``mediawiki`` provider: every one holds a plain-text token."""
    rows: QuerySet[SocialToken] = SocialToken.objects.filter(account__provider=conf.PROVIDER_ID)  # allauth is untyped
    return rows


def import_target() -> Target:
    try:
        wiki_url, wiki = conf.wiki_url(), conf.wiki_key()
    except (InvalidWikiURL, ValueError) as err:
        raise ImportNotConfigured(
            f"SOCIALACCOUNT_PROVIDERS['mediawiki']['REST_API'] is not a wiki URL ({err})"
        ) from None
    # A row whose app is not a SocialApp row came from an app in settings (allauth saves no FK for those).
    in_settings = {app.client_id for app in get_adapter().list_apps(None, provider=conf.PROVIDER_ID) if app.pk is None}
    return Target(wiki, wiki_url, next(iter(in_settings)) if len(in_settings) == 1 else "")


def import_tokens(
    *, batch_size: int = 200, dry_run: bool = False, progress: Callable[[ImportResult], None] | None = None
) -> ImportResult:
    """Move every plain-text token of the provider into mwsso's store; ``dry_run`` counts without writing."""
    target = import_target()
    return import_in_batches(
        plain_token_rows,
        lambda pk, result: _import_row(pk, target, result, dry_run),
        batch_size=batch_size,
        dry_run=dry_run,
        progress=progress,
        what="allauth's MediaWiki tokens",
    )


def _import_row(pk: int, target: Target, result: ImportResult, dry_run: bool) -> None:
    with transaction.atomic():
        # The account joined (never null); the app read after (a nullable join cannot be locked on PostgreSQL).
        row = SocialToken.objects.select_for_update().select_related("account").filter(pk=pk).first()
        if row is None:
            return  # imported by another run, or deleted by a sign-in, meanwhile
        result.found += 1
        client_id = row.app.client_id if row.app is not None else target.settings_client_id
        problem = _problem(row, client_id)
        if problem:
            result.malformed += 1
            logger.warning("SocialToken %s (user %s): %s; left as it is", pk, row.account.user_id, problem)
            return
        user_id = row.account.user_id
        save_imported(user_id, target.wiki, lambda: _new_token(user_id, target, client_id, row), result, dry_run)
        if not dry_run:
            row.delete()


def _new_token(user_id: int, target: Target, client_id: str, row: SocialToken) -> AccessToken:
    token = AccessToken(
        user_id=user_id, wiki=target.wiki, wiki_url=target.wiki_url, consumer_key=client_id, oauth_version=2,
        expires_at=row.expires_at, grants=[], status=AccessToken.Status.VALID, status_reason=IMPORTED_REASON,
    )  # fmt: skip
    token.set_credentials(row.token, "", refresh_token=row.token_secret)
    return token


def _problem(row: SocialToken, client_id: str) -> str:
    """Why a row cannot be imported (never its values), or ""."""
    if not isinstance(row.token, str) or not row.token.strip():
        return "the access token is empty"
    if not client_id:
        return "no SocialApp, and not exactly one client in SOCIALACCOUNT_PROVIDERS['mediawiki']: whose client is it?"
    return ""
