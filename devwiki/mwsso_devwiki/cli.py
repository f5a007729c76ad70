"""The command line: ``python -m mwsso_devwiki`` (or ``mwsso-devwiki``, or mwsso's ``manage.py mwsso_devwiki``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .serve import serve
from .state.config import ConfigError
from .state.persistence import StateFileError
from .versions import DEFAULT_VERSION, VERSIONS


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mwsso_devwiki",
        description="Serve a local MediaWiki with Extension:OAuth (OAuth 1.0a and 2.0) until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8001, help="Port to listen on (default 8001; 0 = any free).")
    parser.add_argument("--config", default=None, help="JSON or TOML file with extra consumers, users, pages.")
    parser.add_argument(
        "--script-path",
        default=None,
        help='$wgScriptPath: /w (the default), "" for index.php and api.php at the server root, /mediawiki, …',
    )
    parser.add_argument(
        "--mw-version",
        choices=list(VERSIONS),
        default=None,
        help=f"Which recorded MediaWiki to play (default {DEFAULT_VERSION}, or the config's).",
    )
    parser.add_argument(
        "--site-url",
        default=None,
        help="Where the demo site runs (default http://127.0.0.1:8000): the built-in OAuth 2.0 demo clients are "
        "registered with <site-url>/complete/mediawiki-oauth2/, since OAuth 2.0 redirect URIs match exactly.",
    )
    parser.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="Keep users, consumers, grants, tokens and pages in FILE across restarts (default: in memory only).",
    )
    parser.add_argument("--fresh", action="store_true", help="With --state: start from the config, not from FILE.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.fresh and not options.state:
        parser().error("--fresh needs --state FILE")
    try:
        serve(
            options.host,
            options.port,
            options.config,
            script_path=options.script_path,
            mw_version=options.mw_version,
            site_url=options.site_url,
            state_file=options.state,
            fresh=options.fresh,
        )
    except (ConfigError, StateFileError, OSError) as err:
        print(f"devwiki could not start: {err}", file=sys.stderr)
        return 1
    return 0
