"""Django system checks (``manage.py check``): importing this package registers them.

- ``config``: the settings, the database, the consumer and the token keys;
- ``urls``: the sign-in URLs are served by mwsso's views;
- ``client_secret``: an OAuth 2.0 client secret that cannot be right (``mwsso.E053``).

Not to be confused with ``mwsso.site_probe`` (a request to the wiki, at run time, cached) or with
``mwsso.diagnostics`` (``manage.py mwsso_check``: the wiki's set-up, asked over the network).
"""

from mwsso.checks import client_secret, config, urls  # noqa: F401  (registers the checks)
