"""A site on django-allauth's own MediaWiki provider, before it moves to mwsso: tokens kept, in plain text.

Used by tests/allauth/test_migrating.py in a process of its own: mwsso is not installed at all here.
"""

from tests.allauth.settings import *  # noqa: F403
from tests.allauth.settings import INSTALLED_APPS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in ("mwsso", "mwsso.contrib.allauth")] + [
    "allauth.socialaccount.providers.mediawiki",
]
SOCIALACCOUNT_STORE_TOKENS = True
