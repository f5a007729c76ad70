"""Test settings: the demo site's, with fixed keys and a database chosen by DATABASE_URL (SQLite by default)."""

import os

# The demo's settings refuse to load in production mode without a key (tests run with DEBUG off);
# set before the import, so that manage.py commands the tests start inherit it too.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-0123456789abcdef0123456789abcdef")

from project.settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = "tests-only-secret-key-0123456789abcdef0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MWSSO_TOKEN_KEYS = ["dGVzdHMtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA=", "b2xkLXRlc3Qta2V5LTExMTExMTExMTExMTExMTExMTA="]
MWSSO_USER_AGENT = "mwsso-tests/0.1 (tests; mwsso@example.org)"
MWSSO_HTTP_TIMEOUT = 5.0
STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Tests never collect static files; whitenoise would warn on every request that STATIC_ROOT is missing.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
