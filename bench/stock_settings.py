"""The same site as tests.settings, signing in with social-core's stock ``MediaWiki`` backend instead of mwsso's.

Used by ``bench/compare.py``: same database, sessions and middleware, so the difference is the backend
and its pipeline only.
"""

from social_core.pipeline import DEFAULT_AUTH_PIPELINE

from tests.settings import *  # noqa: F403

AUTHENTICATION_BACKENDS = [
    "social_core.backends.mediawiki.MediaWiki",
    "django.contrib.auth.backends.ModelBackend",
]
SOCIAL_AUTH_PIPELINE = DEFAULT_AUTH_PIPELINE
ROOT_URLCONF = "stock_urls"
LOGIN_REDIRECT_URL = "/profile/"
SILENCED_SYSTEM_CHECKS = ["mwsso.E001", "mwsso.E002", "mwsso.W001", "mwsso.W002", "mwsso.W003"]
