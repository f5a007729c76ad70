"""Test settings of a django-allauth site with mwsso.contrib.allauth, and no social-auth app or setting at all.

The wiki and client come from the environment (so that worker processes share them); the tests point
them at the local wiki with the ``settings`` fixture.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, MIDDLEWARE

# An allauth site knows nothing of social-auth: no social_django, no SOCIAL_AUTH_* setting, no mwsso backend.
for _name in [name for name in globals() if name.startswith("SOCIAL_AUTH_")]:
    del globals()[_name]
INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in ("social_django", "project")] + [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "mwsso.contrib.allauth",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ROOT_URLCONF = "tests.allauth.urls"
LOGIN_REDIRECT_URL = "/"
SOCIALACCOUNT_PROVIDERS = {
    "mediawiki": {
        "REST_API": os.environ.get("MWSSO_ALLAUTH_REST_API", "http://127.0.0.1:8001/w/rest.php"),
        "APPS": [
            {
                "client_id": os.environ.get("MWSSO_ALLAUTH_CLIENT_ID", "7e3b0d5f2c9a4f8e94d6e1c0f9a8b7d2"),
                "secret": os.environ.get("MWSSO_ALLAUTH_CLIENT_SECRET", "d4b2f6a8c0e3d5f7b9a1c2e4f6a8b0c1e3f5a7b9"),
            }
        ],
    }
}
