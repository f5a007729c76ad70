"""The devwiki WSGI application: routes /w/index.php, /w/api.php, /wiki/* and the control endpoint."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import actionapi, pages, special
from .control import ControlError
from .oauth2 import routes as oauth2_routes
from .wikipages import normalize_title
from .wsgi import REASONS, DropConnection, Request, Response, json_response, redirect

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("mwsso.devwiki")

CONTROL_PATH = "/_devwiki/control"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def oauth_subpage(title: str | None) -> str | None:
    """The subpage of Special:OAuth named by ``title`` (alias case-insensitive), else None."""
    if not title:
        return None
    namespace, colon, rest = title.replace("_", " ").strip().partition(":")
    if not colon or namespace.strip().lower() != "special":
        return None
    name, _, subpage = rest.partition("/")
    return subpage.strip() if name.strip().lower() == "oauth" else None


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit(f"//{netloc}").hostname
    except ValueError:
        return None


def is_own_host(host: str, server: str) -> bool:
    """Whether a request's ``Host`` names this wiki: any loopback name (127.0.0.0/8, [::1], localhost) or $wgServer's host.

    Loopback aliases stay accepted although they are not $wgServer (a request
    signed for one fails the signature check, as on a real wiki). Any other
    name is what a DNS-rebinding page sends: a browser page must not read answers.
    """
    name = _hostname(host)
    if not name:
        return False
    name = name.rstrip(".").lower()
    if name == "localhost" or name == (_hostname(urlsplit(server).netloc) or "").lower():
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_same_origin(origin: str, host: str, server: str) -> bool:
    """Whether a browser's ``Origin`` is this wiki itself (as the request's Host names it, or $wgServer)."""
    wanted = {f"http://{host}".lower(), server.rstrip("/").lower()}
    return origin.strip().rstrip("/").lower() in wanted


def _control(store: Store, req: Request) -> Response:
    if not req.posted:
        return json_response({"ok": False, "error": "POST a JSON object"}, status=405)
    # A page in the developer's browser may POST here: a foreign Origin is refused, and only
    # application/json is read (a cross-site page cannot send that without a preflight the devwiki never allows).
    origin = req.headers.get("origin")
    if origin is not None and not is_same_origin(origin, req.headers.get("host", ""), store.server):
        log.warning("devwiki: control request from foreign origin %r refused", origin[:200])
        return json_response({"ok": False, "error": "cross-origin control requests are refused"}, status=403)
    if req.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return json_response({"ok": False, "error": "send Content-Type: application/json"}, status=415)
    try:
        payload = json.loads(req.body or b"{}")
        if not isinstance(payload, dict):
            raise ControlError("the body must be a JSON object")
        action = payload.pop("action", None)
        return json_response(store.control(str(action), **payload))
    except (ValueError, ControlError) as err:
        return json_response({"ok": False, "error": str(err)}, status=400)


def _article(store: Store, title: str) -> Response:
    name = normalize_title(title) or "Main Page"
    page = store.pages.get(name)
    if page is None:
        return Response(pages.missing_page(name, store.server), status=404)
    html = pages.article_page(page, store.server)
    if name == "Main Page":
        home = pages.home_body(store.server, store.consumers(), store.oauth2.clients())
        html = html.replace("</main>", home + "</main>")
    return Response(html)


def route(store: Store, req: Request) -> Response:
    path = req.path
    if path == "/w/api.php":
        return actionapi.handle(store, req)
    if path == CONTROL_PATH:
        return _control(store, req)
    if oauth2_routes.is_rest_path(store, path):
        return oauth2_routes.route(store, req)
    if path in ("/w/index.php", "/index.php") or path.startswith("/w/index.php/"):
        title = req.get("title") or path.partition("/index.php/")[2] or "Main Page"
    elif path.startswith("/wiki/"):
        title = path[len("/wiki/") :] or "Main Page"
    elif path in ("/", "/w", "/w/", "/wiki"):
        return redirect(f"{store.server}/wiki/Main_Page")
    else:
        return Response(
            pages.layout("Not Found", "<p>No such path on the devwiki.</p>", server=store.server), status=404
        )
    subpage = oauth_subpage(title)
    if subpage is not None:
        return special.handle(store, req, subpage)
    return _article(store, title)


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
