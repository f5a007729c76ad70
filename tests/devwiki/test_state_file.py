"""The state file: a local wiki that restarts keeps its users, consumers, grants, tokens and pages."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from mwsso_devwiki.server import DevWikiServer
from mwsso_devwiki.state.persistence import StateFile, StateFileError
from mwsso_devwiki.state.store import Store
from mwsso_devwiki.testing import DevWiki

from .conftest import TEST, api, browser, handshake, identify, signed
from .oauth2_client import CONFIDENTIAL, profile, refresh, signed_in


def restarted(store: Store, path: Path) -> DevWiki:
    """A new wiki process's worth of state: a fresh Store from the same config, restored from ``path``."""
    StateFile(path).save(store)
    again = Store(store.config)
    assert StateFile(path).restore(again) is True
    server = DevWikiServer(again)
    server.start()
    return DevWiki(server, again)


def test_tokens_grants_users_and_pages_survive_a_restart(wiki: DevWiki, tmp_path: Path) -> None:
    access = handshake(wiki, "Alice")
    tokens = signed_in(wiki, "Alice")
    revoked = handshake(wiki, "Bob")
    wiki.control("revoke", consumer_key=TEST[0], user="Bob")
    added = wiki.control("add_user", name="Carol")
    consumer = wiki.control("add_consumer", name="Carol's tool", callback="oob")
    edit_token = api(wiki, {"action": "query", "meta": "tokens"}, signed(TEST, access)).json()["query"]["tokens"]
    edited = api(
        wiki, {"action": "edit", "title": "Sandbox", "text": "kept", "token": edit_token["csrftoken"]},
        signed(TEST, access), method="POST",
    )  # fmt: skip
    assert edited.json()["edit"]["result"] == "Success"
    alice = browser(wiki, "Alice")

    again = restarted(wiki.store, tmp_path / "state.json")
    try:
        assert identify(again, TEST, access).text.count(".") == 2  # the same OAuth 1.0a token, still granted
        assert identify(again, TEST, revoked).json()["error"] == "mwoauthdatastore-access-token-not-found"
        assert profile(again, tokens["access_token"]).json()["username"] == "Alice"  # same signing key
        assert refresh(again, tokens["refresh_token"]).status_code == 200
        assert again.store.user("Carol").sub == added["sub"] and again.store.consumer(consumer["key"]) is not None
        assert again.store.pages.get("Sandbox").latest.text == "kept"
        # A browser signed in before the restart still is (the session cookie's secret is kept).
        page = alice.get(f"{again.index_url}?title=Special:OAuthManageMyGrants", timeout=5)
        assert "Manage connected applications" in page.text and 'id="mw-mwoauth-grants"' in page.text
    finally:
        again.stop()


def test_the_state_file_is_its_owners_only_and_holds_no_short_lived_secrets(wiki: DevWiki, tmp_path: Path) -> None:
    handshake(wiki, "Alice")
    path = tmp_path / "state.json"
    saved = StateFile(path)
    assert saved.save(wiki.store) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert saved.save(wiki.store) is False  # unchanged: not written again
    handshake(wiki, "Bob")
    assert saved.save(wiki.store) is True
    kept = json.loads(path.read_text())["state"]
    assert set(kept) == {"secret", "users", "consumers", "access_tokens", "current", "acceptances", "pages", "oauth2"}
    assert [c["key"] for c in kept["consumers"]]  # the request tokens and nonces are not kept


def test_the_config_wins_for_what_it_defines(wiki: DevWiki, tmp_path: Path) -> None:
    """Editing the config (make run's site URL, say) takes effect after a restart; what the wiki gathered stays."""
    path = tmp_path / "state.json"
    wiki.control("oauth2_set_redirect_uri", client_id=CONFIDENTIAL[0], redirect_uri="http://old.example/cb")
    StateFile(path).save(wiki.store)
    again = Store(wiki.store.config)
    StateFile(path).restore(again)
    assert again.oauth2.client(CONFIDENTIAL[0]).redirect_uri == wiki.store.config["oauth2_clients"][1]["redirect_uri"]


def test_a_broken_state_file_stops_the_start_with_a_way_out(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"format": 1, "state": {"secret"')
    with pytest.raises(StateFileError, match="--fresh"):
        StateFile(path).restore(Store())
    assert StateFile(tmp_path / "none.json").restore(Store()) is False


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "mwsso_devwiki", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = []
    for line in process.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if line.startswith("Stop with Ctrl-C"):
            break
    banner = "".join(lines)
    return process, banner


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=10)
    assert process.returncode == 0, rest
    return rest


def test_the_command_restores_and_saves_and_fresh_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    process, banner = _start("--state", str(path))
    try:
        assert f"state:     {path} (new)" in banner
        url = banner.split(" at ", 1)[1].split()[0]
        added = requests.post(f"{url}/_devwiki/control", json={"action": "add_user", "name": "Dora"}, timeout=5)
        assert added.json()["name"] == "Dora"
    finally:
        _stop(process)
    assert "Dora" in path.read_text()
    process, banner = _start("--state", str(path))
    try:
        assert f"state:     {path} (restored)" in banner
        url = banner.split(" at ", 1)[1].split()[0]
        users = requests.post(f"{url}/_devwiki/control", json={"action": "stats"}, timeout=5)
        assert users.status_code == 200
        login = requests.get(f"{url}/w/index.php?title=Special:UserLogin", timeout=5).text
        assert "Dora" in login
    finally:
        _stop(process)
    process, banner = _start("--state", str(path), "--fresh")
    try:
        url = banner.split(" at ", 1)[1].split()[0]
        assert "Dora" not in requests.get(f"{url}/w/index.php?title=Special:UserLogin", timeout=5).text
    finally:
        _stop(process)
    assert "Dora" not in path.read_text()  # the fresh start was saved over it
    assert os.access(path, os.R_OK)
