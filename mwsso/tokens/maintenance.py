"""Purging stored access tokens and re-encrypting them under a new key, in batches."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import router, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from mwsso import crypto
from mwsso.exceptions import TokenUnreadable
from mwsso.models import AccessToken
from mwsso.tokens.bulk import update_by_pk

logger = logging.getLogger("mwsso.tokens.maintenance")

Status = AccessToken.Status


# -- purging ------------------------------------------------------------------
def purge_queryset(
    *,
    statuses: Iterable[str] | None = None,
    unused_days: int | None = None,
    queryset: QuerySet[AccessToken] | None = None,
) -> QuerySet[AccessToken]:
    """Tokens with one of ``statuses`` OR unused for ``unused_days`` days; by default the revoked and invalid ones."""
    statuses = list(statuses or ())
    if not statuses and unused_days is None:
        statuses = [Status.REVOKED, Status.INVALID]
    criteria = Q(status__in=statuses) if statuses else Q()
    if unused_days is not None:
        cutoff = timezone.now() - timedelta(days=unused_days)
        criteria |= Q(last_used__lt=cutoff) | Q(last_used__isnull=True, created__lt=cutoff)
    return (AccessToken.objects.all() if queryset is None else queryset).filter(criteria)


@dataclass(frozen=True)
class PurgeResult:
    count: int
    by_status: dict[str, int]
    dry_run: bool


def purge_tokens(
    *,
    statuses: Iterable[str] | None = None,
    unused_days: int | None = None,
    queryset: QuerySet[AccessToken] | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
) -> PurgeResult:
    """Delete the tokens ``purge_queryset`` selects (nothing with ``dry_run``), in batches."""
    selected = purge_queryset(statuses=statuses, unused_days=unused_days, queryset=queryset)
    by_status = dict(selected.order_by().values_list("status").annotate(n=Count("pk")))
    if dry_run:
        return PurgeResult(sum(by_status.values()), by_status, True)
    deleted: Counter[str] = Counter()
    while pks := list(selected.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            # The criteria are applied again: a token re-authorised meanwhile stays.
            batch = selected.filter(pk__in=pks)
            deleted.update(batch.values_list("status", flat=True))
            batch.delete()
    logger.info("purged %s access tokens (%s)", deleted.total(), dict(deleted))
    return PurgeResult(deleted.total(), dict(deleted), False)


# -- rotating keys ------------------------------------------------------------
class RotationStopped(TokenUnreadable):
    """Rotation met a token no key (configured or derived from SECRET_KEY) can decrypt; nothing was changed for it."""

    def __init__(self, token_id: int, key_id: str, rotated: int) -> None:
        super().__init__(f"access token {token_id} (encrypted with key id {key_id}) cannot be decrypted")
        self.token_id = token_id
        self.key_id = key_id
        self.rotated = rotated


@dataclass
class RotateResult:
    rotated: int = 0
    batches: int = 0
    unreadable: list[int] = field(default_factory=list)


def rotate_keys(
    batch_size: int = 500,
    *,
    skip_unreadable: bool = False,
    progress: Callable[[RotateResult], None] | None = None,
) -> RotateResult:
    """Re-encrypt every token not yet under the key that encrypts (``crypto.primary_key``).

    Tokens under a key derived from SECRET_KEY or SECRET_KEY_FALLBACKS are read
    with it and moved too, so that afterwards no token depends on SECRET_KEY.

    Per batch: one SELECT, the decryption and encryption outside any transaction,
    then ONE conditional UPDATE (a CASE on the primary key), so a row is locked only
    for that one statement, never while the batch is being re-encrypted. A rerun
    picks up the tokens whose ``key_id`` is not the primary one, so an interrupted
    rotation just continues. A token is written only if its ciphertext did not
    change meanwhile, so a concurrent login is never overwritten. An unreadable
    token stops the run before its batch is written (raising ``RotationStopped``)
    unless ``skip_unreadable``: it is then left as it is and reported, never deleted.
    """
    primary = crypto.primary_key_id()
    result = RotateResult()
    last_pk = 0
    while True:
        pending = (
            AccessToken.objects.using(router.db_for_write(AccessToken))  # the ciphertexts the compare-and-set will meet
            .filter(pk__gt=last_pk)
            .exclude(key_id=primary)
            .order_by("pk")
        )
        batch = list(pending.values_list("pk", "encrypted", "key_id")[:batch_size])
        if not batch:
            break
        old: dict[int, str] = {}
        new: dict[int, str] = {}
        for pk, encrypted, key_id in batch:
            try:
                plaintext = crypto.decrypt(encrypted)
            except crypto.InvalidToken:
                if not skip_unreadable:
                    raise RotationStopped(pk, key_id, result.rotated) from None
                result.unreadable.append(pk)
                continue
            old[pk] = encrypted
            new[pk] = crypto.encrypt(plaintext)
        if new:
            result.rotated += rewrite_ciphertexts(old, new, primary)
        last_pk = batch[-1][0]
        result.batches += 1
        if progress is not None:
            progress(result)
    logger.info("re-encrypted %s access tokens with key id %s", result.rotated, primary)
    return result


def rewrite_ciphertexts(old: dict[int, str], new: dict[int, str], key_id: str) -> int:
    """Set each token's ciphertext to ``new[pk]`` (and its ``key_id``) where it is still ``old[pk]``: one UPDATE.

    Returns how many rows changed; a token rewritten meanwhile (a new sign-in) keeps its newer ciphertext.
    """
    return update_by_pk(AccessToken, {"encrypted": new}, only_where={"encrypted": old}, constants={"key_id": key_id})


@dataclass(frozen=True)
class KeyUsage:
    key_id: str
    position: int | None  # index among the decrypting keys (0: the one that encrypts); None: no known key has this id
    tokens: int
    label: str = ""  # "MWSSO_TOKEN_KEYS[1]", "derived from SECRET_KEY", "derived from SECRET_KEY_FALLBACKS[0]", …
    derived: bool = False

    @property
    def known(self) -> bool:
        return self.position is not None


UNKNOWN_KEY = "no known key"


def key_usage() -> list[KeyUsage]:
    """How many tokens each key encrypts: an old key can go once it encrypts none.

    Every configured key is listed; a key derived from SECRET_KEY or one of its
    fallbacks only while it encrypts (the primary key, when none is configured)
    or some token still uses it; a key id no key has, with its token count.
    """
    keys = crypto.decryption_keys()
    counts = dict(AccessToken.objects.order_by().values_list("key_id").annotate(n=Count("pk")))
    usage = [
        KeyUsage(key.id, position, counts.pop(key.id, 0), key.label, key.is_derived)
        for position, key in enumerate(keys)
    ]
    usage = [u for u in usage if not u.derived or u.position == 0 or u.tokens]
    return usage + [KeyUsage(kid, None, n, UNKNOWN_KEY) for kid, n in sorted(counts.items())]
