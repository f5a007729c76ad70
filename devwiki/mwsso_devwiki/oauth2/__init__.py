"""Extension:OAuth's OAuth 2.0 server (rest.php/oauth2/* on league/oauth2-server).

Small modules: ``urls`` (where the endpoints are), ``errors`` (league's), ``jwt`` (RS256),
``grants`` (codes, token pairs, refresh, the bearer check, over state/oauth2.py), ``authorize``
(authorize + Special:OAuth/approve), ``pages`` (the consent form), ``token`` (access_token),
``resource`` (profile, scopes), ``routes`` (rest.php's table).
"""
