"""``manage.py mwsso_check [--site-url URL] [--json] [--register]``: diagnose this deployment against its wiki.

Exit status: 0 when every check passes (a check that cannot be made without a user is skipped),
1 when a check fails, 2 when there are only warnings. ``--register`` prints the registration values
and exits 0. The checks live in ``mwsso.diagnostics``; this command only formats.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from mwsso import diagnostics, http
from mwsso.app_settings import DEFAULT_USER_AGENT
from mwsso.diagnostics import registration
from mwsso.diagnostics.site import target_from_settings
from mwsso.protocol.common import printable

MARKS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


class Command(BaseCommand):
    help = (
        "Check the wiki, the OAuth consumer and the site's URLs without any user; --register prints what to register."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site-url", default="", help="The site's public URL, e.g. https://mytool.toolforge.org")
        parser.add_argument("--json", action="store_true", dest="as_json", help="One JSON document on stdout")
        parser.add_argument(
            "--register", action="store_true", help="Print what to enter on Special:OAuthConsumerRegistration"
        )

    def handle(
        self, *args: Any, site_url: str = "", as_json: bool = False, register: bool = False, **options: Any
    ) -> None:
        target = target_from_settings(site_url)
        if register:
            self._register(registration.values(target), as_json=as_json)
            return
        # Printed only as cleaned: the wiki's own words in a result must not drive the terminal.
        results = [
            result.printable()
            for result in diagnostics.run(
                target, http.get_session(), default_user_agent=DEFAULT_USER_AGENT, **http.request_options()
            )
        ]
        status = diagnostics.exit_status(results)
        if as_json:
            self.stdout.write(
                _json({"ok": status == 0, "exit_status": status, "checks": [r.as_json() for r in results]})
            )
        else:
            for result in results:
                self._line(result)
            counts = {
                "checks": len(results),
                "failed": sum(r.status == "fail" for r in results),
                "warnings": sum(r.status == "warn" for r in results),
            }
            self.stdout.write("\n" + _("%(checks)s checks: %(failed)s failed, %(warnings)s warnings.") % counts)
        if status:
            sys.exit(status)

    def _line(self, result: diagnostics.Result) -> None:
        style = {"pass": self.style.SUCCESS, "warn": self.style.WARNING, "fail": self.style.ERROR}.get(
            result.status, str
        )
        self.stdout.write(f"{style(MARKS[result.status])} {result.check}: {result.summary}")
        if result.fix and result.status != "pass":
            self.stdout.write("     " + _("fix: %(fix)s") % {"fix": result.fix})

    def _register(self, values: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(_json(values))
            return
        for version, title in (
            ("oauth1", "OAuth 1.0a (backend mediawiki)"),
            ("oauth2", "OAuth 2.0 (backend mediawiki-oauth2)"),
        ):
            form = values[version]
            self.stdout.write(f"{title}\n  " + _("Register at: %(page)s") % {"page": form["page"]})
            for label, value in form["fields"].items():
                self.stdout.write(f"  {label}: {printable(str(value))}")
            self.stdout.write("")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
