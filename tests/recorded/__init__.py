"""Data recorded from real MediaWiki installs, kept in the repository so that a fresh clone tests itself."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load(name: str) -> Any:
    """A fresh parse of the JSON file ``name`` (e.g. ``"mediawiki-1.39-claims.json"``): callers may change it."""
    return json.loads(_text(name))


@cache
def _text(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")
