"""Stopping ``make run`` stops the site and the local wiki, quietly, whichever way it is stopped.

Real ``make``, real ``/bin/sh`` (dash on Debian), real runserver and wiki on free ports: started in a
process group of their own as a terminal would, then stopped as a terminal's Ctrl-C does (SIGINT to the
whole foreground group) or as ``kill <make's pid>`` does (SIGTERM to make alone). Afterwards both ports
are free, nothing alarming was printed (the former trap's "Segmentation fault", a traceback, make's
"*** … Error"), and the wiki wrote its state file with a change made just before the stop.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.test_demo_settings import ROOT, clean_env, free_port

ALARMING = ("Segmentation fault", "Traceback", "Error", "Terminated", "Killed", "Exception")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.ConnectionError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_until(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.production
@pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists(), reason="make run needs the .venv that make test builds"
)
@pytest.mark.parametrize("how", ["ctrl-c to the process group", "sigterm to make alone"])
def test_stopping_make_run_stops_both_servers_quietly(tmp_path: Path, how: str) -> None:
    port, wiki_port = free_port(), free_port()
    state = tmp_path / "wiki-state.json"
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}", f"WIKI_PORT={wiki_port}", f"WIKI_STATE={state}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        site, wiki = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{wiki_port}/w/index.php"
        started = _wait_until(lambda: make.poll() is not None or (_answers(site) and _answers(wiki)), 90)
        assert started and make.poll() is None, make.communicate(timeout=20)[0] if make.poll() is not None else ""
        # A change only the stop's final save is sure to write (the wiki also saves every half second).
        marker = f"made before the stop {uuid.uuid4().hex}"
        added = requests.post(
            f"http://127.0.0.1:{wiki_port}/_devwiki/control",
            json={"action": "oauth2_add_client", "name": marker, "redirect_uri": "http://127.0.0.1:1/x/"},
            timeout=10,
        )
        assert added.json()["ok"], added.text

        if how == "ctrl-c to the process group":
            os.killpg(make.pid, signal.SIGINT)
        else:
            os.kill(make.pid, signal.SIGTERM)
        output, _ = make.communicate(timeout=30)
    finally:
        if make.poll() is None:  # only if the stop itself failed: leave nothing running
            os.killpg(make.pid, signal.SIGKILL)
            make.communicate()

    # make ends by the signal it was sent (it re-raises it after its child shell exited 0).
    assert make.returncode in (0, -signal.SIGINT, -signal.SIGTERM), (make.returncode, output)
    assert _wait_until(lambda: not _listening(port) and not _listening(wiki_port), 5), output
    stopping = output.split("Quit the server with CONTROL-C.", 1)[-1]
    assert not [word for word in ALARMING if word in stopping], output
    assert "make: ***" not in output, output
    assert "devwiki stopped." in output, output
    saved = json.loads(state.read_text())
    assert marker in json.dumps(saved), "the wiki did not save its state at the stop"
    # Nothing of this run is left in the process group (runserver's autoreloader child included).
    with pytest.raises(ProcessLookupError):
        os.killpg(make.pid, 0)
