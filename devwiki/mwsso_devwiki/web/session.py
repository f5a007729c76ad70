"""Who is signed in on the local wiki: a session cookie, as a browser carries a real wiki's.

The cookie names the user's central id and is signed with the wiki's secret, so that a page or
a client cannot make itself someone else by editing it; it survives a restart when the secret
does (a state file keeps both).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from ..state.models import User
    from ..state.store import Store
    from .wsgi import Request

SESSION_COOKIE = "devwikiSession"


def _mac(store: Store, sub: int) -> str:
    return hmac.new(store.secret.encode(), f"session|{sub}".encode(), hashlib.sha256).hexdigest()[:32]


def session_user(store: Store, req: Request) -> User | None:
    """The user this request's session cookie names, or None (anonymous, tampered, or a user gone)."""
    value = req.cookie(SESSION_COOKIE) or ""
    sub, _, mac = value.partition(".")
    if not sub.isdigit() or not hmac.compare_digest(mac, _mac(store, int(sub))):
        return None
    return store.user(int(sub))


def sign_in_cookie(store: Store, user: User) -> str:
    """The ``Set-Cookie`` value that signs ``user`` in."""
    return f"{SESSION_COOKIE}={user.sub}.{_mac(store, user.sub)}; Path=/; HttpOnly; SameSite=Lax"


def sign_out_cookie() -> str:
    """The ``Set-Cookie`` value that ends the session."""
    return f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"


def login_url(store: Store, returnto: str, returntoquery: str = "", warning: str | None = None) -> str:
    """Special:UserLogin, to come back to page ``returnto`` with ``returntoquery`` (SpecialPage::requireLogin)."""
    params = {"returnto": returnto, "returntoquery": returntoquery}
    if warning:
        params["warning"] = warning
    return f"{store.urls.index}?title=Special:UserLogin&{urlencode(params)}"


def return_url(store: Store, returnto: str, returntoquery: str) -> str:
    """Where a login sends the browser back to: page ``returnto`` (a title) with ``returntoquery``."""
    title = quote((returnto or "Main Page").replace(" ", "_"), safe=":/")
    return f"{store.urls.index}?title={title}" + (f"&{returntoquery}" if returntoquery else "")
