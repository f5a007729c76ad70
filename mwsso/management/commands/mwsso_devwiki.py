"""``manage.py mwsso_devwiki``: run the local MediaWiki OAuth provider (see docs/devwiki.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mwsso.devwiki.config import ConfigError
from mwsso.devwiki.oauth2.settings import DEFAULT_VERSION, VERSIONS
from mwsso.devwiki.server import serve


class Command(BaseCommand):
    help = "Serve the local development wiki (MediaWiki OAuth 1.0a and 2.0 provider) until stopped."

    requires_system_checks: list[str] = []  # the wiki needs nothing from the site's settings

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8001, help="Port to listen on (default 8001; 0 = any free).")
        parser.add_argument("--config", default=None, help="JSON or TOML file with extra consumers, users, pages.")
        parser.add_argument(
            "--mw-version",
            choices=VERSIONS,
            default=None,
            help=f"Which recorded MediaWiki the OAuth 2.0 side plays (default {DEFAULT_VERSION}, or the config's).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            serve(
                options["host"],
                options["port"],
                options["config"],
                stdout=self.stdout,
                mw_version=options["mw_version"],
            )
        except (ConfigError, OSError) as err:
            raise CommandError(f"devwiki could not start: {err}") from err
