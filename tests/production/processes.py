"""The deployed processes: the local wiki (``manage.py mwsso_devwiki``) and the demo site under gunicorn."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from tests.production.services import child_pids, wait_for

REPO = Path(__file__).resolve().parents[2]
BROWSER_HEADER = "X-Mwsso-Browser"
# gunicorn's access log: worker pid, status, method, path, and which test "browser" sent the request.
ACCESS_LOG_FORMAT = "%(p)s %(s)s %(m)s %(U)s %({x-mwsso-browser}i)s"
_ACCESS_LINE = re.compile(r"^<(?P<pid>\d+)> (?P<status>\d{3}) (?P<method>\S+) (?P<path>\S+) (?P<browser>\S+)$")


def manage(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=180
        )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed (exit {result.returncode}):\n{log.read_text()[-3000:]}")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out: IO[bytes] = log.open("ab")
    try:
        # A session of its own: a stray signal to the test runner's group does not reach it, and the reverse.
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class WikiProcess:
    """The local wiki as its own process on a fixed port, so it can be killed and started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.server_url = f"http://127.0.0.1:{port}"
        self.index_url = f"{self.server_url}/w/index.php"
        self.control_url = f"{self.server_url}/_devwiki/control"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [sys.executable, "manage.py", "mwsso_devwiki", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = _spawn(args, self.env, self.log)
        wait_for(self._ready, 30, f"the local wiki on {self.server_url} (log: {self.log})")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the local wiki exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return requests.post(self.control_url, json={"action": "stats"}, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def kill(self) -> None:
        """Down hard: SIGKILL, no goodbye on open connections; the port refuses connections afterwards."""
        _stop(self.proc, signal.SIGKILL)
        self.proc = None

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        response = requests.post(self.control_url, json={"action": action, **params}, timeout=10)
        answer = response.json()
        if response.status_code != 200 or not answer.get("ok"):
            raise RuntimeError(f"devwiki control {action} failed: {answer}")
        return answer


@dataclass(frozen=True)
class Hit:
    """One line of gunicorn's access log."""

    pid: int
    status: int
    method: str
    path: str
    browser: str


class Site:
    """The demo site under gunicorn; the access log tells which worker served which request."""

    def __init__(self, port: int, env: dict[str, str], logdir: Path, workers: int = 4) -> None:
        self.port, self.env, self.workers = port, env, workers
        self.url = f"http://127.0.0.1:{port}"
        self.log = logdir / "gunicorn.log"
        self.access_log = logdir / "access.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            sys.executable, "-m", "gunicorn", "project.wsgi",
            "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
            # mwsso's wiki timeout (MWSSO_HTTP_TIMEOUT) is what must fire first, never the worker timeout.
            "--timeout", "30", "--graceful-timeout", "5",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", "-", "--log-level", "info",
        ]  # fmt: skip
        self.proc = _spawn(args, self.env, self.log)
        wait_for(self._ready, 60, f"gunicorn with {self.workers} workers on {self.url} (log: {self.log})", 0.1)

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        if len(self.worker_pids()) < self.workers:
            return False
        try:
            return requests.get(self.url + "/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> set[int]:
        return child_pids(self.proc.pid) if self.proc is not None else set()

    def wait_workers(self, timeout: float = 30) -> set[int]:
        """Wait until the master runs its full count of workers again (after one was stopped)."""
        return wait_for(lambda: (p := self.worker_pids()) and len(p) >= self.workers and p, timeout, "gunicorn workers")

    def stop(self) -> None:
        _stop(self.proc, timeout=15)
        self.proc = None

    def hits(self, browser: str | None = None) -> list[Hit]:
        found = []
        for line in self.access_log.read_text().splitlines() if self.access_log.exists() else []:
            match = _ACCESS_LINE.match(line.strip())
            if match and (browser is None or match["browser"] == browser):
                found.append(
                    Hit(int(match["pid"]), int(match["status"]), match["method"], match["path"], match["browser"])
                )
        return found

    def hit(self, browser: str, method: str, path: str, timeout: float = 5) -> Hit:
        """The (last) access log line of ``browser``'s request; gunicorn writes it just after answering."""

        def find() -> Hit | None:
            matching = [h for h in self.hits(browser) if h.method == method and h.path == path]
            return matching[-1] if matching else None

        return wait_for(find, timeout, f"{method} {path} of {browser} in the access log")

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0
