"""Extension:OAuth's OAuth 1.0a: Special:OAuth/initiate, authorize, token and identify.

``signature`` (the PHP port), ``server`` (checks in the extension's order), ``callback`` (the
callback rule), ``identify`` (the JWT), ``authorize`` (the consent dialog), ``pages``, ``special``.
"""
