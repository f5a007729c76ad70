"""The local wiki's WSGI application: routes index.php, api.php and rest.php (under the script path), /wiki/* and the control endpoint.

Entry points exist only under the configured script path (``$wgScriptPath``, ``/w`` by default,
``""`` for a wiki at the server root), as files do on a real install: ``/w/api.php`` on a root
wiki is a 404. Repeated slashes reach the same file (web servers map ``//api.php`` to
``api.php``), but the OAuth signature is checked against the path the client sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .api import main as api
from .control import endpoint as control
from .oauth1 import special as oauth1
from .oauth2 import authorize as oauth2_authorize
from .oauth2 import routes as oauth2
from .site import articles, consumers, grants, login
from .web.hosts import is_own_host
from .web.skin import layout
from .web.wsgi import REASONS, DropConnection, Request, Response, redirect
from .wikiurls import entry_point

if TYPE_CHECKING:
    from .state.store import Store

log = logging.getLogger("mwsso_devwiki")

CONTROL_PATH = control.CONTROL_PATH
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def special_page(title: str | None) -> tuple[str, str] | None:
    """``("oauth", "authorize")`` for ``Special:OAuth/authorize`` (any case of the name, "_" or " "), else None."""
    namespace, colon, rest = (title or "").replace("_", " ").strip().partition(":")
    if not colon or namespace.strip().lower() != "special":
        return None
    name, _, subpage = rest.partition("/")
    return name.strip().lower(), subpage.strip()


def _special(store: Store, req: Request, name: str, subpage: str) -> Response | None:
    """The special pages the local wiki has; None for one it does not (shown as a missing page)."""
    if name == "oauth":
        if subpage == "approve":  # OAuth 2.0's consent form
            return oauth2_authorize.handle_approve(store, req)
        if subpage == "rest redirect":  # back to rest.php/oauth2/authorize after the login
            return oauth2_authorize.handle_rest_redirect(store, req)
        return oauth1.handle(store, req, subpage)
    if name == "oauthlistconsumers":
        kind, _, key = subpage.partition("/")
        if kind == "view":
            return Response(consumers.view_page(store, key.strip(), qqx=req.get("uselang") == "qqx"))
    if name == "oauthmanagemygrants":
        return grants.handle(store, req, subpage)
    if name == "userlogin":
        return login.handle_login(store, req)
    if name == "userlogout":
        return login.handle_logout(store, req)
    return None


def route(store: Store, req: Request) -> Response:
    path = req.path
    if path == CONTROL_PATH:
        return control.handle(store, req)
    entry = entry_point(store.script_path, path)
    if entry is not None and entry[0] == "rest.php" and entry[1].startswith("/"):
        return oauth2.route(store, req, entry[1])
    if entry is not None and entry[0] == "api.php" and not entry[1]:
        return api.handle(store, req)
    if entry is not None and entry[0] == "index.php":
        title = req.get("title") or entry[1].lstrip("/") or "Main Page"
    elif path.startswith("/wiki/"):
        title = path[len("/wiki/") :] or "Main Page"
    elif path in ("/", "/wiki", store.script_path, f"{store.script_path}/"):
        return redirect(f"{store.server}/wiki/Main_Page")
    else:
        return Response(layout("Not Found", "<p>No such path on the devwiki.</p>", server=store.server), status=404)
    special = special_page(title)
    if special is not None:
        answer = _special(store, req, *special)
        if answer is not None:
            return answer
    oldid = req.get("oldid")
    if oldid:
        return articles.old_revision(store, oldid)
    return articles.article(store, title)


def make_app(store: Store) -> WSGIApp:
    """A WSGI callable serving ``store``; DropConnection escapes on purpose (fault "drop")."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        host = req.headers.get("host")
        try:
            if host is not None and not is_own_host(host, store.server):
                log.warning("devwiki: request for foreign host %r refused", host[:200])
                response = Response(
                    f"This is the local wiki at {store.server}; it does not answer for another host name.",
                    status=421,
                    content_type="text/plain; charset=UTF-8",
                )
            else:
                cookie = req.headers.get("cookie")
                if cookie:
                    store.record_cookie(cookie, req.headers.get("user-agent", ""))
                response = route(store, req)
                if store.set_cookie:
                    response.add_header("Set-Cookie", store.set_cookie)
        except DropConnection:
            raise
        except Exception:
            # log the path only: query strings carry verifiers and token keys
            log.exception("devwiki failed on %s %s", req.method, req.path)
            response = Response("<!DOCTYPE html><title>Internal error</title><p>devwiki internal error</p>", status=500)
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {REASONS.get(response.status, 'Error')}", headers)
        return [response.body]

    return app
