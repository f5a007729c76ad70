"""Where the OAuth 2.0 endpoints live: the one place that asks for the wiki's script path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

DEFAULT_SCRIPT_PATH = "/w"
AUTHORIZE = "/oauth2/authorize"
ACCESS_TOKEN = "/oauth2/access_token"
PROFILE = "/oauth2/resource/profile"
SCOPES = "/oauth2/resource/scopes"


def script_path(store: Store) -> str:
    """$wgScriptPath: the Store's ``script_path`` when it has one (``--script-path``), else ``/w``."""
    return str(getattr(store, "script_path", DEFAULT_SCRIPT_PATH) or "").rstrip("/")


def rest_path(store: Store) -> str:
    """The path of rest.php, e.g. ``/w/rest.php``."""
    return f"{script_path(store)}/rest.php"


def rest_url(store: Store) -> str:
    return f"{store.server}{rest_path(store)}"


def index_url(store: Store) -> str:
    return f"{store.server}{script_path(store)}/index.php"
