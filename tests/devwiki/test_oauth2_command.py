"""``manage.py mwsso_devwiki --mw-version``: which recorded wiki the OAuth 2.0 side plays."""

from __future__ import annotations

import pytest
import requests
from mwsso_devwiki.state import seed
from mwsso_devwiki.state.store import Store

from .test_command import serving, start


@pytest.mark.parametrize(
    ("flag", "version", "content_type"),
    [((), "1.43", "application/json"), (("--mw-version", "1.39"), "1.39", "text/html")],
)
def test_mw_version_flag(flag: tuple[str, ...], version: str, content_type: str) -> None:
    with serving(*flag) as (banner, url):
        assert f"(MediaWiki {version})" in banner
        assert seed.DEMO_OAUTH2_CLIENT_ID in banner and seed.DEMO_OAUTH2_CLIENT_SECRET not in banner
        token = requests.post(
            f"{url}/_devwiki/control",
            json={"action": "oauth2_issue_token", "client_id": seed.DEMO_OAUTH2_CLIENT_ID, "user": "Alice"},
            timeout=5,
        ).json()["access_token"]
        answer = requests.get(
            f"{url}/w/rest.php/oauth2/resource/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200 and answer.headers["Content-Type"] == content_type


def test_unknown_mw_version_is_refused() -> None:
    process = start("--mw-version", "1.35")
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0 and "invalid choice" in output


def test_site_url_moves_the_demo_clients_redirect_uri() -> None:
    # make run passes its PORT: OAuth 2.0 redirect URIs match exactly, so a demo on :18000 needs its own.
    with serving("--site-url", "http://127.0.0.1:18000") as (_, url):
        home = requests.get(f"{url}/wiki/Main_Page", timeout=5).text
        assert "http://127.0.0.1:18000/complete/mediawiki-oauth2/" in home
        assert seed.DEMO_OAUTH2_REDIRECT_URI not in home


def test_site_url_leaves_other_clients_and_the_builtins_alone() -> None:
    store = Store(site_url="http://127.0.0.1:18000/")
    moved = "http://127.0.0.1:18000/complete/mediawiki-oauth2/"
    assert store.oauth2.client(seed.DEMO_OAUTH2_CLIENT_ID).redirect_uri == moved
    assert store.oauth2.client(seed.PUBLIC_OAUTH2_CLIENT_ID).redirect_uri == moved
    assert store.oauth2.client(seed.TEST_OAUTH2_CLIENT_ID).redirect_uri == seed.TEST_OAUTH2_REDIRECT_URI
    store.reset()
    assert store.oauth2.client(seed.DEMO_OAUTH2_CLIENT_ID).redirect_uri == moved
    assert Store().oauth2.client(seed.DEMO_OAUTH2_CLIENT_ID).redirect_uri == seed.DEMO_OAUTH2_REDIRECT_URI
