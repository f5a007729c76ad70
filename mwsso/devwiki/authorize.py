"""Special:OAuth/authorize and /authenticate: the consent dialog, Allow and Cancel.

There is no login page: the person picks who they are on the dialog itself
(``wpUser``). After Allow the devwiki remembers that choice in a cookie, which
stands in for the wiki session; /authenticate uses it to skip the dialog for an
authentication-only consumer the user already allowed, as the real wiki does.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from . import pages
from .messages import Message
from .oauth1 import MWOAuthError
from .stepfaults import fault_response
from .wsgi import Request, Response, redirect

if TYPE_CHECKING:
    from .models import Consumer, User
    from .store import Store

SESSION_COOKIE = "devwikiUser"


def edit_token(store: Store, consumer_key: str, request_token: str) -> str:
    """A CSRF token bound to this dialog, in MediaWiki's ``<hex>+\\`` shape."""
    mac = hmac.new(store.secret.encode(), f"{consumer_key}|{request_token}".encode(), hashlib.sha256).hexdigest()[:32]
    return mac + "+\\"


def append_query(url: str, params: dict[str, str]) -> str:
    """wfAppendQuery: add parameters to the query, keeping a #fragment last."""
    base, hash_, fragment = url.partition("#")
    base += ("&" if "?" in base else "?") + urlencode(params)
    return base + hash_ + fragment


def callback_url(store: Store, consumer: Consumer, callback: str, verifier: str, request_key: str) -> str:
    if callback == "oob":
        callback = consumer.callback
    if callback == "oob":  # a consumer registered without a callback URL
        callback = f"{store.urls.index}?title=Special:OAuth/verified"
    return append_query(callback, {"oauth_verifier": verifier, "oauth_token": request_key})


def handle(store: Store, req: Request, subpage: str) -> Response:
    store.count("authorize")
    page_error = fault_response(
        store,
        "authorize",
        lambda code: Response(pages.error_page(Message(code or "mwoauth-db-readonly"), store.server)),
    )
    if page_error is not None:
        return page_error
    request_key = req.get("requestToken") or req.get("oauth_token") or ""
    consumer_key = req.get("consumerKey") or req.get("oauth_consumer_key") or ""
    try:
        if req.posted and req.get("cancel") is not None:
            consumer = store.consumer(consumer_key)
            if consumer is None:
                raise MWOAuthError("mwoauth-invalid-consumer-key")
            back = site_origin(store.callback_of(request_key))
            user = store.user(req.get("wpUser")) or store.user(req.cookie(SESSION_COOKIE))
            return Response(pages.cancel_page(consumer, store.server, back, user))
        return _dialog(store, req, subpage, request_key, consumer_key)
    except MWOAuthError as err:
        return Response(pages.error_page(err.message(), store.server))


def site_origin(callback: str | None) -> str:
    """Where "go back to" the app leads after Cancel: the root of the site its callback is on."""
    parts = urlsplit(callback or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else ""


def _dialog(store: Store, req: Request, subpage: str, request_key: str, consumer_key: str) -> Response:
    if not consumer_key and request_key:
        consumer_key = store.consumer_key_of(request_key) or ""
    consumer = store.consumer(consumer_key)
    if consumer is None:
        raise MWOAuthError("mwoauthserver-bad-consumer-key")
    if not consumer.approved or consumer.owner_only:
        raise MWOAuthError("mwoauthserver-bad-consumer", consumer.name, consumer.owner)
    session_user = store.user(req.cookie(SESSION_COOKIE))
    chosen = store.user(req.get("wpUser")) or session_user

    def show(error: Message | None = None) -> Response:
        return Response(
            pages.authorize_page(
                consumer=consumer,
                users=store.users(),
                selected=chosen,
                subpage=subpage,
                consumer_key=consumer_key,
                request_token=request_key,
                edit_token=edit_token(store, consumer_key, request_key),
                error=error,
                server=store.server,
                index_url=store.urls.index,
                now=store.now(),
            )
        )

    if (
        subpage == "authenticate"
        and not req.posted
        and session_user is not None
        and consumer.authonly
        and store.has_authorized(consumer, session_user)
    ):
        return _allow(store, consumer, request_key, session_user, show)
    if not req.posted:
        return show()
    if not hmac.compare_digest(req.get("wpEditToken") or "", edit_token(store, consumer_key, request_key)):
        return show(Message("sessionfailure"))
    if chosen is None:
        return show(Message("devwiki-choose-user"))
    return _allow(store, consumer, request_key, chosen, show)


def _allow(store: Store, consumer: Consumer, request_key: str, user: User, show) -> Response:
    try:
        callback, verifier = store.authorize(consumer, request_key, user)
    except MWOAuthError as err:
        return show(err.message())  # the dialog again, with the error above it (recorded 4d)
    url = callback_url(store, consumer, callback, verifier, request_key)
    cookie = f"{SESSION_COOKIE}={user.sub}; Path=/; HttpOnly; SameSite=Lax"
    return redirect(url, headers=[("Set-Cookie", cookie)])
