"""Reading the manual's recipes as tests run them: its marked blocks, and the environment a block of exports sets.

A block is marked in the Markdown source with ``<!-- <recipe>:<name> [argument] -->`` on the line before
its fence, as the README's quick start (``quickstart:…``), docs/deploying.md (``deploy:…``) and
docs/migrating.md (``migrate:…``) do; the argument is where the block is saved, when it is a file.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import requests


def marked_blocks(page: Path, recipe: str) -> dict[str, tuple[str | None, str]]:
    """``name`` → (argument, code) for every block of ``page`` marked ``<!-- recipe:name [argument] -->``."""
    pattern = re.compile(
        rf"<!-- {re.escape(recipe)}:(?P<name>[\w-]+)(?: (?P<arg>\S+))? -->\n```\w*\n(?P<code>.*?)^```", re.M | re.S
    )
    found: dict[str, tuple[str | None, str]] = {}
    for match in pattern.finditer(page.read_text()):
        assert match["name"] not in found, f"{page.name}: two blocks marked {recipe}:{match['name']}"
        found[match["name"]] = (match["arg"], match["code"])
    return found


def commands(code: str) -> list[tuple[list[str], bool]]:
    """A shell block's commands without comments: (argv, whether it runs in the background with ``&``)."""
    found = []
    for line in code.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            background = line.endswith("&")
            found.append((shlex.split(line.rstrip("&")), background))
    return found


def exported(script: str, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """The environment after running ``script`` (its ``export`` lines, ``$(...)`` and all) in bash."""
    done = subprocess.run(
        ["bash", "-c", script + "\nenv -0"], env=env, cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def answers(url: str) -> bool:
    """Whether a server answers ``url`` with anything but a 5xx (False while it starts)."""
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:  # not listening yet, or a worker still booting
        return False


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started (gunicorn's workers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
