"""``manage.py mwsso_devwiki`` in a real process: prints its URLs, serves, exits cleanly on SIGTERM/Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from mwsso_devwiki.state import seed

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "manage.py"), "mwsso_devwiki", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_banner(process: subprocess.Popen[str]) -> str:
    lines = []
    for line in process.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if line.startswith("Stop with Ctrl-C"):
            break
    return "".join(lines)


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str]]:
    """The command started with ``args``: yields its banner and wiki URL, then stops it with SIGTERM (it must exit 0)."""
    process = start(*args)
    try:
        banner = read_banner(process)
        yield banner, banner.split(" at ", 1)[1].split()[0]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_until_stopped(stop_signal):
    process = start("--host", "127.0.0.1")
    try:
        banner = read_banner(process)
        url = banner.split(" at ", 1)[1].split()[0]
        assert f"consumer key (mwsso demo): {seed.DEMO_CONSUMER_KEY}" in banner
        assert seed.DEMO_CONSUMER_SECRET not in banner
        assert (
            requests.get(
                f"{url}/w/api.php", params={"action": "query", "meta": "userinfo", "format": "json"}, timeout=5
            ).json()["query"]["userinfo"]["anon"]
            == ""
        )
        process.send_signal(stop_signal)
        rest, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert rest.strip().endswith("devwiki stopped.")


def test_command_with_a_broken_config(tmp_path):
    broken = tmp_path / "wiki.toml"
    broken.write_text("consumers = [", encoding="utf-8")
    process = start("--config", str(broken))
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "devwiki could not start" in output and "not valid TOML" in output


def test_command_serves_a_root_script_path():
    with serving("--script-path", "") as (banner, url):
        assert f"index.php: {url}/index.php" in banner and f'SOCIAL_AUTH_MEDIAWIKI_URL = "{url}/index.php"' in banner
        params = {"action": "query", "meta": "userinfo", "format": "json"}
        assert requests.get(f"{url}/api.php", params=params, timeout=5).json()["query"]["userinfo"]["anon"] == ""
        assert requests.get(f"{url}/w/api.php", params=params, timeout=5).status_code == 404
