"""Special:UserLogin and Special:UserLogout: signing a browser in on the local wiki, and out.

Where a real wiki asks for a password, the local wiki offers its users to pick from (its own
addition: radio inputs ``wpUser``, ids ``wpUser-<central id>``); everything around it is the
real one's: anonymous OAuth visitors are sent here with ``returnto``/``returntoquery`` first, a
session cookie then names the user, and the browser goes back to ``returnto``. Clients without a
browser sign in with api.php's ``action=clientlogin`` and a password instead (api/login.py).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ..messages import html_escape as esc
from ..web.hosts import is_same_origin
from ..web.session import return_url, session_user, sign_in_cookie, sign_out_cookie
from ..web.skin import layout, main_page_link
from ..web.wsgi import Request, Response, redirect

if TYPE_CHECKING:
    from ..state.models import User
    from ..state.store import Store

# Shown above the form when an OAuth page sent the visitor here (the wiki's messages say much the same).
WARNINGS = {
    "mwoauth-login-required-reason": "You need to log in to connect an application to your account.",
    "mwoauth-named-account-required-reason": "You need to log in with a named account to connect an application.",
}


def login_token(store: Store) -> str:
    """The login form's CSRF token, in MediaWiki's ``<hex>+\\`` shape."""
    return hmac.new(store.secret.encode(), b"login", hashlib.sha256).hexdigest()[:32] + "+\\"


def user_picker(users: list[User], selected: User | None, now: float) -> str:
    """The local wiki's "Log in as" list (no passwords): one radio per user, with a short note."""
    radios = []
    for user in users:
        note = user.note(now)
        checked = " checked" if selected and user.sub == selected.sub else ""
        radios.append(
            f'<label for="wpUser-{user.sub}"><input type="radio" name="wpUser" value="{user.sub}" '
            f'id="wpUser-{user.sub}" data-username="{esc(user.name)}"{checked}> {esc(user.name)}'
            + (f' <span class="note">({esc(note)})</span>' if note else "")
            + "</label>"
        )
    return f'<fieldset class="users"><legend>Log in as</legend>{"".join(radios)}</fieldset>'


def login_page(store: Store, req: Request, error: str = "") -> Response:
    signed_in = session_user(store, req)
    returnto, returntoquery = req.get("returnto") or "", req.get("returntoquery") or ""
    action = f"{store.urls.index}?" + urlencode(
        {"title": "Special:UserLogin", "returnto": returnto, "returntoquery": returntoquery}
    )
    notes = []
    warning = WARNINGS.get(req.get("warning") or "")
    if warning:
        notes.append(f'<div class="warningbox">{esc(warning)}</div>')
    if signed_in is not None:
        notes.append(f"<p>You are logged in as <b>{esc(signed_in.name)}</b>. Pick someone else to switch.</p>")
    if error:
        notes.append(f'<div class="error"><p>{esc(error)}</p></div>')
    body = (
        f"{''.join(notes)}"
        f'<form id="userloginForm" method="post" action="{esc(action)}">'
        f"{user_picker(store.users(), signed_in, store.now())}"
        f'<input type="hidden" name="wpLoginToken" value="{esc(login_token(store))}">'
        f'<div class="buttons"><button type="submit" id="wpLoginAttempt" name="wploginattempt" value="Log in" '
        f'class="progressive">Log in</button></div></form>'
        '<p class="note">The local wiki has no passwords here: pick a user. (Clients without a browser use '
        "api.php's action=clientlogin with a password.)</p>"
    )
    return Response(
        layout("Log in", body, server=store.server), headers=[("Cache-Control", "private, must-revalidate, max-age=0")]
    )


def handle_login(store: Store, req: Request) -> Response:
    """GET: the form; POST: sign the picked user in and go back to ``returnto``."""
    if not req.posted:
        return login_page(store, req)
    origin = req.headers.get("origin")
    if origin is not None and not is_same_origin(origin, req.headers.get("host", ""), store.server):
        return login_page(store, req, "Log in from the wiki's own page.")
    if not hmac.compare_digest(req.get("wpLoginToken") or "", login_token(store)):
        return login_page(store, req, "There seems to be a problem with your login session; try again.")
    user = store.user(req.get("wpUser"))
    if user is None:
        return login_page(store, req, "Choose the account you want to log in with.")
    target = return_url(store, req.get("returnto") or "", req.get("returntoquery") or "")
    return redirect(target, headers=[("Set-Cookie", sign_in_cookie(store, user))])


def handle_logout(store: Store, req: Request) -> Response:
    """GET: a button (logging out takes a POST, as on MediaWiki 1.39+); POST: end the session."""
    if req.posted:
        body = "<p>You are now logged out.</p>" + main_page_link(store.server)
        return Response(layout("Log out", body, server=store.server), headers=[("Set-Cookie", sign_out_cookie())])
    action = f"{store.urls.index}?title=Special:UserLogout"
    body = (
        f'<form id="userlogoutForm" method="post" action="{esc(action)}"><div class="buttons">'
        '<button type="submit" id="wpLogout" class="progressive">Log out</button></div></form>'
    )
    return Response(layout("Log out", body, server=store.server))
