"""api.php's ``action=clientlogin``: how a client without a browser signs in (with a password) and gets a session.

As on MediaWiki: ``meta=tokens&type=login`` gives the login token; a POST with ``username``,
``password``, ``logintoken`` and ``loginreturnurl`` answers ``{"clientlogin": {"status": "PASS",
"username": …}}`` with the session cookie, or ``"FAIL"`` with the wiki's message. Every user's
password is ``devwiki`` unless the config gives it another (the login page needs none).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from ..site.login import login_token
from ..web.session import sign_in_cookie
from .base import ApiError, Session

if TYPE_CHECKING:
    from ..state.store import Store
    from ..web.wsgi import Request

WRONG_PASSWORD = "Incorrect username or password entered.\nPlease try again."


def clientlogin(store: Store, req: Request, params: dict[str, str], session: Session, fv2: bool) -> dict[str, Any]:
    for name in ("username", "password"):
        if not params.get(name):
            return {"clientlogin": {"status": "FAIL", "message": WRONG_PASSWORD, "messagecode": "wrongpassword"}}
    if not params.get("loginreturnurl") and not params.get("logincontinue"):
        raise ApiError(
            "missingparam", 'At least one of the parameters "logincontinue" and "loginreturnurl" is required.'
        )
    if not hmac.compare_digest(params.get("logintoken") or "", login_token(store)):
        raise ApiError("badtoken", "Invalid CSRF token.")
    user = store.user(params["username"])
    if user is None or not hmac.compare_digest(params["password"].encode(), user.password.encode()):
        return {"clientlogin": {"status": "FAIL", "message": WRONG_PASSWORD, "messagecode": "wrongpassword"}}
    session.set_cookies.append(sign_in_cookie(store, user))
    return {"clientlogin": {"status": "PASS", "username": user.name}}
