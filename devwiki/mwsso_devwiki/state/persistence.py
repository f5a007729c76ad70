"""The state file: a local wiki that restarts keeps its users, consumers, grants, tokens and pages.

A site's stored tokens stay valid across a restart of ``make run`` only if the wiki remembers
them (and the key its OAuth 2.0 tokens are signed with); otherwise every token the site holds
reads as revoked. The file is JSON, written atomically (a temporary file, then a rename) and
readable by its owner only, since it holds the consumers' secrets and the users' tokens, as a
real wiki's database does. Tests never use one: they keep their state in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

FORMAT = 1


class StateFileError(ValueError):
    """The state file cannot be read back (the message says how to start over)."""


class StateFile:
    """One wiki's state file: ``restore`` it at start, ``save`` it whenever the state changed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._written: str | None = None

    def restore(self, store: Store) -> bool:
        """Load the file into ``store`` (over its configured state); False when there is no file yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except OSError as err:
            raise StateFileError(f"{self.path}: {err.strerror}") from err
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a state file of format {FORMAT}")
            store.load(data["state"])
        except (ValueError, KeyError, TypeError) as err:
            raise StateFileError(
                f"{self.path} cannot be read back ({err}); start over with --fresh, or remove the file"
            ) from err
        self._written = text
        return True

    def save(self, store: Store) -> bool:
        """Write the state if it changed since the last write; whether it wrote."""
        text = json.dumps({"format": FORMAT, "server": store.server, "state": store.dump()}, indent=1)
        if text == self._written:
            return False
        _write_private(self.path, text)
        self._written = text
        return True


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, the file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
