"""Applying a quick start (the README's, docs/allauth.md's) to a new ``startproject`` and running it, as a reader would.

``marked_blocks`` reads a page's ``<!-- PREFIX:NAME [ARG] -->`` blocks; ``new_project`` pastes the
settings, URLs and files into a new project; ``exported_key`` runs the key command; ``running`` starts
the run blocks' commands (the local wiki and the site on free ports) and stops them; ``own_terminal``
reads a block the page runs in a terminal of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests


def marked_blocks(page: Path, prefix: str) -> dict[str, tuple[str | None, str]]:
    """``{name: (argument, code)}`` of every block marked ``<!-- PREFIX:NAME [ARG] -->`` on ``page``."""
    marked = re.compile(
        rf"<!-- {prefix}:(?P<name>[\w-]+)(?: (?P<arg>\S+))? -->\n```\w*\n(?P<code>.*?)^```", re.M | re.S
    )
    return {m["name"]: (m["arg"], m["code"]) for m in marked.finditer(page.read_text())}


def fresh_env() -> dict[str, str]:
    """Only what a fresh shell has: nothing of this test run's settings, database or mwsso configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    # `python` in the page's commands is this test's (virtual environment's) interpreter, as if activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def new_project(tmp_path: Path, env: dict[str, str], settings: str, urls: str, files: dict[str, str]) -> Path:
    """``startproject mysite`` with ``settings`` appended, ``urls`` as its urls.py and ``files`` saved in it."""
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, env=env, check=True, timeout=60
    )
    root = tmp_path / "mysite"
    settings_py = root / "mysite" / "settings.py"
    settings_py.write_text(settings_py.read_text() + "\n" + settings)
    (root / "mysite" / "urls.py").write_text(urls)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def exported_key(key_command: str, env: dict[str, str]) -> str:
    """What the page's key command exports as ``MWSSO_TOKEN_KEYS``, the command run as written."""
    script = key_command + '\nprintf %s "$MWSSO_TOKEN_KEYS"\n'
    key = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}=", key.stdout), key.stdout + key.stderr
    return key.stdout


def run_commands(code: str) -> list[tuple[list[str], bool]]:
    """The run block's commands: (argv, in the background)."""
    commands = []
    for line in code.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            background = line.endswith("&")
            commands.append((shlex.split(line.rstrip("&")), background))
    return commands


def own_terminal(code: str) -> list[tuple[list[str], bool]]:
    """The commands of a block the page runs in a terminal of its own: each runs until it is stopped.

    A page never backgrounds a server with ``&`` (Ctrl-C in the reader's terminal would leave it running);
    a test runs such a block's commands beside the others, as the reader's second terminal does.
    """
    commands = run_commands(code)
    assert not [argv for argv, background in commands if background], f"no `&` in a terminal's own block:\n{code}"
    return [(argv, True) for argv, _ in commands]


def no_background_servers(page: Path) -> None:
    """No shell line of ``page`` starts a server with a trailing ``&`` that Ctrl-C would leave running."""
    shell = re.findall(r"^```sh\n(.*?)^```", page.read_text(), re.M | re.S)
    backgrounded = [
        line for block in shell for line in block.splitlines() if line.split("#", 1)[0].rstrip().endswith("&")
    ]
    assert backgrounded == [], f"{page.name} backgrounds: {backgrounded}"


@contextlib.contextmanager
def running(
    commands: list[tuple[list[str], bool]], root: Path, env: dict[str, str], ports: dict[str, str], logs: Path
) -> Iterator[Callable[[str], bool]]:
    """Run the commands (``ports`` replaces arguments, e.g. 8001 by a free port); yields ``up(url)``; stops them."""
    processes: list[subprocess.Popen[bytes]] = []
    logs.mkdir(exist_ok=True)

    def up(url: str) -> bool:
        for proc in processes:
            assert proc.poll() is None, "\n".join(p.read_text() for p in logs.iterdir())
        try:
            return requests.get(url, timeout=2).status_code < 500
        except requests.ConnectionError:
            return False

    try:
        for argv, background in commands:
            argv = [ports.get(a, a) for a in argv]
            if argv[2] == "runserver":
                argv.append("--noreload")  # one process, so that stopping it stops the site
            if not background and argv[2] != "runserver":
                result = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stdout + result.stderr
                continue
            log = (logs / f"{argv[2]}.log").open("wb")
            processes.append(
                subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        yield up
    finally:
        for proc in processes:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def manage_check(root: Path, env: dict[str, str], *args: str) -> None:
    """``manage.py check`` (with ``args``) finds nothing: the page's configuration is clean."""
    check = subprocess.run(
        [sys.executable, "manage.py", "check", *args], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert "System check identified no issues" in check.stdout, check.stdout + check.stderr


def manage_shell(root: Path, env: dict[str, str], code: str) -> str:
    """What ``manage.py shell -c code`` prints (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class _Forms(HTMLParser):
    """Every form of a page: action and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((attr.get("action", ""), {}))
        elif tag == "input" and attr.get("type") == "hidden" and self.forms:
            self.forms[-1][1][attr.get("name", "")] = attr.get("value", "")


def form_to(page: requests.Response, path_end: str) -> tuple[str, dict[str, str]]:
    """The one form of ``page`` whose action ends with ``path_end``: its absolute action and hidden fields."""
    parser = _Forms()
    parser.feed(page.text)
    matching = [(urljoin(page.url, action), fields) for action, fields in parser.forms if action.endswith(path_end)]
    assert len(matching) == 1, f"no single form to …{path_end} on {page.url}:\n{page.text[:2000]}"
    return matching[0]
