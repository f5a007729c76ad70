"""Settings of the mwsso demo site, all from environment variables.

The defaults run against the local provider (``manage.py mwsso_devwiki``) on
SQLite, so ``make run`` works on a fresh machine. See docs/deploying.md for a real wiki
and for production.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mwsso.app_settings import DEFAULT_PIPELINE
from mwsso.app_settings import DEFAULTS as MWSSO_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The local provider's demo consumer (public, for development only).
DEVWIKI_URL = "http://127.0.0.1:8001/w/index.php"
DEVWIKI_CONSUMER_KEY = "9d1c6c1e8f3b4a7e9f2d5b6a8c0e1f23"
DEVWIKI_CONSUMER_SECRET = "4b8e2f9a1c7d3e5f6a0b9c8d7e6f5a4b3c2d1e0f"
DEVWIKI_TOKEN_KEY = "ZGV2LW9ubHktbXdzc28tZGVtby1rZXktMDAwMDAwMDA="  # encrypts tokens of the local wiki only
# The local wiki's demo OAuth 2.0 client (confidential; redirect URI http://127.0.0.1:8000/complete/mediawiki-oauth2/).
DEVWIKI_OAUTH2_CLIENT_ID = "6f2a9c4e1b8d4e7fa3c5d0b9e8f7a6c1"
DEVWIKI_OAUTH2_CLIENT_SECRET = "c3a1e5f7b9d2c4e6a8b0d1f3e5a7c9b2d4f6a8c0"

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A key published here would sign everyone's sessions and, without MWSSO_TOKEN_KEYS, encrypt every token.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'), and MWSSO_TOKEN_KEYS too (docs/security.md); "
            "or set DJANGO_DEBUG=1 for development (make run does), which uses a development-only key."
        )
    SECRET_KEY = "dev-only-insecure-key-change-me-7c1f0e5b9a2d4c8e"  # DEBUG only: never used in production mode
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "social_django",
    "mwsso",
    "project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Every transaction takes SQLite's write lock when it begins (not at its first write, where a busy
    # database can only answer "database is locked"), waiting up to DJANGO_SQLITE_TIMEOUT seconds for it.
    # Keep the timeout under gunicorn's --timeout; a lock held longer still ends on mwsso's "try again" page.
    # WAL: readers never wait for the writer, and a commit does not sync the whole journal, so the short writes
    # of sign-ins and token refreshes hand the lock over quickly (docs/performance.md, "Scale: refresh").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": float(os.environ.get("DJANGO_SQLITE_TIMEOUT", "20")),
            "init_command": "PRAGMA journal_mode=WAL",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":  # MariaDB, e.g. Toolforge's ToolsDB
    import pymysql

    # PyMySQL is pure Python, so nothing needs compiling on Toolforge or a fresh machine. It implements
    # mysqlclient's API; Django checks mysqlclient's version number, which PyMySQL reports as an old one.
    pymysql.version_info = (2, 2, 1, "final", 0)
    pymysql.install_as_MySQLdb()
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"  # wiki names are any Unicode
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Lets several sites (or test runs) share one Redis database without seeing each other's keys.
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("REDIS_KEY_PREFIX", "")
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"

AUTHENTICATION_BACKENDS = [
    "mwsso.backends.MediaWikiOAuth",
    "mwsso.backends.MediaWikiOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Sign in with Wikipedia -------------------------------------------------
SOCIAL_AUTH_MEDIAWIKI_URL = os.environ.get("MWSSO_WIKI_URL", DEVWIKI_URL)
SOCIAL_AUTH_MEDIAWIKI_KEY = os.environ.get("MWSSO_CONSUMER_KEY", DEVWIKI_CONSUMER_KEY)
SOCIAL_AUTH_MEDIAWIKI_SECRET = os.environ.get("MWSSO_CONSUMER_SECRET", DEVWIKI_CONSUMER_SECRET)
# "oob" uses the callback registered with the consumer; a path is made absolute from the request.
# The local wiki's demo consumer allows a callback prefix on any port of 127.0.0.1; a real consumer usually wants "oob".
_LOCAL_WIKI = SOCIAL_AUTH_MEDIAWIKI_URL.startswith(("http://127.0.0.1:", "http://localhost:"))
SOCIAL_AUTH_MEDIAWIKI_CALLBACK = os.environ.get("MWSSO_CALLBACK", "/complete/mediawiki/" if _LOCAL_WIKI else "oob")
# OAuth 2.0 (the second button): the same wiki; an empty MWSSO_OAUTH2_CLIENT_SECRET makes this a public client.
SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = SOCIAL_AUTH_MEDIAWIKI_URL
SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = os.environ.get("MWSSO_OAUTH2_CLIENT_ID", DEVWIKI_OAUTH2_CLIENT_ID)
SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = os.environ.get("MWSSO_OAUTH2_CLIENT_SECRET", DEVWIKI_OAUTH2_CLIENT_SECRET)
# Unset: the wiki uses the client's registered redirect URI. Set, it must be that URI exactly (a path is made absolute).
SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = os.environ.get("MWSSO_OAUTH2_REDIRECT_URI", "")
SOCIAL_AUTH_PIPELINE = DEFAULT_PIPELINE
SOCIAL_AUTH_JSONFIELD_ENABLED = True

MWSSO_TOKEN_KEYS = env_list("MWSSO_TOKEN_KEYS")
if not MWSSO_TOKEN_KEYS and _LOCAL_WIKI:
    # Development against the local wiki (make run): a public key, like the demo consumer's secret, so that
    # mwsso.W001 does not warn about the demo's own configuration. A real wiki without keys still warns.
    MWSSO_TOKEN_KEYS = [DEVWIKI_TOKEN_KEY]
MWSSO_USER_AGENT = os.environ.get(
    "MWSSO_USER_AGENT", "mwsso-demo/0.1 (https://github.com/mwsso/mwsso; demo site, mwsso@example.org)"
)
if os.environ.get("MWSSO_HTTP_TIMEOUT"):
    # Seconds to wait for the wiki; unset keeps mwsso's default. Keep it well under gunicorn's --timeout.
    MWSSO_HTTP_TIMEOUT = float(os.environ["MWSSO_HTTP_TIMEOUT"])
MWSSO_ALLOWED_WIKIS = env_list("MWSSO_ALLOWED_WIKIS")
MWSSO_BLOCKED_USERS = os.environ.get("MWSSO_BLOCKED_USERS", "deny")
# Sign-in start limits (docs/diagnostics.md), e.g. MWSSO_LOGIN_RATE_LIMIT_IP=30/5m; "off" turns one off.
_LIMITS = {scope: os.environ.get(f"MWSSO_LOGIN_RATE_LIMIT_{scope.upper()}", "") for scope in ("ip", "session")}
if any(_LIMITS.values()):
    MWSSO_LOGIN_RATE_LIMITS = {
        **MWSSO_DEFAULTS["LOGIN_RATE_LIMITS"],
        **{scope: None if value == "off" else value for scope, value in _LIMITS.items() if value},
    }
# Behind a reverse proxy (Toolforge, nginx): how many proxies of yours append to X-Forwarded-For.
MWSSO_TRUSTED_PROXIES = int(os.environ.get("MWSSO_TRUSTED_PROXIES", "0"))

LOGIN_URL = "/"
LOGIN_REDIRECT_URL = "/profile/"
LOGOUT_REDIRECT_URL = "/"

# --- Security ----------------------------------------------------------------
SECURE_HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
if SECURE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Lax (not Strict) so the session cookie comes back on the wiki's top-level redirect to /complete/.
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "mwsso": {"handlers": ["console"], "level": os.environ.get("MWSSO_LOG_LEVEL", "INFO"), "propagate": True},
        # Server errors with their traceback on stderr (gunicorn's log); Django only emails them by default.
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}
