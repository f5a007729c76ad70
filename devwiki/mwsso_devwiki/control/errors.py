"""What a control action answers when it cannot run, and the lookups every action shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..state.models import User
    from ..state.store import Store


class ControlError(ValueError):
    """A control action was unknown or given unusable parameters."""


def user_of(store: Store, ref: Any) -> User:
    """The user named by ``ref`` (a name or a central id), or ControlError."""
    user = store.user(ref)
    if user is None:
        raise ControlError(f"no such user: {ref!r}")
    return user
