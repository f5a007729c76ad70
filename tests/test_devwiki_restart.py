"""A restarted ``make run`` keeps the tokens its site holds valid: the local wiki's state file, end to end.

The wiki runs as ``make run`` runs it (``manage.py mwsso_devwiki --state FILE`` on a fixed port), the
site signs Alice in through it, and mwsso's own verify (what the admin's "verify" action calls) asks
the wiki about her stored token after each restart. Without the state file the same restart would
leave the token revoked, which the last step shows.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mwsso_devwiki.testing import authorize

from mwsso import http
from mwsso.models import AccessToken
from mwsso.tokens.verify import verify_token
from tests.conftest import callback_path, start_login, use_test_consumer
from tests.production.services import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def local_wiki(port: int, *args: str) -> Iterator[str]:
    """``manage.py mwsso_devwiki`` on ``port`` until the block ends (SIGTERM: a clean stop, which saves the state)."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "manage.py"), "mwsso_devwiki", "--port", str(port), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith("Stop with Ctrl-C"):
                break
        yield f"http://127.0.0.1:{port}/w/index.php"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output


@pytest.mark.django_db
def test_a_restarted_local_wiki_keeps_the_sites_tokens_valid(settings, site_client, tmp_path: Path) -> None:
    state, port = tmp_path / "devwiki-state.json", free_port()
    with local_wiki(port, "--state", str(state)) as index_url:
        use_test_consumer(settings, index_url)
        http.reset_session()
        allowed = authorize(None, start_login(site_client), user="Alice")
        assert site_client.get(callback_path(allowed.headers["Location"])).status_code == 302
        token = AccessToken.objects.get(user__username="Alice")
        assert verify_token(token).status == "valid"
    with local_wiki(port, "--state", str(state)):
        http.reset_session()
        assert verify_token(token).status == "valid"  # the wiki remembers the grant
    with local_wiki(port, "--state", str(state), "--fresh"):
        http.reset_session()
        assert verify_token(token).status == "revoked"  # what every restart did before the state file
    http.reset_session()
