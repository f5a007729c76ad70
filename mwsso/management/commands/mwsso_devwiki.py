"""``manage.py mwsso_devwiki``: run the local wiki (mwsso-devwiki) beside the site; see docs/devwiki.md.

The local wiki is a distribution of its own, installed for development only (``pip install
"mwsso[devwiki]"``), and mwsso never imports it: this command starts ``python -m mwsso_devwiki``
with the same interpreter and options, passes Ctrl-C and SIGTERM on to it and ends with its exit
status. Without it installed, it says how to install it.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

PROGRAM = "mwsso_devwiki"
INSTALL_HINT = (
    'The local wiki is not installed in this environment. Install it with: pip install "mwsso[devwiki]" '
    "(from a checkout of mwsso: pip install ./devwiki). It is for development only."
)
# The options the local wiki takes (python -m mwsso_devwiki --help), passed on as given.
OPTIONS = ("--host", "--port", "--config", "--script-path", "--mw-version", "--site-url", "--state")


class Command(BaseCommand):
    help = "Serve the local development wiki (MediaWiki OAuth 1.0a and 2.0 provider) until stopped."

    requires_system_checks: list[str] = []  # the wiki needs nothing from the site's settings

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", help="Port to listen on (default 8001; 0 = any free).")
        parser.add_argument("--config", help="JSON or TOML file with extra consumers, users, pages.")
        parser.add_argument("--script-path", help='$wgScriptPath: /w (the default), "" for the server root, …')
        parser.add_argument("--mw-version", help="Which recorded MediaWiki to play: 1.39, 1.43 (default) or 1.45.")
        parser.add_argument("--site-url", help="Where the site runs: the demo OAuth 2.0 clients' redirect URIs.")
        parser.add_argument("--state", metavar="FILE", help="Keep the wiki's state in FILE across restarts.")
        parser.add_argument("--fresh", action="store_true", help="With --state: start from the config, not FILE.")

    def handle(self, *args: Any, **options: Any) -> None:
        if importlib.util.find_spec(PROGRAM) is None:
            raise CommandError(INSTALL_HINT)
        argv = [sys.executable, "-m", PROGRAM]
        for flag in OPTIONS:
            value = options.get(flag.lstrip("-").replace("-", "_"))
            if value is not None:
                argv += [flag, str(value)]
        if options.get("fresh"):
            argv.append("--fresh")
        status = run(argv)
        if status:
            raise CommandError(f"the local wiki stopped with exit status {status}", returncode=status)


def run(argv: list[str]) -> int:
    """Run ``argv`` in the foreground: Ctrl-C and SIGTERM reach it, and its exit status is returned."""
    child = subprocess.Popen(argv)  # noqa: S603 -- our own interpreter and module, options from the command line
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        # A terminal's Ctrl-C reaches both processes; SIGTERM (make run's kill) only this one: pass it on,
        # and let the wiki stop cleanly (and save its state) before this command ends.
        previous[signum] = signal.signal(signum, lambda number, _frame: child.send_signal(number))
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
