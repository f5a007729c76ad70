"""Moving from django-allauth's own MediaWiki provider: one INSTALLED_APPS line, one command, no new sign-in.

The whole path runs for real once: a site on allauth's provider (its own process, mwsso not installed)
signs Alice in through the local wiki and keeps her tokens in plain text in ``SocialToken``; the site
then installs mwsso in its place, migrates, checks (mwsso.W063 counts the plain rows), imports, and
calls the API as Alice. The import's details (batches, reruns, a run killed half-way, odd rows) are
tested in-process on rows shaped as allauth's provider writes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

from mwsso import api
from mwsso.contrib.allauth.importing import IMPORTED_REASON, import_tokens
from mwsso.models import AccessToken
from tests.allauth.support import *  # noqa: F403
from tests.allauth.support import AA_CLIENT, sign_in
from tests.oauth2_support import *  # noqa: F403
from tests.production.services import free_port, wait_for

User = get_user_model()
REPO = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "django", *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.django_db
def test_a_site_on_allauths_own_provider_migrates_without_a_new_sign_in(o2wiki, tmp_path):
    port = free_port()
    callback = f"http://127.0.0.1:{port}/accounts/mediawiki/login/callback/"
    o2wiki.control("oauth2_set_redirect_uri", client_id=AA_CLIENT[0], redirect_uri=callback)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}", DJANGO_SETTINGS_MODULE="tests.allauth.stock_settings",
        MWSSO_ALLAUTH_REST_API=o2wiki.rest_url, MWSSO_ALLAUTH_CLIENT_ID=AA_CLIENT[0], MWSSO_ALLAUTH_CLIENT_SECRET=AA_CLIENT[1],
    )  # fmt: skip
    run(env, "migrate", "--noinput")
    stock = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        site = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(site), 30, "the site on allauth's own provider")
        _stock_sign_in(site)
    finally:
        os.killpg(stock.pid, signal.SIGTERM)
        stock.wait(10)
    shown = "from allauth.socialaccount.models import SocialToken as T; t = T.objects.get(); print('PLAIN', t.token, t.token_secret)"
    line = next(line for line in run(env, "shell", "-c", shown).stdout.splitlines() if line.startswith("PLAIN "))
    access, refresh = line.split()[1:]

    # The one-line switch: "mwsso" and "mwsso.contrib.allauth" in place of allauth's provider.
    env["DJANGO_SETTINGS_MODULE"] = "tests.allauth.settings"
    run(env, "migrate", "--noinput")
    assert "mwsso.W063" in run(env, "check", "--database", "default").stderr
    dry = run(env, "mwsso_allauth", "import-tokens", "--dry-run")
    assert (
        "found 1 plain-text tokens in SocialToken: 1 would be imported" in dry.stdout
        and "Nothing was changed." in dry.stdout
    )
    done = run(env, "mwsso_allauth", "import-tokens")
    assert (
        "1 imported, 0 already present (the newer mwsso token is kept), 1 plain rows deleted, 0 skipped" in done.stdout
    )
    checked = run(env, "check", "--database", "default")
    assert "mwsso.W063" not in checked.stderr, checked.stderr
    call = "from mwsso import api; from django.contrib.auth import get_user_model as U; print(api.for_user(U().objects.get()).get(action='query', meta='userinfo')['query']['userinfo']['name'])"
    assert run(env, "shell", "-c", call).stdout.splitlines()[-1] == "Alice"
    dump = (tmp_path / "site.sqlite3").read_bytes()
    assert access.encode() not in dump and refresh.encode() not in dump


def _up(site: str) -> bool:
    try:
        return requests.get(site + "/", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _stock_sign_in(site: str) -> None:
    """Alice through allauth's own provider: its confirmation form (POST), the wiki's consent page, the callback."""
    browser = requests.Session()
    browser.get(f"{site}/accounts/mediawiki/login/", timeout=10)
    form = {"csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    to_wiki = browser.post(
        f"{site}/accounts/mediawiki/login/", data=form, headers={"Referer": site}, allow_redirects=False, timeout=10
    )
    assert to_wiki.status_code == 302, to_wiki.text[:1000]
    back = authorize_oauth2(None, to_wiki.headers["Location"], user="Alice")
    assert back.status_code == 302, back.text[:500]
    landed = browser.get(back.headers["Location"], timeout=10)
    assert landed.text == "Signed in as Alice.", landed.text[:1000]


# -- the import, in detail -----------------------------------------------------------------
def allauth_row(wiki: DevWiki, user: str = "Alice", *, app: Any = None, expires_in: int = 3600) -> SocialToken:
    """What allauth's own provider keeps for a signed-in user with SOCIALACCOUNT_STORE_TOKENS."""
    pair = wiki.control("oauth2_issue_token", client_id=AA_CLIENT[0], user=user)
    sub = {"Alice": "3", "Bob": "4"}[user]
    owner = User.objects.create_user(user)
    account = SocialAccount.objects.create(
        user=owner, provider="mediawiki", uid=sub, extra_data={"username": user, "email": None, "realname": ""}
    )
    return SocialToken.objects.create(
        app=app, account=account, token=pair["access_token"], token_secret=pair["refresh_token"],
        expires_at=timezone.now() + timezone.timedelta(seconds=expires_in),
    )  # fmt: skip


def userinfo_name(user) -> str:  # type: ignore[no-untyped-def]
    return api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]["name"]


@pytest.mark.django_db
def test_imported_tokens_work_and_expired_ones_refresh(aa_settings, o2wiki):
    alice, bob = allauth_row(o2wiki), allauth_row(o2wiki, "Bob", expires_in=-10)
    result = import_tokens(batch_size=1)
    assert (result.found, result.imported, result.removed, result.malformed) == (2, 2, 2, 0)
    assert not SocialToken.objects.exists()
    token = AccessToken.objects.get(user=alice.account.user)
    assert (token.oauth_version, token.consumer_key, token.wiki, token.status_reason) == (
        2,
        AA_CLIENT[0],
        o2wiki.server_url + "/w",  # the wiki key: server and script path
        IMPORTED_REASON,
    )
    assert token.get_credentials().key == alice.token and token.get_credentials().refresh_token == alice.token_secret
    assert userinfo_name(alice.account.user) == "Alice"
    assert userinfo_name(bob.account.user) == "Bob"  # expired: refreshed with the allauth client first


@pytest.mark.django_db
def test_a_dry_run_changes_nothing_and_a_rerun_finds_nothing(aa_settings, o2wiki):
    allauth_row(o2wiki)
    assert import_tokens(dry_run=True).imported == 1
    assert SocialToken.objects.count() == 1 and not AccessToken.objects.exists()
    assert import_tokens().imported == 1
    again = import_tokens()
    assert (again.found, again.imported, again.removed) == (0, 0, 0) and AccessToken.objects.count() == 1


@pytest.mark.django_db
def test_a_run_killed_half_way_leaves_each_row_whole_and_a_rerun_finishes(aa_settings, o2wiki):
    rows = [allauth_row(o2wiki), allauth_row(o2wiki, "Bob")]

    def killed(progress: Any) -> None:
        raise KeyboardInterrupt  # after the first batch of one row

    with pytest.raises(KeyboardInterrupt):
        import_tokens(batch_size=1, progress=killed)
    assert list(SocialToken.objects.values_list("pk", flat=True)) == [rows[1].pk]
    assert list(AccessToken.objects.values_list("user__username", flat=True)) == ["Alice"]
    assert import_tokens().imported == 1 and not SocialToken.objects.exists() and AccessToken.objects.count() == 2


@pytest.mark.django_db
def test_a_newer_mwsso_token_is_kept_and_the_plain_copy_deleted_all_the_same(aa_settings, o2wiki, browser):
    sign_in(browser)  # signs in with mwsso's provider: the encrypted token is newer
    current = AccessToken.objects.get()
    account = SocialAccount.objects.get()
    SocialToken.objects.create(account=account, token="old-plain-access", token_secret="old-plain-refresh")
    result = import_tokens()
    assert (result.imported, result.already_present, result.removed) == (0, 1, 1)
    assert AccessToken.objects.get().fingerprint == current.fingerprint and not SocialToken.objects.exists()


@pytest.mark.django_db
def test_a_sign_in_with_mwssos_provider_deletes_the_plain_copy_too(aa_settings, o2wiki, browser):
    row = allauth_row(o2wiki)
    sign_in(browser)
    assert not SocialToken.objects.exists()
    assert AccessToken.objects.get().user == row.account.user and User.objects.count() == 1


@pytest.mark.django_db
def test_rows_of_a_socialapp_use_its_client_and_unknown_clients_are_left_and_counted(aa_settings, o2wiki):
    app = SocialApp.objects.create(provider="mediawiki", name="Wiki", client_id="db-client", secret="s")
    allauth_row(o2wiki, app=app)
    aa_settings.SOCIALACCOUNT_PROVIDERS["mediawiki"]["APPS"] = [
        {"client_id": "a", "secret": "x"},
        {"client_id": "b", "secret": "y"},
    ]
    allauth_row(o2wiki, "Bob")  # no app, and two in settings: whose client is it?
    out, err = StringIO(), StringIO()
    call_command("mwsso_allauth", "import-tokens", stdout=out, stderr=err)
    assert "1 imported" in out.getvalue() and "1 skipped" in out.getvalue() and "mwsso.W063" in err.getvalue()
    assert AccessToken.objects.get().consumer_key == "db-client"
    assert SocialToken.objects.get().account.uid == "4"
