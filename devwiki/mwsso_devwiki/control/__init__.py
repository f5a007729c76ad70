"""Runtime control: the actions tests and developers drive the wiki with, in-process or over HTTP.

``run(store, action, params)`` is what ``DevWiki.control`` and ``POST /_devwiki/control``
(``endpoint``) call. Each action takes keyword parameters and returns a JSON-serialisable dict;
bad input raises ControlError, which the endpoint answers with HTTP 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import oauth2, wiki
from .errors import ControlError

if TYPE_CHECKING:
    from ..state.store import Store

ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {**wiki.ACTIONS, **oauth2.ACTIONS}

__all__ = ["ACTIONS", "ControlError", "run"]


def run(store: Store, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """``{"ok": True, ...}`` from the action, or ControlError (unknown action, unusable parameters)."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise ControlError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    try:
        return {"ok": True, **handler(store, **params)}
    except ControlError:
        raise
    except (TypeError, ValueError) as err:  # ConfigError, FaultError and SettingsError are ValueErrors
        raise ControlError(f"{action}: {err}") from err
