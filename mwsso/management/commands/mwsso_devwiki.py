"""``manage.py mwsso_devwiki``: run the local wiki (mwsso-devwiki) beside the site; see docs/devwiki.md.

The local wiki is a distribution of its own, installed for development only (``pip install
"mwsso[devwiki]"``), and mwsso never imports it: this command becomes ``python -m mwsso_devwiki``
with the same interpreter and options (exec, on POSIX), so that every signal reaches the wiki itself
(Ctrl-C, ``make run``'s SIGTERM, even a SIGKILL: no wiki is left running without its command) and its
exit status is the command's. Where there is no exec (Windows) it runs the wiki as a child and waits
for it. Without the local wiki installed, it says how to install it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

PROGRAM = "mwsso_devwiki"
INSTALL_HINT = (
    'The local wiki is not installed in this environment. Install it with: pip install "mwsso[devwiki]" '
    "(from a checkout of mwsso: pip install ./devwiki). It is for development only."
)
# Become the local wiki (os.execv) where the system can; elsewhere run it as a child.
EXEC = os.name == "posix"
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
    """Become ``argv`` (POSIX); elsewhere run it in the foreground and return its exit status."""
    if EXEC:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(argv[0], argv)  # noqa: S606 -- our own interpreter and module, options from the command line
    child = subprocess.Popen(argv)  # noqa: S603 -- as above
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the console's Ctrl-C reached the wiki too: let it stop (and save its state)
            continue
