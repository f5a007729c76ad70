"""System checks of the login core, compared as whole check objects."""

from __future__ import annotations

from django.core import checks

from mwsso.app_settings import DEFAULT_USER_AGENT
from mwsso.checks.config import check_consumer, check_settings, check_token_keys


def test_configured_test_settings_pass():
    assert check_consumer() == [] and check_token_keys() == [] and check_settings() == []


def test_missing_consumer_key_and_secret(settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = ""
    del settings.SOCIAL_AUTH_MEDIAWIKI_SECRET
    hint = "Register a consumer at Special:OAuthConsumerRegistration on the wiki and set its key and secret."
    assert check_consumer() == [
        checks.Error("SOCIAL_AUTH_MEDIAWIKI_KEY is not set.", hint=hint, id="mwsso.E001"),
        checks.Error("SOCIAL_AUTH_MEDIAWIKI_SECRET is not set.", hint=hint, id="mwsso.E001"),
    ]


def test_wiki_url_must_be_index_php(settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = "https://meta.wikimedia.org/wiki/Main_Page"
    assert check_consumer() == [
        checks.Error(
            "SOCIAL_AUTH_MEDIAWIKI_URL 'https://meta.wikimedia.org/wiki/Main_Page' is not a wiki's index.php URL.",
            hint="Use the full URL of index.php, e.g. https://meta.wikimedia.org/w/index.php.",
            id="mwsso.E003",
        )
    ]


def test_consumer_checks_only_when_the_backend_is_enabled(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.SOCIAL_AUTH_MEDIAWIKI_KEY = ""
    assert check_consumer() == []


def test_no_token_keys_warns(settings):
    settings.MWSSO_TOKEN_KEYS = []
    (warning,) = check_token_keys()
    assert warning.id == "mwsso.W001" and isinstance(warning, checks.Warning)
    assert "derived from SECRET_KEY" in warning.msg


def test_invalid_token_key(settings):
    settings.MWSSO_TOKEN_KEYS = ["dGVzdHMtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA=", "not-a-fernet-key"]
    (error,) = check_token_keys()
    assert (error.id, error.msg) == ("mwsso.E002", "MWSSO_TOKEN_KEYS[1] is not a valid Fernet key.")


def test_token_keys_from_a_comma_separated_string(settings):
    settings.MWSSO_TOKEN_KEYS = (
        "dGVzdHMtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA=, b2xkLXRlc3Qta2V5LTExMTExMTExMTExMTExMTExMTA="
    )
    assert check_token_keys() == []


def test_default_user_agent_warns(settings):
    settings.MWSSO_USER_AGENT = DEFAULT_USER_AGENT
    assert [m.id for m in check_settings()] == ["mwsso.W002"]


def test_bad_choices(settings):
    settings.MWSSO_BLOCKED_USERS = "maybe"
    settings.MWSSO_AUTHORIZE_PAGE = "consent"
    assert [m.id for m in check_settings() if m.id in ("mwsso.E004", "mwsso.E005")] == ["mwsso.E004", "mwsso.E005"]


def test_social_django_is_required(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "social_django"]
    assert (
        checks.Error(
            "'social_django' must be in INSTALLED_APPS.",
            hint="mwsso stores the wiki account link with it.",
            id="mwsso.E006",
        )
        in check_settings()
    )


def test_strict_samesite_session_cookie_would_break_every_callback(settings):
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    assert [m.id for m in check_settings()] == ["mwsso.W003"]
    settings.SESSION_COOKIE_SAMESITE = "Lax"
    assert check_settings() == []
