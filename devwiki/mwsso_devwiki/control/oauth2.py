"""Control actions on the OAuth 2.0 server: clients, settings, tokens without the browser, revocation."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..oauth2 import grants
from ..state.clients import make_client
from .errors import ControlError, user_of

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.store import Store


def _client(store: Store, client_id: str) -> Client:
    client = store.oauth2.client(client_id)
    if client is None:
        raise ControlError(f"no such OAuth 2.0 client: {client_id}")
    return client


def _add_client(store: Store, **spec: Any) -> dict[str, Any]:
    if "redirect_uri" not in spec:
        raise ControlError("an OAuth 2.0 client needs a redirect_uri")
    spec.setdefault("client_id", secrets.token_hex(16))
    spec.setdefault("secret", secrets.token_hex(20))
    spec.setdefault("name", f"OAuth 2.0 client {spec['client_id'][:8]}")
    client = make_client(spec)
    store.oauth2.add_client(client)
    return {**client.public(), "secret": client.secret}


def _set_redirect_uri(store: Store, client_id: str, redirect_uri: str) -> dict[str, Any]:
    return store.oauth2.set_redirect_uri(client_id, redirect_uri).public()


def _configure(store: Store, **settings: Any) -> dict[str, Any]:
    store.oauth2.settings.update(**settings)
    return {"settings": store.oauth2.settings.describe(store.traits)}


def _set_lifetimes(
    store: Store, access_token: int | None = None, refresh_token: int | None = None, code: int | None = None
) -> dict[str, Any]:
    values = {"access_token_ttl": access_token, "refresh_token_ttl": refresh_token, "code_ttl": code}
    return _configure(store, **{k: v for k, v in values.items() if v is not None})


def _issue(store: Store, client_id: str, user: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    return grants.issue_tokens(store, _client(store, client_id), user_of(store, user).sub, scopes)


def _revoke(store: Store, client_id: str, user: Any) -> dict[str, Any]:
    return {"revoked": store.oauth2.revoke_grant(_client(store, client_id).client_id, user_of(store, user).sub)}


def _tokens(store: Store, access_token: str | None, refresh_token: str | None) -> list[Any]:
    found = store.oauth2.find(grants.jti_of(store, access_token), refresh_token)
    if not found:
        raise ControlError("no such OAuth 2.0 token")
    return found


def _revoke_token(store: Store, access_token: str | None = None, refresh_token: str | None = None) -> dict[str, Any]:
    """Revoke one access token (JWT or jti) and/or one refresh token."""
    with store.oauth2.lock:
        found = _tokens(store, access_token, refresh_token)
        for record in found:
            record.revoked = True
    return {"revoked": len(found)}


def _expire(store: Store, access_token: str | None = None, refresh_token: str | None = None) -> dict[str, Any]:
    """Make tokens expire now (an access token then gets "could not be verified")."""
    with store.oauth2.lock:
        found = _tokens(store, access_token, refresh_token)
        for record in found:
            record.expires = store.now() - 1
    return {"expired": len(found)}


def _counts(store: Store) -> dict[str, Any]:
    counters = store.stats()["counters"]
    names = ("token_requests", "refresh", "refresh_ok", "authorize", "approve", "profile", "api_bearer")
    return {"counts": {name: counters.get(f"oauth2_{name}", 0) for name in names}}


def _public_key(store: Store) -> dict[str, Any]:
    return {"public_key": store.oauth2.public_key_pem()}


def _stats(store: Store) -> dict[str, Any]:
    return {"settings": store.oauth2.settings.describe(store.traits), **store.oauth2.describe()}


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "oauth2_add_client": _add_client,
    "oauth2_set_redirect_uri": _set_redirect_uri,
    "oauth2_configure": _configure,
    "oauth2_set_lifetimes": _set_lifetimes,
    "oauth2_issue_token": _issue,
    "oauth2_revoke": _revoke,
    "oauth2_revoke_token": _revoke_token,
    "oauth2_expire": _expire,
    "oauth2_counts": _counts,
    "oauth2_public_key": _public_key,
    "oauth2_stats": _stats,
}
