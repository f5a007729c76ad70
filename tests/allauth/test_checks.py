"""The allauth provider's system checks (mwsso.E060-E062, W060-W063), compared as whole check objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib.auth import get_user_model
from django.core import checks
from django.test.utils import override_settings

from mwsso.app_settings import DEFAULT_USER_AGENT
from mwsso.checks import config as core_checks
from mwsso.contrib.allauth.checks import check_clients_and_plain_tokens, check_installation
from tests.allauth.settings import INSTALLED_APPS

REPO = Path(__file__).resolve().parents[2]


def test_the_test_site_is_clean_without_social_django():
    assert "social_django" not in INSTALLED_APPS
    assert check_installation() == []
    # mwsso's own checks do not ask an allauth-only site for social_django (mwsso.E006).
    assert [m.id for m in core_checks.check_settings()] == []


def test_mwsso_missing_and_allauths_own_provider_installed():
    apps = [app for app in INSTALLED_APPS if app != "mwsso"] + ["allauth.socialaccount.providers.mediawiki"]
    with override_settings(INSTALLED_APPS=apps):
        found = check_installation()
    assert [m.id for m in found] == ["mwsso.E060", "mwsso.E061"]
    assert found[0] == checks.Error(
        "mwsso is not in INSTALLED_APPS.",
        hint='mwsso keeps the wiki identities and encrypted tokens: add "mwsso" to INSTALLED_APPS.',
        id="mwsso.E060",
    )
    assert found[1].msg == (
        "allauth.socialaccount.providers.mediawiki and mwsso.contrib.allauth are both installed: both are the provider 'mediawiki'."
    )


def test_an_unusable_rest_api_and_the_default_user_agent(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "mediawiki": {"REST_API": "wiki.example/rest.php", "USER_AGENT": "Tool/1 (me@example.org)"}
    }
    settings.MWSSO_USER_AGENT = DEFAULT_USER_AGENT
    assert check_installation() == [
        checks.Error(
            "SOCIALACCOUNT_PROVIDERS['mediawiki']['REST_API'] 'wiki.example/rest.php' is not a wiki URL.",
            hint="Use the wiki's rest.php URL, e.g. https://meta.wikimedia.org/w/rest.php.",
            id="mwsso.E062",
        ),
        checks.Warning(
            "MWSSO_USER_AGENT is the default: mwsso sends it to the wiki, not SOCIALACCOUNT_PROVIDERS' USER_AGENT.",
            hint="Set MWSSO_USER_AGENT to your tool's name and a contact, e.g. 'Tool/1 (me@example.org)'.",
            id="mwsso.W060",
        ),
    ]


@pytest.mark.django_db
def test_database_checks_count_clients_public_ones_and_plain_tokens(settings):
    assert check_clients_and_plain_tokens(databases=None) == []  # plain `manage.py check` never queries
    assert check_clients_and_plain_tokens(databases=["default"]) == []
    settings.SOCIALACCOUNT_PROVIDERS = {"mediawiki": {}}
    assert [m.id for m in check_clients_and_plain_tokens(databases=["default"])] == ["mwsso.W061"]
    SocialApp.objects.create(provider="mediawiki", name="Public", client_id="pub", secret="")
    account = SocialAccount.objects.create(
        user=get_user_model().objects.create_user("a"), provider="mediawiki", uid="3"
    )
    SocialToken.objects.create(account=account, token="plain", token_secret="plain-refresh")
    found = check_clients_and_plain_tokens(databases=["default"])
    assert [m.id for m in found] == ["mwsso.W062", "mwsso.W063"]
    assert found[1] == checks.Warning(
        "1 plain-text MediaWiki tokens are left in allauth's SocialToken table.",
        hint="Run 'manage.py mwsso_allauth import-tokens' to move them into encrypted storage (--dry-run first).",
        id="mwsso.W063",
    )


MISSING_MWSSO = """
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                    "allauth", "allauth.account", "allauth.socialaccount", "mwsso.contrib.allauth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SECRET_KEY="checks-test-only-0123456789abcdef0123456789abcdef", MWSSO_USER_AGENT="Tool/1 (me@example.org)",
    MIDDLEWARE=["allauth.account.middleware.AccountMiddleware"],
)
django.setup()
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check"])
"""


def test_a_site_that_forgot_mwsso_is_told_so_not_shown_a_traceback():
    done = subprocess.run(
        [sys.executable, "-c", MISSING_MWSSO], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "(mwsso.E060) mwsso is not in INSTALLED_APPS." in done.stderr
    assert "Traceback" not in done.stderr
