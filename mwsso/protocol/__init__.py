"""The wiki's protocols, pure: no Django, no settings, no database; nothing here imports the rest of mwsso.

- ``oauth1``: OAuth 1.0a (Extension:OAuth's Special:OAuth handshake, signed API requests);
- ``oauth2``: OAuth 2.0 with PKCE (rest.php/oauth2), the token endpoint, refresh;
- ``identity`` and ``claims``: the identify JWT verified and read into an ``Identity``;
- ``wikiurls``: a configured wiki URL turned into its entry points (index.php, api.php, rest.php);
- ``grants``: what the wiki's OAuth error codes say about a grant (gone, refused, ambiguous);
- ``common``: the wiki's words made safe to show (redaction, cleaning), transport errors;
- ``deadline``: one deadline over a whole HTTP request to a wiki.

Everything takes its inputs (URLs, keys, the clock, an HTTP session) as arguments, so each part is
tested alone; the layers above (``mwsso.backends``, ``mwsso.tokens``, ``mwsso.api``) read the settings.
tests/test_layers.py keeps this layer free of Django and of the rest of mwsso.
"""
