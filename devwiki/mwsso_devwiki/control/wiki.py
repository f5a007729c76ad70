"""Control actions on the wiki itself: users, consumers, OAuth 1.0a tokens, faults, clock, cookies, counters."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..state.config import check_variant, make_consumer, make_user
from .errors import ControlError, user_of

if TYPE_CHECKING:
    from ..state.store import Store


def _reset(store: Store) -> dict[str, Any]:
    store.reset()
    return {}


def _revoke(store: Store, consumer_key: str, user: Any) -> dict[str, Any]:
    access = store.revoke(consumer_key, user_of(store, user))
    if access is None:
        raise ControlError("that user has no access token for that consumer")
    return {"revoked": access.key}


def _issue_token(store: Store, consumer_key: str, user: Any) -> dict[str, Any]:
    """Owner-only style: hand out an access token without a handshake (for API tests)."""
    consumer = store.consumer(consumer_key)
    if consumer is None:
        raise ControlError(f"no such consumer: {consumer_key}")
    access = store.issue_access_token(consumer, user_of(store, user))
    return {"key": access.key, "secret": access.secret}


def _rename(store: Store, sub: Any, new_name: str) -> dict[str, Any]:
    user = user_of(store, int(sub))
    old = user.name
    store.update_user(user, name=new_name)
    return {"sub": user.sub, "old_name": old, "new_name": new_name}


def _block(store: Store, user: Any, blocked: bool = True, reason: str = "") -> dict[str, Any]:
    target = user_of(store, user)
    store.update_user(target, blocked=bool(blocked), block_reason=reason or ("Devwiki test block" if blocked else ""))
    return {"sub": target.sub, "blocked": target.blocked}


def _set_variant(store: Store, **variant: Any) -> dict[str, Any]:
    check_variant(variant)
    store.variant.update(variant)
    return {"variant": dict(store.variant)}


def _set_jwt_fault(store: Store, fault: str | None, count: int | None = None) -> dict[str, Any]:
    store.faults.set_jwt(fault, count)
    return {}


def _set_fault(store: Store, step: str, kind: str | None, **options: Any) -> dict[str, Any]:
    store.faults.set(step, kind, **options)
    return {}


def _set_maxlag(store: Store, lag: float, count: int | None = None) -> dict[str, Any]:
    store.faults.set_maxlag(lag, count)
    return {}


def _add_consumer(store: Store, **spec: Any) -> dict[str, Any]:
    spec.setdefault("key", secrets.token_hex(16))
    spec.setdefault("secret", secrets.token_hex(20))
    spec.setdefault("name", f"Consumer {spec['key'][:8]}")
    consumer = make_consumer(spec)
    store.add_consumer(consumer)
    return {**consumer.public(), "secret": consumer.secret}


def _add_user(store: Store, **spec: Any) -> dict[str, Any]:
    if "name" not in spec:
        raise ControlError("add_user needs a name")
    spec.setdefault("sub", store.next_sub())
    user = make_user(spec, store.now())
    store.add_user(user)
    return user.public(store.now())


def _set_clock(store: Store, offset: float) -> dict[str, Any]:
    """The wiki's clock ``offset`` seconds ahead (negative: behind), as a server with a wrong clock: its Date
    header and its timestamp check; 0 restores it."""
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise ControlError("set_clock needs offset, a number of seconds")
    store.clock_offset = float(offset)
    return {"offset": store.clock_offset}


def _set_cookie(store: Store, cookie: str | None = None) -> dict[str, Any]:
    """Send ``Set-Cookie: <cookie>`` (e.g. ``"cpPosIndex=1; Path=/"``) on every answer; None stops."""
    if cookie is not None and (not isinstance(cookie, str) or "=" not in cookie or any(c in cookie for c in "\r\n")):
        raise ControlError("cookie must be one Set-Cookie value such as 'name=value; Path=/'")
    store.set_cookie = cookie
    return {"cookie": cookie}


def _set_mw_version(store: Store, version: str) -> dict[str, Any]:
    """Play another MediaWiki version (versions.py) until ``reset``."""
    store.set_version(version)
    return {"mw_version": store.mw_version}


def _stats(store: Store) -> dict[str, Any]:
    return store.stats()


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "reset": _reset,
    "revoke": _revoke,
    "issue_token": _issue_token,
    "rename": _rename,
    "block": _block,
    "set_variant": _set_variant,
    "set_jwt_fault": _set_jwt_fault,
    "set_fault": _set_fault,
    "set_maxlag": _set_maxlag,
    "set_clock": _set_clock,
    "add_consumer": _add_consumer,
    "add_user": _add_user,
    "set_cookie": _set_cookie,
    "set_mw_version": _set_mw_version,
    "stats": _stats,
}
