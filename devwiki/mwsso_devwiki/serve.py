"""Serving a local wiki in the foreground: its banner, signals, a clean stop (``python -m mwsso_devwiki``)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

from .app import CONTROL_PATH
from .server import DevWikiServer
from .state.persistence import StateFile
from .state.seed import DEMO_CONSUMER_KEY, DEMO_OAUTH2_CLIENT_ID
from .state.store import Store

SAVE_EVERY = 0.5  # seconds between looks for a changed state (each look serialises it; the state is small)


def banner(server: DevWikiServer, state: str = "") -> str:
    store = server.store
    demo = store.consumer(DEMO_CONSUMER_KEY) or next((c for c in store.consumers() if c.approved), None)
    lines = [
        f"devwiki (local MediaWiki OAuth provider) at {server.server_url}",
        f"  canonical server (iss): {store.server}",
        f"  index.php: {store.urls.index}",
        f"  api.php:   {store.urls.api}",
        f"  control:   POST {store.server}{CONTROL_PATH}",
        f'  settings:  SOCIAL_AUTH_MEDIAWIKI_URL = "{store.urls.index}"',
    ]
    if demo is not None:
        lines.append(f"  consumer key ({demo.name}): {demo.key}  (secret: see docs/devwiki.md)")
    lines.append(f"  OAuth 2.0: {store.urls.rest}/oauth2/authorize  (MediaWiki {store.mw_version})")
    demo2 = store.oauth2.client(DEMO_OAUTH2_CLIENT_ID)
    if demo2 is not None:
        lines.append(f"  client id ({demo2.name}): {demo2.client_id}  (secret: see docs/devwiki.md)")
    lines.append(f"  state:     {state or 'in memory only (--state FILE keeps it across restarts)'}")
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)


def serve(
    host: str = "127.0.0.1",
    port: int = 8001,
    config: dict[str, Any] | str | Path | None = None,
    stdout: IO[str] = sys.stdout,
    stop: threading.Event | None = None,
    script_path: str | None = None,
    mw_version: str | None = None,
    site_url: str | None = None,
    state_file: str | Path | None = None,
    fresh: bool = False,
) -> None:
    """Serve until ``stop`` is set, SIGTERM arrives or Ctrl-C; then shut down cleanly.

    ``script_path`` overrides the config's ``script_path`` (``$wgScriptPath``, default ``/w``);
    ``mw_version`` the MediaWiki version to play; ``site_url`` where the demo site runs (its
    OAuth 2.0 clients' redirect URI). With ``state_file`` the state is restored from it (unless
    ``fresh``) and written back whenever it changes and at the stop.
    """
    store = Store(config, script_path=script_path, mw_version=mw_version, site_url=site_url)
    saved = StateFile(state_file) if state_file else None
    described = ""
    if saved is not None:
        restored = not fresh and saved.restore(store)
        described = f"{saved.path} ({'restored' if restored else 'new'})"
    server = DevWikiServer(store, host, port)
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C too: a KeyboardInterrupt raised while the banner is being written would end the
        # process with a traceback instead of a clean stop.
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    server.start()
    stdout.write(banner(server, described) + "\n")
    stdout.flush()
    try:
        while not stop.wait(SAVE_EVERY):
            if saved is not None:
                saved.save(store)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if saved is not None:
            saved.save(store)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stdout.write("devwiki stopped.\n")
        stdout.flush()
