"""``manage.py mwsso_tokens list | verify | purge | rotate-keys | import-social``: operate the stored access tokens.

A thin layer over ``mwsso.tokens``. ``verify`` exits with 0 when every checked
token is valid, 1 when some are revoked or invalid, 2 when some could not be
checked (the wiki was unreachable or answered with an error; 2 wins over 1).
"""

from __future__ import annotations

import csv
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import connections, router
from django.db.migrations.executor import MigrationExecutor
from django.db.models import QuerySet

from mwsso import crypto
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken
from mwsso.protocol.common import printable
from mwsso.tokens import (
    AmbiguousUser,
    ImportNotConfigured,
    KeyUsage,
    RotationStopped,
    VerifyResult,
    VerifySummary,
    export_rows,
    filter_tokens,
    import_social_tokens,
    key_usage,
    purge_queryset,
    purge_tokens,
    rotate_keys,
    verify_tokens,
    with_wiki_username,
)
from mwsso.tokens.identities import store_verified_identity, tokens_without_identity

STATUSES = [status.value for status in AccessToken.Status]
COLUMNS = ("id", "fingerprint", "user", "wiki user", "wiki", "oauth", "status", "grants", "created", "last used", "verified")  # fmt: skip
# Problems listed one per line after a verify; the rest are only counted.
MAX_PROBLEM_LINES = 50


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a plain line every 10 % otherwise (logs, CI)."""

    def __init__(self, stream: OutputWrapper, total: int, label: str) -> None:
        self.stream, self.total, self.label = stream, max(total, 0), label
        self.tty = stream.isatty()
        self.shown_step = -1
        self.drawn_at = 0.0

    def update(self, done: int) -> None:
        percent = 100 if self.total == 0 else min(100, done * 100 // self.total)
        if self.tty:
            if time.monotonic() - self.drawn_at >= 0.1 or done >= self.total:
                bar = "#" * (percent // 5) + "-" * (20 - percent // 5)
                self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {percent:3d}%", _plain, ending="")
                self.stream.flush()
                self.drawn_at = time.monotonic()
        elif percent // 10 > self.shown_step:
            self.shown_step = percent // 10
            self.stream.write(f"{self.label}: {done}/{self.total} ({percent}%)", _plain)
            self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("", _plain)


class Command(BaseCommand):
    help = (
        "List, verify with the wiki, purge, re-encrypt (rotate-keys) the stored MediaWiki access tokens, and import "
        "those social-core's stock backend left in plain text (import-social)."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,verify,purge,rotate-keys,import-social}"
        )

        def add_filters(sub: Any) -> None:
            sub.add_argument("--status", action="append", choices=STATUSES, default=[], help="repeatable")
            sub.add_argument("--wiki", action="append", default=[], help="wiki server or index.php URL; repeatable")
            sub.add_argument("--grant", default="", help="tokens with this grant (e.g. editpage)")
            sub.add_argument("--user", default="", help="Django username or wiki username")

        listing = actions.add_parser("list", help="print the tokens as a table (or CSV)")
        add_filters(listing)
        listing.add_argument("--limit", type=int, default=100, help="rows to print, 0 for all (default 100)")
        listing.add_argument("--format", choices=["table", "csv"], default="table")

        verify = actions.add_parser("verify", help="check tokens with the wiki; exit 0 all valid, 1 revoked, 2 errors")
        add_filters(verify)
        verify.add_argument("--concurrency", type=int, default=None, help="identify calls at once (default 4)")

        purge = actions.add_parser("purge", help="delete revoked/invalid tokens, or tokens unused for N days")
        purge.add_argument("--status", action="append", choices=STATUSES, default=[], help="default: revoked, invalid")
        purge.add_argument("--unused-days", type=int, default=None, help="also tokens not used for N days")
        purge.add_argument("--wiki", action="append", default=[], help="only tokens of this wiki; repeatable")
        purge.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")
        purge.add_argument("--noinput", "--no-input", action="store_false", dest="interactive", help="do not ask")

        rotate = actions.add_parser(
            "rotate-keys",
            help="re-encrypt every token with the key that encrypts (MWSSO_TOKEN_KEYS[0], else derived from SECRET_KEY)",
        )
        rotate.add_argument("--batch-size", type=int, default=500, help="tokens per transaction (default 500)")
        rotate.add_argument(
            "--skip-unreadable", action="store_true", help="re-encrypt the others when a token cannot be decrypted"
        )

        importing = actions.add_parser(
            "import-social", help="move the plain-text tokens of social-core's stock backend into encrypted storage"
        )
        importing.add_argument("--batch-size", type=int, default=200, help="associations read at a time (default 200)")
        importing.add_argument("--dry-run", action="store_true", help="count what would be imported; change nothing")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if missing := unapplied_migrations():
            # Before migrate every action would end in the database's own error (no such table) and a traceback.
            raise CommandError(
                f"The database is not migrated yet ({', '.join(missing)}): run 'python manage.py migrate' first."
            )
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    # -- list ------------------------------------------------------------------
    def handle_list(self, *, limit: int, format: str, **options: Any) -> None:
        queryset = self._filtered(options)
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            # Cells hold the wiki's words (status reasons, usernames): cleaned as everything this command prints.
            writer.writerows([printable(cell) for cell in row] for row in export_rows(queryset))
            return
        total = queryset.count()
        shown = queryset[:limit] if limit > 0 else queryset
        self._table(shown)
        more = f" (showing {limit}; --limit 0 shows all)" if 0 < limit < total else ""
        self.stdout.write(f"{_tokens(total)}{more}")

    def _filtered(self, options: dict[str, Any]) -> QuerySet[AccessToken]:
        filters = {name: options[name] for name in ("grant", "user")}
        try:
            return filter_tokens(statuses=options["status"], wikis=options["wiki"], **filters).order_by("pk")
        except AmbiguousUser as err:
            raise CommandError(
                f"--user {printable(err.name)!r} is ambiguous: it is the wiki username of the users "
                f"{printable(', '.join(sorted(err.usernames)))}. Give one of these (Django usernames) instead."
            ) from None

    def _table(self, queryset: QuerySet[AccessToken]) -> None:
        username = get_user_model().USERNAME_FIELD
        rows = [
            [
                str(token.pk), token.fingerprint, str(getattr(token.user, username)), token.wiki_username or "-",  # type: ignore[attr-defined]  # with_wiki_username's annotation, unseen by django-stubs
                token.wiki, token.get_oauth_version_display(), token.status, _short(", ".join(token.grants or ()), 30),
                _when(token.created), _when(token.last_used), _when(token.last_verified),
            ]
            for token in with_wiki_username(queryset).select_related("user")
        ]  # fmt: skip
        rows = [[printable(cell) for cell in row] for row in rows]
        widths = [max(len(row[i]) for row in [list(COLUMNS), *rows]) for i in range(len(COLUMNS))]
        for row in [list(COLUMNS), *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    # -- verify ----------------------------------------------------------------
    def handle_verify(self, *, concurrency: int | None, **options: Any) -> None:
        queryset = self._filtered(options)
        progress = Progress(self.stderr, queryset.count(), "verify")
        # Imported tokens have no wiki user until a sign-in: the identity the wiki vouches for now fills it in.
        unnamed, named = tokens_without_identity(queryset), 0

        def checked(summary: VerifySummary, result: VerifyResult) -> None:
            nonlocal named
            progress.update(summary.done)
            if result.identity is not None and result.token_id in unnamed:
                named += store_verified_identity(*unnamed[result.token_id], result.identity)

        summary = verify_tokens(queryset, concurrency=concurrency or app_settings.VERIFY_CONCURRENCY, progress=checked)
        progress.finish()
        if named:
            self.stdout.write(f"Stored the wiki user of {_tokens(named)} nobody had signed in with yet (imported).")
        for problem in sorted(summary.problems, key=lambda problem: problem.token_id)[:MAX_PROBLEM_LINES]:
            self.stdout.write(f"  #{problem.token_id}: {problem.status}: {printable(problem.reason)}")
        if len(summary.problems) > MAX_PROBLEM_LINES:
            self.stdout.write(f"  … and {len(summary.problems) - MAX_PROBLEM_LINES} more (see list --status …)")
        counts = summary.counts
        replaced = (
            f", {summary.replaced} replaced by a new sign-in while being checked (left as they are)"
            if summary.replaced
            else ""
        )
        self.stdout.write(
            f"Checked {_tokens(summary.done)}: {counts['valid']} valid, {counts['revoked']} revoked, "
            f"{counts['invalid']} invalid, {counts['error']} could not be checked{replaced}."
        )
        if summary.exit_code == 2:
            raise CommandError("Some tokens could not be checked: the wiki did not answer or refused.", returncode=2)
        if summary.exit_code == 1:
            raise CommandError("Some tokens are revoked or invalid (mwsso_tokens purge deletes them).", returncode=1)

    # -- purge -----------------------------------------------------------------
    def handle_purge(
        self, *, status: list[str], unused_days: int | None, wiki: list[str], dry_run: bool, interactive: bool, **_: Any
    ) -> None:
        if unused_days is not None and unused_days < 0:
            raise CommandError("--unused-days must be 0 or more.")
        scope = filter_tokens(wikis=wiki)
        selected = purge_queryset(statuses=status, unused_days=unused_days, queryset=scope).order_by("pk")
        total = selected.count()
        if not total:
            self.stdout.write("No access tokens to purge.")
            return
        self._table(selected[:20])
        if total > 20:
            self.stdout.write(f"… and {total - 20} more")
        if dry_run:
            self.stdout.write(f"Dry run: {_tokens(total)} would be deleted. Nothing was changed.")
            return
        if interactive:
            answer = input(f"Delete {_tokens(total)}? Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Purge cancelled; nothing was changed.")
        result = purge_tokens(statuses=status, unused_days=unused_days, queryset=scope)
        by_status = ", ".join(f"{count} {name}" for name, count in sorted(result.by_status.items()))
        self.stdout.write(
            f"Deleted {_tokens(result.count)} ({by_status}). Their users get a new one at their next sign-in; "
            "the wiki lists the grant until they revoke it at Special:OAuthManageMyGrants."
        )

    # -- rotate-keys -----------------------------------------------------------
    def handle_rotate_keys(self, *, batch_size: int, skip_unreadable: bool, **_: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        if not app_settings.TOKEN_KEYS:
            self.stderr.write("MWSSO_TOKEN_KEYS is not set: tokens are encrypted with a key derived from SECRET_KEY.")
        primary = crypto.primary_key()
        before = key_usage()
        progress = Progress(self.stderr, AccessToken.objects.exclude(key_id=primary.id).count(), "rotate-keys")
        try:
            result = rotate_keys(
                batch_size,
                skip_unreadable=skip_unreadable,
                progress=lambda result: progress.update(result.rotated + len(result.unreadable)),
            )
        except RotationStopped as err:
            progress.finish()
            raise CommandError(
                f"Stopped: access token {err.token_id} was encrypted with key id {err.key_id}, which is neither in "
                "MWSSO_TOKEN_KEYS nor derived from SECRET_KEY or SECRET_KEY_FALLBACKS, so it cannot be decrypted. "
                f"Nothing was changed for it; {err.rotated} tokens were re-encrypted before it. Put that key back in "
                "MWSSO_TOKEN_KEYS (after the new first key) or the old SECRET_KEY in SECRET_KEY_FALLBACKS and run "
                "rotate-keys again, or add --skip-unreadable to re-encrypt the others and leave it as it is."
            ) from None
        progress.finish()
        name = f"the key {primary.label}" if primary.is_derived else primary.label
        self.stdout.write(f"Re-encrypted {_tokens(result.rotated)} with {name} (key id {primary.id}).")
        self.stdout.write("Access tokens per key, before → after:")
        for line in key_report(before, key_usage()):
            self.stdout.write(f"  {line}")
        if result.unreadable:
            ids = ", ".join(str(pk) for pk in result.unreadable[:20])
            raise CommandError(
                f"{_tokens(len(result.unreadable))} cannot be decrypted with any key and were left as they "
                f"are (ids {ids}{' …' if len(result.unreadable) > 20 else ''}).",
                returncode=1,
            )

    # -- import-social ---------------------------------------------------------
    def handle_import_social(self, *, batch_size: int, dry_run: bool, **_: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            result = import_social_tokens(batch_size=batch_size, dry_run=dry_run)
        except ImportNotConfigured as err:
            raise CommandError(f"Nothing was imported: {err}.") from None
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}found {_tokens(result.found)} in plain text in UserSocialAuth.extra_data: "
            f"{result.imported} {would}imported, {result.already_present} already present (the newer mwsso token "
            f"{'would be ' if dry_run else 'is '}kept), {result.removed} plain copies {would}removed, "
            f"{result.malformed} skipped as malformed."
        )
        if dry_run:
            self.stdout.write("Nothing was changed.")
        if result.malformed:
            # Not an error exit: a deploy that runs this must not fail on rows only a person can fix.
            self.stderr.write(
                f"{result.malformed} associations hold an access token field that is not the stock backend's shape; "
                "they were left as they are (the log names each by id, never its contents). Clean their extra_data "
                "by hand; check mwsso.W022 counts them until then."
            )


def unapplied_migrations(apps: tuple[str, ...] = ("auth", "social_django", "mwsso")) -> list[str]:
    """Migrations of the apps whose tables the command reads that the token database has not applied."""
    executor = MigrationExecutor(connections[router.db_for_write(AccessToken)])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan if migration.app_label in apps]


def key_report(before: list[KeyUsage], after: list[KeyUsage]) -> list[str]:
    """One line per key (by label and key id, never the key): its token count before and after, and what follows."""
    counts_before = {usage.key_id: usage.tokens for usage in before}
    rows = {usage.key_id: usage for usage in before} | {usage.key_id: usage for usage in after}
    lines = []
    for usage in sorted(rows.values(), key=lambda u: (u.position is None, u.position or 0, u.key_id)):
        now = next((u.tokens for u in after if u.key_id == usage.key_id), 0)
        lines.append(
            f"{usage.label}, id {usage.key_id}: {counts_before.get(usage.key_id, 0)} → {now}{_key_hint(usage, now)}"
        )
    return lines


def _key_hint(usage: KeyUsage, tokens: int) -> str:
    if usage.position == 0:
        return " (encrypts)"
    if not usage.known:
        return " (no known key: cannot be decrypted)" if tokens else ""
    if tokens:
        return " (still in use: run rotate-keys again)"
    if not usage.derived:
        return " (no token uses it: it can be removed)"
    if usage.label == crypto.SECRET_KEY_LABEL:
        return " (no token depends on SECRET_KEY any more)"
    return " (no token depends on it any more)"


def _plain(text: str) -> str:
    # Progress is not an error: not in the red Django gives stderr on a terminal.
    return text


def _tokens(count: int) -> str:
    return f"{count} access token{'' if count == 1 else 's'}"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
