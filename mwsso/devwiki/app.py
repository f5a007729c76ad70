"""The devwiki WSGI application: routes /w/index.php, /w/api.php, /wiki/* and the control endpoint."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import actionapi, listconsumers, pages, special
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


def list_consumers_key(title: str | None) -> str | None:
    """The consumer key of ``Special:OAuthListConsumers/view/<key>``, else None."""
    namespace, colon, rest = (title or "").replace("_", " ").strip().partition(":")
    name, _, subpage = rest.partition("/")
    if not colon or namespace.strip().lower() != "special" or name.strip().lower() != "oauthlistconsumers":
        return None
    kind, _, key = subpage.partition("/")
    return key.strip() if kind == "view" else None


def _control(store: Store, req: Request) -> Response:
    if not req.posted:
        return json_response({"ok": False, "error": "POST a JSON object"}, status=405)
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
    consumer_key = list_consumers_key(title)
    if consumer_key is not None:
        return Response(listconsumers.view_page(store, consumer_key, qqx=req.get("uselang") == "qqx"))
    subpage = oauth_subpage(title)
    if subpage is not None:
        return special.handle(store, req, subpage)
    return _article(store, title)


def make_app(store: Store) -> WSGIApp:
    """A WSGI callable serving ``store``; DropConnection escapes on purpose (fault "drop")."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        try:
            response = route(store, req)
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
