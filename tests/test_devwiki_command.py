"""``manage.py mwsso_devwiki``: the local wiki is a distribution of its own, which the site never needs.

The command becomes ``python -m mwsso_devwiki`` with its options as given; without the local wiki
installed it says how to install it ("not installed" played here by taking the editable install's
finder off ``sys.meta_path`` before manage.py runs). A site with the app's wheel and no local wiki
passing its checks: tests/test_package.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from mwsso.management.commands import mwsso_devwiki as command
from tests.production.services import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
WITHOUT_THE_LOCAL_WIKI = """
import importlib.util, runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "mwsso_devwiki" not in getattr(f, "__module__", "")]
assert importlib.util.find_spec("mwsso_devwiki") is None
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
assert "mwsso_devwiki" not in sys.modules
"""


def _manage_without_the_local_wiki(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "project.settings"}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_LOCAL_WIKI, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_without_the_local_wiki_the_command_says_how_to_install_it() -> None:
    done = _manage_without_the_local_wiki("mwsso_devwiki")
    assert done.returncode == 1
    assert 'pip install "mwsso[devwiki]"' in done.stderr and "Traceback" not in done.stderr


def test_the_options_are_passed_on_to_the_local_wiki(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(command, "run", lambda argv: started.append(argv) or 0)
    call_command("mwsso_devwiki", port="8101", mw_version="1.45", script_path="", state="wiki.json", fresh=True)
    call_command("mwsso_devwiki")
    assert started == [
        [sys.executable, "-m", "mwsso_devwiki", "--port", "8101", "--script-path", "", "--mw-version", "1.45",
         "--state", "wiki.json", "--fresh"],
        [sys.executable, "-m", "mwsso_devwiki"],
    ]  # fmt: skip


def test_the_local_wikis_exit_status_is_the_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command, "run", lambda argv: 2)
    with pytest.raises(CommandError) as stopped:
        call_command("mwsso_devwiki")
    assert stopped.value.returncode == 2


def test_the_command_becomes_the_local_wiki_so_a_kill_leaves_no_wiki_running() -> None:
    """On POSIX the command execs the wiki: the process started is the one serving, and SIGKILL ends it."""
    port = free_port()
    started = subprocess.Popen(
        [sys.executable, "manage.py", "mwsso_devwiki", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "DJANGO_DEBUG": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/_devwiki/control"
    try:
        wait_for(lambda: _answers(url), 30, "the local wiki")
        started.send_signal(signal.SIGKILL)
        started.wait(10)
        assert not _answers(url)
    finally:
        if started.poll() is None:
            started.kill()
            started.wait(10)


def _answers(url: str) -> bool:
    try:
        return requests.post(url, json={"action": "stats"}, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_without_exec_the_local_wiki_runs_as_a_child_and_its_exit_status_is_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(command, "EXEC", False)
    assert command.run([sys.executable, "-c", "raise SystemExit(3)"]) == 3
