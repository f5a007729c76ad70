"""Importing the plain-text access tokens social-core's stock MediaWiki backend left in ``UserSocialAuth.extra_data``.

The stock backend (``social_core.backends.mediawiki.MediaWiki``) stores each
user's token as ``extra_data["access_token"] = {"oauth_token": …,
"oauth_token_secret": …}`` beside ``auth_time`` (and whatever
``SOCIAL_AUTH_MEDIAWIKI_EXTRA_DATA`` added). ``import_social_tokens`` moves
each one into an encrypted ``AccessToken`` and removes the plain copy, one batch
per transaction (a few queries per batch, whatever its size), so it can be killed
and rerun at any point: a row is either untouched or both imported and cleaned. The wiki and consumer are the current
settings' (a site keeps its consumer when it switches backends); the grants are
unknown until the user's next sign-in or ``mwsso_tokens verify``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mwsso.app_settings import app_settings
from mwsso.exceptions import ConfigurationError
from mwsso.models import AccessToken
from mwsso.protocol.identity import wiki_key
from mwsso.tokens.bulk import insert_rows, update_by_pk
from mwsso.tokens.verify import configured_consumer

if TYPE_CHECKING:
    from social_django.models import UserSocialAuth

logger = logging.getLogger("mwsso.tokens.importing")

PROVIDER = "mediawiki"
FIELD = "access_token"
IMPORTED_REASON = "imported from social-core's stock backend; not verified yet"


class ImportNotConfigured(ConfigurationError):
    """The site's consumer or wiki URL is not set, so imported tokens could not be used; nothing was changed."""


@dataclass
class ImportResult:
    """Counts of one run. ``found`` counts rows holding a stock token field, readable or not."""

    found: int = 0
    imported: int = 0  # new encrypted AccessToken rows
    already_present: int = 0  # the user already had an mwsso token for this wiki: it is kept
    removed: int = 0  # plain copies removed from extra_data (imported + already present)
    malformed: int = 0  # left as they are, one log line each
    dry_run: bool = False


def stock_token_rows() -> QuerySet[UserSocialAuth]:
    """Associations that may still hold a stock plain-text token (also a string-encoded ``extra_data`` that names one)."""
    # Imported here: mwsso.tokens serves sites without social_django too (django-allauth's, mwsso.contrib.allauth).
    from social_django.models import UserSocialAuth

    # has_key finds the stock shape; the text match finds an extra_data stored as a JSON string.
    holds_token = Q(extra_data__has_key=FIELD) | Q(extra_data__icontains="oauth_token_secret")
    return UserSocialAuth.objects.filter(provider=PROVIDER).filter(holds_token)


def stock_credentials(extra_data: Any) -> tuple[str, str] | str | None:
    """The (key, secret) of a stock token; a reason (never a value) when malformed; None when there is no token field.

    Pure: ``extra_data`` is the decoded JSON value of ``UserSocialAuth.extra_data``.
    """
    if not isinstance(extra_data, dict):
        return f"extra_data is a JSON {type(extra_data).__name__}, not an object"
    if FIELD not in extra_data:
        return None
    token = extra_data[FIELD]
    if not isinstance(token, dict):
        return f"extra_data's {FIELD} is a JSON {type(token).__name__}, not an object"
    for name in ("oauth_token", "oauth_token_secret"):
        value = token.get(name)
        if value is None:
            return f"extra_data's {FIELD}.{name} is missing"
        if not isinstance(value, str) or not value.strip():
            return f"extra_data's {FIELD}.{name} is not text (a JSON {type(value).__name__}) or is empty"
    # As stored: a secret is used exactly as the wiki issued it.
    return token["oauth_token"], token["oauth_token_secret"]


def import_target() -> dict[str, str]:
    """Where imported tokens belong: the configured wiki (as its identify JWT names it) and consumer."""
    consumer = configured_consumer()
    if not consumer.key or not consumer.secret:
        raise ImportNotConfigured("SOCIAL_AUTH_MEDIAWIKI_KEY and SOCIAL_AUTH_MEDIAWIKI_SECRET must be set")
    wiki_url = app_settings.MEDIAWIKI_URL
    try:
        # The key a sign-in stores (mwsso.protocol.identity.wiki_key), so the next sign-in replaces this row, not adds one.
        wiki = wiki_key(wiki_url)
    except ValueError as err:
        raise ImportNotConfigured(f"SOCIAL_AUTH_MEDIAWIKI_URL is not an http(s) URL ({err})") from None
    return {"wiki": wiki, "wiki_url": wiki_url, "consumer_key": consumer.key}


def import_social_tokens(
    *,
    batch_size: int = 200,
    dry_run: bool = False,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Move every stock plain-text token into an encrypted ``AccessToken`` and remove the plain copy.

    Rows are read ``batch_size`` at a time, and each batch moves in one short
    transaction with a fixed number of queries: its associations read and locked
    (one SELECT), which of their users already have a token (one SELECT), the new
    tokens written (one INSERT) and the plain copies removed (one UPDATE).
    Idempotent: a moved row no longer matches, and a user who already has an mwsso
    token for the wiki keeps it (it came from a later sign-in) while the plain copy
    is still removed. With ``dry_run`` nothing is written or locked; the counts say
    what a real run would do.
    """
    target = import_target()
    result = ImportResult(dry_run=dry_run)
    # A dry run writes no token, so it remembers whom it would have given one (a user's later stock row).
    would_import: set[Any] | None = set() if dry_run else None
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = stock_token_rows().filter(pk__gt=last_pk).order_by("pk").only("pk", "user_id", "extra_data")
            batch = list((rows if dry_run else rows.select_for_update())[:batch_size])
            if not batch:
                break
            _import_batch(batch, target, result, would_import)
        last_pk = batch[-1].pk
        if progress is not None:
            progress(result)
    _log_result(result, "stock access tokens")
    return result


def _import_batch(
    batch: list[UserSocialAuth], target: dict[str, str], result: ImportResult, would_import: set[Any] | None
) -> None:
    """One batch, inside its transaction: count, write the new tokens, remove the plain copies (None: a dry run)."""
    from social_django.models import UserSocialAuth

    dry_run = would_import is not None

    movable: list[tuple[UserSocialAuth, tuple[str, str]]] = []
    for social in batch:
        credentials = stock_credentials(social.extra_data)
        if credentials is None:
            continue  # only a text match (or cleaned meanwhile)
        result.found += 1
        if isinstance(credentials, str):
            result.malformed += 1
            logger.warning("UserSocialAuth %s (user %s): %s; left as it is", social.pk, social.user_id, credentials)
            continue
        movable.append((social, credentials))
    if not movable:
        return
    users = {social.user_id for social, _credentials in movable}
    taken = set(AccessToken.objects.filter(wiki=target["wiki"], user_id__in=users).values_list("user_id", flat=True))
    if would_import is not None:
        taken |= users & would_import
    new_tokens = []
    for social, credentials in movable:
        if social.user_id not in taken:
            taken.add(social.user_id)  # a user's second stock row keeps the first one's token
            new_tokens.append(_stock_token_row(social.user_id, credentials))
    imported = len(new_tokens)
    if not dry_run:
        imported = _insert_tokens(new_tokens, target)
        cleaned = {
            social.pk: {k: v for k, v in social.extra_data.items() if k != FIELD} for social, _credentials in movable
        }
        update_by_pk(UserSocialAuth, {"extra_data": cleaned})
    if would_import is not None:
        would_import.update(token["user_id"] for token in new_tokens)
    result.imported += imported
    result.already_present += len(movable) - imported
    result.removed += len(movable)


def _insert_tokens(tokens: list[dict[str, Any]], target: dict[str, str]) -> int:
    """One INSERT for the batch; if a sign-in stored a token for one of these users meanwhile, one by one.

    Returns how many were stored: a token that lost to a sign-in's newer one counts as already present.
    """
    if not tokens:
        return 0
    constants = _stock_token_constants(target)
    try:
        with transaction.atomic():
            return insert_rows(AccessToken, tokens, constants)
    except IntegrityError:
        pass
    stored = 0
    for token in tokens:
        try:
            with transaction.atomic():
                AccessToken(**constants, **token).save(force_insert=True)
            stored += 1
        except IntegrityError:
            pass  # a sign-in stored one meanwhile: it is newer
    return stored


def _log_result(result: ImportResult, what: str) -> None:
    logger.info(
        "%simported %s: %s found, %s imported, %s already present, %s removed, %s malformed",
        "dry run: " if result.dry_run else "", what, result.found, result.imported, result.already_present,
        result.removed, result.malformed,
    )  # fmt: skip


def import_in_batches(
    rows: Callable[[], QuerySet[Any]],
    import_row: Callable[[int, ImportResult], None],
    *,
    batch_size: int,
    dry_run: bool,
    progress: Callable[[ImportResult], None] | None,
    what: str,
) -> ImportResult:
    """``import_row(pk, result)`` for every row of ``rows()``, its pks read ``batch_size`` at a time.

    Each batch is read afresh after the last pk seen, so rows a rerun (or a sign-in) dealt with
    meanwhile drop out; ``progress`` is called after each batch, and one log line gives the counts.
    """
    result = ImportResult(dry_run=dry_run)
    last_pk = 0
    while pks := list(rows().filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]):
        for pk in pks:
            import_row(pk, result)
        last_pk = pks[-1]
        if progress is not None:
            progress(result)
    _log_result(result, what)
    return result


def save_imported(
    user_id: Any, wiki: str, new_token: Callable[[], AccessToken], result: ImportResult, dry_run: bool
) -> None:
    """Save ``new_token()`` unless the user already has a token for ``wiki`` (a later sign-in's: kept); count it either way.

    The plain copy is to be removed in both cases (``result.removed``); nothing is saved in a dry run.
    """
    has_token = AccessToken.objects.filter(user_id=user_id, wiki=wiki).exists()
    if not dry_run and not has_token:
        try:
            with transaction.atomic():
                new_token().save(force_insert=True)
        except IntegrityError:
            has_token = True  # a sign-in stored one meanwhile: it is newer
    if has_token:
        result.already_present += 1
    else:
        result.imported += 1
    result.removed += 1


def _stock_token_row(user_id: Any, credentials: tuple[str, str]) -> dict[str, Any]:
    """A stock token's own values: its user and its encrypted credentials (the rest: ``_stock_token_constants``)."""
    return {"user_id": user_id, **AccessToken.credential_fields(*credentials)}


def _stock_token_constants(target: dict[str, str]) -> dict[str, Any]:
    # No grants, so no grant set (``grant_set`` keeps its default, None); this raw INSERT (mwsso.tokens.bulk)
    # bypasses the model, which is what writes a grant set with any other grants.
    now = timezone.now()
    return {
        **target, "oauth_version": 1, "grants": [], "status": AccessToken.Status.VALID,
        "status_reason": IMPORTED_REASON, "created": now, "updated": now,
    }  # fmt: skip
