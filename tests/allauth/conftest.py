"""The allauth site's tests run in a pytest of their own (``make test`` runs both): ``--ds=tests.allauth.settings``.

Django's settings are fixed for a whole pytest run, and an allauth site's differ from the social-auth
site's (other apps, middleware, backends, URLs), so in the main run these tests are not collected.
"""

from __future__ import annotations

import os

ALLAUTH_SETTINGS = "tests.allauth.settings"

if os.environ.get("DJANGO_SETTINGS_MODULE") != ALLAUTH_SETTINGS:
    collect_ignore_glob = ["test_*.py"]
