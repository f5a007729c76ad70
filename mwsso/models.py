"""What mwsso stores: each user's wiki identity and their encrypted access token."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mwsso import crypto, signals
from mwsso.exceptions import TokenUnreadable
from mwsso.protocol.identity import wiki_key


class WikiIdentity(models.Model):
    """The latest identity a wiki vouched for, refreshed at every login (see ``mwsso.identity_for``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wiki_identities")
    wiki = models.CharField(
        _("wiki"), max_length=255, help_text=_("The wiki's server and script path (mwsso.protocol.identity.wiki_key).")
    )
    sub = models.CharField(_("central user id"), max_length=64)
    username = models.CharField(_("wiki username"), max_length=255, db_index=True)
    editcount = models.PositiveBigIntegerField(_("edit count"), default=0)
    confirmed_email = models.BooleanField(_("confirmed email"), default=False)
    blocked = models.BooleanField(_("blocked"), default=False)
    registered = models.DateTimeField(_("registered"), null=True, blank=True)
    groups = models.JSONField(_("groups"), default=list, blank=True)
    rights = models.JSONField(_("rights"), default=list, blank=True)
    grants = models.JSONField(_("grants"), default=list, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), default=timezone.now)

    class Meta:
        verbose_name = _("wiki identity")
        verbose_name_plural = _("wiki identities")
        constraints = [
            models.UniqueConstraint(fields=["wiki", "sub"], name="mwsso_identity_unique_wiki_sub"),
            models.UniqueConstraint(fields=["user", "wiki"], name="mwsso_identity_unique_user_wiki"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.wiki}"

    @property
    def effective_groups(self) -> list[str]:
        """Groups without the implicit ``*`` every visitor has."""
        return [group for group in self.groups if group != "*"]


@dataclass(frozen=True)
class Credentials:
    """A decrypted access token. Its repr shows the OAuth version and the key's fingerprint, never a secret part."""

    key: str = dataclasses.field(repr=False)
    secret: str = dataclasses.field(repr=False)
    oauth_version: int = 1
    # OAuth 2.0: the refresh token ("" when the wiki gave none); ``key`` is the access token, ``secret`` "".
    refresh_token: str = dataclasses.field(default="", repr=False)
    # Derived from key (so not compared): what the repr names the token by.
    fingerprint: str = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.key))  # frozen: set once, as dataclasses do


def fingerprint(token_key: str) -> str:
    """A short, non-reversible name for a token key, safe to show in the admin and logs."""
    return hashlib.sha256(b"mwsso-fingerprint:" + token_key.encode()).hexdigest()[:12]


def grant_key(grant: str) -> str:
    """A grant's name as 16 hex digits: what ``GrantSet.grant_keys`` holds and the grant filter looks for.

    Hex digits compare the same under every collation (MariaDB's ignore case, SQLite's ``LIKE`` ignores
    ASCII case), so a grant matches exactly its own name on every database.
    """
    return hashlib.sha256(b"mwsso-grant:" + grant.encode()).hexdigest()[:16]


def canonical_grants(grants: Iterable[Any]) -> list[str]:
    """The grants a list names, as a set: sorted, each once (what is not a string names no grant)."""
    return sorted({grant for grant in grants if isinstance(grant, str)})


class GrantSet(models.Model):
    """One distinct combination of grants that some access token has (``AccessToken.grant_set``).

    There are about as many as consumers and grant choices, not as tokens: the grant filter selects the few
    sets containing a grant here, then the tokens of those sets by an index (``mwsso_token_grant_set``),
    where matching each token's JSON list scanned the whole token table. Rows are only ever added (by
    ``grant_set_id``); a set still referenced cannot be deleted (``PROTECT``).
    """

    # sha256 of the sorted names as JSON: one row per combination, whichever worker sees it first.
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    grants = models.JSONField(_("grants"), default=list, editable=False)
    # " key1 key2 … ": each grant's ``grant_key``, space-delimited, so that ``contains(" key ")`` is exact.
    grant_keys = models.TextField(_("grant keys"), editable=False)

    class Meta:
        verbose_name = _("grant set")
        verbose_name_plural = _("grant sets")

    def __str__(self) -> str:
        return ", ".join(self.grants)

    @staticmethod
    def fields_for(grants: Iterable[Any]) -> dict[str, Any] | None:
        """The row of ``grants``'s combination (digest, names, keys); None for no grant at all."""
        names = canonical_grants(grants)
        if not names:
            return None
        return {
            "digest": hashlib.sha256(json.dumps(names).encode()).hexdigest(),
            "grants": names,
            "grant_keys": " " + " ".join(grant_key(name) for name in names) + " ",
        }

    @staticmethod
    def containing(grant: str) -> models.QuerySet[GrantSet]:
        """The sets that include ``grant`` (exactly, case and all): a scan of this small table only."""
        return GrantSet.objects.filter(grant_keys__contains=f" {grant_key(grant)} ")


# Per process: a combination's GrantSet id once its row is known to be committed, so that writing a token
# with grants costs no query of its own in steady state (a sign-in, a verify). An id is remembered only
# after the transaction that read or created it commits: one rolled back must not leave a dangling id.
_grant_set_ids: dict[tuple[str, str], int] = {}
GRANT_SET_CACHE_SIZE = 10_000


def _remember_grant_set(key: tuple[str, str], pk: int) -> None:
    if len(_grant_set_ids) >= GRANT_SET_CACHE_SIZE:
        _grant_set_ids.clear()  # many more combinations than any site has: start over rather than grow
    _grant_set_ids[key] = pk


def forget_grant_sets(**kwargs: Any) -> None:
    """Forget the remembered GrantSet ids (after a flush or migration, when the table may have been emptied)."""
    _grant_set_ids.clear()


def grant_set_id(grants: Iterable[Any], *, using: str) -> int | None:
    """The id of ``grants``'s ``GrantSet`` on database ``using``, added if new; None when there is no grant.

    No query once this process has seen the combination committed; else one statement, an INSERT that on a
    conflict with the unique digest returns the existing row's id (``ON CONFLICT … DO UPDATE … RETURNING``,
    MariaDB's ``ON DUPLICATE KEY UPDATE … RETURNING``): two workers adding the same set at once both get the
    one row, without an error, a retry or a savepoint.
    """
    if isinstance(grants, (str, bytes)) or not isinstance(grants, Iterable):
        raise TypeError("grants are written as a list of names, so that AccessToken.grant_set follows them")
    fields = GrantSet.fields_for(grants)
    if fields is None:
        return None
    key = (using, fields["digest"])
    if (known := _grant_set_ids.get(key)) is not None:
        return known
    row = GrantSet(**fields)
    # MySQL and MariaDB name no conflict target: their ON DUPLICATE KEY UPDATE covers the one unique key.
    target = ["digest"] if connections[using].features.supports_update_conflicts_with_target else None
    GrantSet.objects.using(using).bulk_create(
        [row], update_conflicts=True, unique_fields=target, update_fields=["digest"]
    )
    # Typed as always set; None on a database that returns no id from such an INSERT (MySQL, old SQLite).
    pk: int | None = getattr(row, "pk", None)
    if pk is None:
        pk = GrantSet.objects.using(using).values_list("pk", flat=True).get(digest=fields["digest"])
    transaction.on_commit(partial(_remember_grant_set, key, pk), using=using)
    return pk


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    """Every bulk write of ``grants`` here also writes the ``grant_set`` that follows them (``grant_set_id``)."""

    def usable(self) -> AccessTokenQuerySet:
        return self.filter(status__in=USABLE_STATUSES)

    def _written_db(self) -> str:
        # Where this queryset's writes go: ``self.db`` is the router's database for reads until Django marks
        # the queryset as writing (inside update/bulk_create), too late for the grant set added before it.
        chosen: str | None = getattr(self, "_db", None)  # Django's own, not in django-stubs
        return chosen or router.db_for_write(self.model, **getattr(self, "_hints", {}))

    def update(self, **kwargs: Any) -> int:
        if "grants" in kwargs and "grant_set" not in kwargs and "grant_set_id" not in kwargs:
            kwargs["grant_set_id"] = grant_set_id(kwargs["grants"], using=self._written_db())
        return super().update(**kwargs)

    def bulk_create(self, objs: Iterable[AccessToken], *args: Any, **kwargs: Any) -> list[AccessToken]:
        objs, using = list(objs), self._written_db()
        for obj in objs:
            obj.grant_set_id = grant_set_id(obj.grants, using=using)
        update_fields = kwargs.get("update_fields")
        if update_fields and "grants" in update_fields and "grant_set" not in update_fields:
            # An upsert (update_conflicts) that rewrites the grants of a row already there rewrites its set too.
            kwargs["update_fields"] = [*update_fields, "grant_set"]
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[AccessToken], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)
        if "grants" in fields:
            using = self._written_db()
            for obj in objs:
                obj.grant_set_id = grant_set_id(obj.grants, using=using)
            fields = [*fields, "grant_set"]
        return super().bulk_update(objs, fields, batch_size=batch_size)


class AccessToken(models.Model):
    """One user's access token for one wiki, encrypted at rest (Fernet, ``MWSSO_TOKEN_KEYS``)."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        REVOKED = "revoked", _("revoked on the wiki")
        INVALID = "invalid", _("invalid")
        ERROR = "error", _("could not be checked")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wiki_tokens")
    wiki = models.CharField(
        _("wiki"), max_length=255, help_text=_("The wiki's server and script path (mwsso.protocol.identity.wiki_key).")
    )
    wiki_url = models.URLField(_("wiki index.php URL"), max_length=500)
    consumer_key = models.CharField(_("consumer key"), max_length=64)
    oauth_version = models.PositiveSmallIntegerField(_("OAuth version"), default=1, choices=[(1, "1.0a"), (2, "2.0")])
    encrypted = models.TextField(_("encrypted credentials"), editable=False)
    key_id = models.CharField(_("encryption key id"), max_length=16, editable=False, db_index=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=16, editable=False)
    grants = models.JSONField(_("grants"), default=list, blank=True)
    # The combination of ``grants`` (None for none), written with them by save(), the queryset's update(),
    # bulk_create() and bulk_update(): what the grant filter selects by, through an index. No index of its
    # own: the list's one (grant set, then its order) serves the foreign key too.
    grant_set = models.ForeignKey(
        GrantSet, on_delete=models.PROTECT, null=True, blank=True, editable=False, db_index=False, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALID, db_index=True)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    last_verified = models.DateTimeField(_("last verified"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("When the OAuth 2.0 access token expires (none for OAuth 1.0a)."),
    )
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    # A refresh in flight (mwsso.tokens.refresh): which worker claimed the row, and until when. The claim is
    # committed before the call to the wiki, so no lock or transaction is held while the wiki answers; a
    # crashed worker's claim simply expires.
    refresh_claim = models.CharField(_("refresh claim"), max_length=32, blank=True, default="", editable=False)
    refresh_claimed_until = models.DateTimeField(_("refresh claimed until"), null=True, blank=True, editable=False)

    # Every field holding ciphertext (written by ``credential_fields``): key rotation re-encrypts each of them.
    # The OAuth 2.0 refresh token is encrypted together with its access token, in ``encrypted``.
    ENCRYPTED_FIELDS = ("encrypted",)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        constraints = [
            models.UniqueConstraint(fields=["user", "wiki"], name="mwsso_token_unique_user_wiki"),
        ]
        indexes = [
            models.Index(fields=["wiki", "status"], name="mwsso_token_wiki_status"),
            # The admin's list: its order (newest first, then pk), the same within a status or a wiki, and
            # the search's exact fingerprint; each page is then an index range, never a scan and a sort.
            models.Index(fields=["created", "id"], name="mwsso_token_created"),
            models.Index(fields=["status", "created"], name="mwsso_token_status_created"),
            models.Index(fields=["wiki", "created"], name="mwsso_token_wiki_created"),
            models.Index(fields=["fingerprint"], name="mwsso_token_fingerprint"),
            # The grant filter: the tokens of a few grant sets, in the list's order within each.
            models.Index(fields=["grant_set", "created", "id"], name="mwsso_token_grant_set"),
        ]

    def __str__(self) -> str:
        return f"Access token {self.fingerprint} of user {self.user_id} on {self.wiki}"

    # Written by hand: a Django model is not a dataclass (field(repr=False) has nothing to attach to), and
    # Model.__repr__ would use __str__. It names only public columns; the ciphertext never shows.
    def __repr__(self) -> str:
        return f"<AccessToken {self.pk} {self.fingerprint} {self.status}>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # grant_set follows grants whenever they are written, and only then.
        update_fields = kwargs.get("update_fields")
        deferred = self.get_deferred_fields()
        if "grants" in deferred:
            if update_fields is None and not self._state.adding:
                # Read without its grants (defer, only): Django writes every field it loaded, and the set it
                # read may no longer be the row's grants' (another worker's verify meanwhile): leave it out.
                kwargs["update_fields"] = {
                    field.attname for field in self._meta.concrete_fields
                    if not field.primary_key and field.attname not in deferred and field.attname != "grant_set_id"
                }  # fmt: skip
        elif update_fields is None or "grants" in update_fields:
            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            self.grant_set_id = grant_set_id(self.grants, using=using)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "grant_set"}
        super().save(*args, **kwargs)

    @staticmethod
    def credential_fields(key: str, secret: str, *, refresh_token: str = "") -> dict[str, str]:
        """The stored form of a token: encrypted with the primary key, plus its key id and fingerprint.

        For OAuth 2.0, ``key`` is the access token and ``refresh_token`` is encrypted with it, so the
        pair is always written (and rotated) together.
        """
        data = {"key": key, "secret": secret}
        if refresh_token:
            data["refresh"] = refresh_token
        return {
            "encrypted": crypto.encrypt(json.dumps(data)),
            "key_id": crypto.primary_key_id(),
            "fingerprint": fingerprint(key),
        }

    def set_credentials(self, key: str, secret: str, *, refresh_token: str = "") -> None:
        for name, value in self.credential_fields(key, secret, refresh_token=refresh_token).items():
            setattr(self, name, value)

    def get_credentials(self) -> Credentials:
        """Decrypt; raises ``TokenUnreadable`` when no key can (configured, or derived from SECRET_KEY or a fallback)."""
        try:
            data: dict[str, Any] = json.loads(crypto.decrypt(self.encrypted))
        except (crypto.InvalidToken, ValueError):
            raise TokenUnreadable(
                f"access token {self.pk} cannot be decrypted with MWSSO_TOKEN_KEYS or a key derived from SECRET_KEY "
                "or SECRET_KEY_FALLBACKS"
            ) from None
        return Credentials(
            key=data["key"],
            secret=data["secret"],
            oauth_version=self.oauth_version,
            refresh_token=str(data.get("refresh") or ""),
        )

    @property
    def is_usable(self) -> bool:
        return self.status in USABLE_STATUSES

    def record_status(
        self, status: str, reason: str, *, checked_at: datetime | None = None, grants: Iterable[str] | None = None
    ) -> bool:
        """Store what the wiki said of this token; False if a new login replaced the token meanwhile.

        ``token_invalidated`` is sent when a usable token becomes unusable, by the one
        process whose UPDATE made that change, so concurrent callers send it once.
        """
        now = timezone.now()
        values: dict[str, Any] = {
            "status": status,
            "status_reason": reason[:500],
            "last_verified": checked_at or now,
            "updated": now,
        }
        if grants is not None:
            values["grants"] = list(grants)
            values["grant_set_id"] = grant_set_id(values["grants"], using=router.db_for_write(AccessToken))
        # The fingerprint too: a token stored by a new login meanwhile must not take this status.
        rows = AccessToken.objects.filter(pk=self.pk, fingerprint=self.fingerprint)
        flipped = 0
        if status not in USABLE_STATUSES:
            flipped = rows.filter(status__in=USABLE_STATUSES).update(**values)
        if not flipped and not rows.update(**values):
            return False
        for name, value in values.items():
            setattr(self, name, value)
        if flipped:
            signals.token_invalidated.send(sender=AccessToken, token=self, reason=values["status_reason"])
        return True


USABLE_STATUSES = (AccessToken.Status.VALID, AccessToken.Status.ERROR)


def wiki_filter(wiki: str, field: str = "wiki") -> Q:
    """The rows (``WikiIdentity``, ``AccessToken``) of the wiki a person named.

    Any spelling of a wiki's URL names that wiki (``wiki_key``); a bare server (``https://meta.wikimedia.org``)
    names every wiki on it, whatever its script path; anything else must match the stored value exactly.
    """
    text = wiki.strip()
    try:
        key = wiki_key(text)
    except ValueError:
        return Q(**{field: text.rstrip("/")})
    if urlsplit(text).path.strip("/"):
        return Q(**{field: key})
    return Q(**{field: key}) | Q(**{f"{field}__startswith": f"{key}/"})
