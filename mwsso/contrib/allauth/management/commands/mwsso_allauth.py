"""``manage.py mwsso_allauth import-tokens [--dry-run] [--batch-size N]``: the tokens of allauth's own provider, encrypted.

A thin layer over ``mwsso.contrib.allauth.importing``; safe to kill and to run again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mwsso.contrib.allauth.importing import import_tokens
from mwsso.tokens import ImportNotConfigured


class Command(BaseCommand):
    help = (
        "Move the plain-text tokens allauth's own MediaWiki provider kept in SocialToken into mwsso's encrypted store."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import-tokens}")
        importing = actions.add_parser(
            "import-tokens", help="move SocialToken rows of the 'mediawiki' provider into encrypted storage"
        )
        importing.add_argument("--batch-size", type=int, default=200, help="rows read at a time (default 200)")
        importing.add_argument("--dry-run", action="store_true", help="count what would be imported; change nothing")

    def handle(self, *args: Any, action: str, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            result = import_tokens(batch_size=batch_size, dry_run=dry_run)
        except ImportNotConfigured as err:
            raise CommandError(f"Nothing was imported: {err}.") from None
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}found {result.found} plain-text tokens in SocialToken: {result.imported} "
            f"{would}imported, {result.already_present} already present (the newer mwsso token is kept), "
            f"{result.removed} plain rows {would}deleted, {result.malformed} skipped."
        )
        if dry_run:
            self.stdout.write("Nothing was changed.")
        if result.malformed:
            # Not an error exit: a deploy that runs this must not fail on rows only a person can fix.
            self.stderr.write(
                f"{result.malformed} rows were left as they are (the log names each by id, never its contents); "
                "check mwsso.W063 counts them until they are fixed or deleted."
            )
