"""The wiki's own addresses: $wgServer, $wgScriptPath and the entry points beside each other under it.

Written from what the recorded wikis serve (1.39 at the server root, ``""``; 1.43 under ``/w``; 1.45
under ``/mediawiki``), not shared with any client: a stand-in that built its URLs with the code
under test could not catch that code's mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The PHP files MediaWiki serves side by side in its script path.
ENTRY_POINTS = ("index.php", "api.php", "rest.php", "load.php")
DEFAULT_SCRIPT_PATH = "/w"  # Wikimedia's; many third-party wikis use "" (the server root)


class ScriptPathError(ValueError):
    """A $wgScriptPath the wiki cannot be served under."""


def check_script_path(value: object) -> str:
    """``$wgScriptPath`` as MediaWiki keeps it: ``""`` (the server root) or ``/w``-like, no trailing slash."""
    if not isinstance(value, str) or (value and not value.startswith("/")) or re.search(r"[?#\s]", value):
        raise ScriptPathError(f'script_path {value!r}: use "" (the server root) or a path such as /w')
    normalized = "".join(f"/{segment}" for segment in value.split("/") if segment)
    if normalized != value.rstrip("/") or normalized.endswith(".php"):
        raise ScriptPathError(f'script_path {value!r}: use "" (the server root) or a path such as /w')
    return normalized


@dataclass(frozen=True)
class WikiURLs:
    """The wiki's entry points as a client must call them: $wgServer plus $wgScriptPath."""

    server: str
    script_path: str

    @property
    def index(self) -> str:
        return f"{self.server}{self.script_path}/index.php"

    @property
    def api(self) -> str:
        return f"{self.server}{self.script_path}/api.php"

    @property
    def rest(self) -> str:
        return f"{self.server}{self.script_path}/rest.php"

    @property
    def rest_path(self) -> str:
        """rest.php's path without the server, e.g. ``/w/rest.php`` (what returnto names)."""
        return f"{self.script_path}/rest.php"

    def article(self, title: str) -> str:
        """``/wiki/Title``: the article path, which the local wiki serves whatever the script path."""
        return f"{self.server}/wiki/{title.replace(' ', '_')}"


def entry_point(script_path: str, path: str) -> tuple[str, str] | None:
    """``(name, rest)`` when ``path`` is one of the entry points under ``script_path``, else None.

    ``/w/rest.php/oauth2/authorize`` → ``("rest.php", "/oauth2/authorize")``. Repeated slashes reach
    the same file, as a web server finds it (``//api.php`` is api.php).
    """
    tidy = re.sub("/+", "/", path)
    prefix = f"{script_path}/"
    if not tidy.startswith(prefix):
        return None
    name, slash, rest = tidy[len(prefix) :].partition("/")
    if name not in ENTRY_POINTS:
        return None
    return name, slash + rest
