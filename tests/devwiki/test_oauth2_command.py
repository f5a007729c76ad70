"""``manage.py mwsso_devwiki --mw-version``: which recorded wiki the OAuth 2.0 side plays."""

from __future__ import annotations

import signal

import pytest
import requests

from mwsso.devwiki import config

from .test_command import read_banner, start


@pytest.mark.parametrize(
    ("flag", "version", "content_type"),
    [((), "1.43", "application/json"), (("--mw-version", "1.39"), "1.39", "text/html")],
)
def test_mw_version_flag(flag: tuple[str, ...], version: str, content_type: str) -> None:
    process = start(*flag)
    try:
        banner = read_banner(process)
        url = banner.split(" at ", 1)[1].split()[0]
        assert f"(MediaWiki {version})" in banner
        assert config.DEMO_OAUTH2_CLIENT_ID in banner and config.DEMO_OAUTH2_CLIENT_SECRET not in banner
        token = requests.post(
            f"{url}/_devwiki/control",
            json={"action": "oauth2_issue_token", "client_id": config.DEMO_OAUTH2_CLIENT_ID, "user": "Alice"},
            timeout=5,
        ).json()["access_token"]
        answer = requests.get(
            f"{url}/w/rest.php/oauth2/resource/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200 and answer.headers["Content-Type"] == content_type
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


def test_unknown_mw_version_is_refused() -> None:
    process = start("--mw-version", "1.35")
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0 and "invalid choice" in output
