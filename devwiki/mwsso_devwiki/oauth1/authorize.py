"""Special:OAuth/authorize and /authenticate: the consent dialog, Allow and Cancel.

As on the real wiki (SpecialMWOAuth), a visitor who is not signed in is sent to Special:UserLogin
first (302, ``returnto=Special:OAuth/authorize`` and the query), before the consumer or the request
token is looked at; the dialog then speaks to the signed-in user. /authenticate skips the dialog
for an authentication-only consumer the user already allowed, as the real wiki does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from ..faults.answers import fault_response
from ..messages import Message, MWOAuthError
from ..web.session import login_url, session_user
from ..web.skin import error_page
from ..web.wsgi import PAGE_CACHE, Request, Response, append_query, redirect
from . import pages

if TYPE_CHECKING:
    from ..state.models import Consumer, User
    from ..state.store import Store


def edit_token(store: Store, consumer_key: str, request_token: str) -> str:
    """A CSRF token bound to this dialog, in MediaWiki's ``<hex>+\\`` shape."""
    mac = hmac.new(store.secret.encode(), f"{consumer_key}|{request_token}".encode(), hashlib.sha256).hexdigest()[:32]
    return mac + "+\\"


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
        lambda code: Response(error_page(Message(code or "mwoauth-db-readonly"), store.server)),
    )
    if page_error is not None:
        return page_error
    user = session_user(store, req)
    if user is None:
        target = login_url(store, f"Special:OAuth/{subpage}", _query_without_title(req), store.traits.login_warning)
        return redirect(target, headers=PAGE_CACHE)
    request_key = req.get("requestToken") or req.get("oauth_token") or ""
    consumer_key = req.get("consumerKey") or req.get("oauth_consumer_key") or ""
    try:
        if req.posted and req.get("cancel") is not None:
            consumer = store.consumer(consumer_key)
            if consumer is None:
                raise MWOAuthError("mwoauth-invalid-consumer-key")
            back = site_origin(store.callback_of(request_key))
            return Response(pages.cancel_page(consumer, store.server, back), headers=PAGE_CACHE)
        return _dialog(store, req, subpage, request_key, consumer_key, user)
    except MWOAuthError as err:
        return Response(error_page(err.message(), store.server), headers=PAGE_CACHE)


def _query_without_title(req: Request) -> str:
    """The query as sent, without ``title``: what returntoquery carries back to this page."""
    return "&".join(p for p in req.query_string.split("&") if p and p.partition("=")[0] != "title")


def site_origin(callback: str | None) -> str:
    """Where "go back to" the app leads after Cancel: the root of the site its callback is on."""
    parts = urlsplit(callback or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else ""


def _dialog(store: Store, req: Request, subpage: str, request_key: str, consumer_key: str, user: User) -> Response:
    if not consumer_key and request_key:
        consumer_key = store.consumer_key_of(request_key) or ""
    consumer = store.consumer(consumer_key)
    if consumer is None:
        raise MWOAuthError("mwoauthserver-bad-consumer-key")
    if not consumer.approved or consumer.owner_only:
        raise MWOAuthError("mwoauthserver-bad-consumer", consumer.name, consumer.owner)

    def show(error: Message | None = None) -> Response:
        html = pages.authorize_page(
            consumer=consumer,
            user=user,
            subpage=subpage,
            consumer_key=consumer_key,
            request_token=request_key,
            edit_token=edit_token(store, consumer_key, request_key),
            error=error,
            urls=store.urls,
            display_field=store.traits.consent_display_field,
            switch_user_url=login_url(
                store,
                f"Special:OAuth/{subpage}",
                urlencode({"oauth_token": request_key, "oauth_consumer_key": consumer_key}),
            ),
        )
        return Response(html, headers=PAGE_CACHE)

    if subpage == "authenticate" and not req.posted and consumer.authonly and store.has_authorized(consumer, user):
        return _allow(store, consumer, request_key, user, show)
    if not req.posted:
        return show()
    if not hmac.compare_digest(req.get("wpEditToken") or "", edit_token(store, consumer_key, request_key)):
        return show(Message("sessionfailure"))
    return _allow(store, consumer, request_key, user, show)


def _allow(store: Store, consumer: Consumer, request_key: str, user: User, show: Callable[..., Response]) -> Response:
    try:
        callback, verifier = store.authorize(consumer, request_key, user)
    except MWOAuthError as err:
        return show(err.message())  # the dialog again, with the error above it (recorded 4d)
    return redirect(callback_url(store, consumer, callback, verifier, request_key), headers=PAGE_CACHE)
