"""The devwiki's OAuth 2.0 server (Extension:OAuth's rest.php/oauth2/* on league/oauth2-server).

Small modules: ``settings`` (versions, lifetimes), ``models``, ``state`` (the lock-guarded
server state), ``jwt`` (RS256), ``errors``, ``authorize`` (authorize + Special:OAuth/approve),
``token`` (access_token), ``resource`` (profile, bearer check), ``routes``, ``urls``, ``control``.
"""

from .settings import DEFAULT_VERSION, VERSIONS, OAuth2Settings
from .state import OAuth2State

__all__ = ["DEFAULT_VERSION", "VERSIONS", "OAuth2Settings", "OAuth2State"]
