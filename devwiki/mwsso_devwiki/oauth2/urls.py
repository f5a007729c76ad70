"""Where the OAuth 2.0 endpoints live: rest.php's routes, under the wiki's script path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..state.store import Store

AUTHORIZE = "/oauth2/authorize"
ACCESS_TOKEN = "/oauth2/access_token"
PROFILE = "/oauth2/resource/profile"
SCOPES = "/oauth2/resource/scopes"


def rest_path(store: Store) -> str:
    """The path of rest.php, e.g. ``/w/rest.php``."""
    return store.urls.rest_path


def rest_url(store: Store) -> str:
    return store.urls.rest


def index_url(store: Store) -> str:
    return store.urls.index
