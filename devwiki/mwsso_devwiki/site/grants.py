"""Special:OAuthManageMyGrants: the apps the signed-in user allowed (OAuth 1.0a and 2.0), and revoking one.

As on the real wiki: the list links each app's ``/revoke/<acceptance id>`` page, whose form
(``wpEditToken``, ``wpacceptanceId``, button ``renounce=Deauthorize``) revokes the grant: the app's
access tokens (and OAuth 2.0 refresh tokens) stop working at once. A visitor who is not signed in
is sent to Special:UserLogin first.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..messages import html_escape as esc
from ..state import catalog
from ..web.session import login_url, session_user
from ..web.skin import MANAGE_GRANTS, layout, main_page_link
from ..web.wsgi import PAGE_CACHE, Request, Response, redirect

if TYPE_CHECKING:
    from ..state.models import User
    from ..state.store import Store

TITLE = "Manage connected applications"
INTRO = (
    "This page lists any applications that can use your account. For any such application, the scope of its "
    "access is limited by the permissions that you granted to the application when you authorized it to act "
    "on your behalf."
)


@dataclass(frozen=True)
class ConnectedApp:
    """One acceptance: an OAuth 1.0a consumer or OAuth 2.0 client the user allowed."""

    acceptance_id: int
    key: str  # consumer key or client id
    oauth2: bool
    name: str
    owner: str
    description: str
    labels: tuple[str, ...]


def connected_apps(store: Store, user: User) -> list[ConnectedApp]:
    """What ``user`` allowed and has not revoked, newest acceptance first (as the wiki lists them)."""
    apps = []
    for consumer, _token in store.grants_of(user):
        apps.append(_app(store, user, consumer.key, False, consumer.name, consumer.owner, consumer.description,
                         consumer.grant_names()))  # fmt: skip
    for client, scopes in store.oauth2.consented(user.sub):
        apps.append(_app(store, user, client.client_id, True, client.name, client.owner, client.description, scopes))
    return sorted(apps, key=lambda app: -app.acceptance_id)


def _app(
    store: Store, user: User, key: str, oauth2: bool, name: str, owner: str, description: str, grants: list[str]
) -> ConnectedApp:
    labels = [label for _group, group_labels in catalog.grant_groups(grants) for label in group_labels]
    if any(g in catalog.AUTHONLY_GRANTS for g in grants):
        labels = ["User identity verification only, no ability to read pages or act on a user's behalf."]
    return ConnectedApp(
        store.acceptance_id(key, user.sub), key, oauth2, name, owner, description, ("Basic rights", *labels)
    )


def _token(store: Store, user: User, acceptance_id: int) -> str:
    message = f"renounce|{user.sub}|{acceptance_id}".encode()
    return hmac.new(store.secret.encode(), message, hashlib.sha256).hexdigest()[:32] + "+\\"


def _page(store: Store, body: str) -> Response:
    return Response(layout(TITLE, body + main_page_link(store.server), server=store.server), headers=PAGE_CACHE)


def list_page(store: Store, user: User) -> Response:
    apps = connected_apps(store, user)
    if not apps:
        return _page(store, f'<p>{esc(INTRO)}</p><p id="mw-mwoauth-no-grants">No connected applications.</p>')
    base = f"{store.urls.index}/{MANAGE_GRANTS}"
    rows = "".join(
        f'<li class="mw-mwoauth-grant" data-acceptance-id="{app.acceptance_id}"><b>{esc(app.name)}</b> [1.0] '
        f'(<a href="{esc(base)}/update/{app.acceptance_id}">manage access</a> | '
        f'<a href="{esc(base)}/revoke/{app.acceptance_id}">revoke access</a>) '
        f"Publisher: {esc(app.owner)} Allowed on project: All projects"
        f"<ul>{''.join(f'<li>{esc(label)}</li>' for label in app.labels)}</ul></li>"
        for app in apps
    )
    return _page(store, f'<p>{esc(INTRO)}</p><ul id="mw-mwoauth-grants">{rows}</ul>')


def revoke_page(store: Store, req: Request, user: User, acceptance_id: str) -> Response:
    """GET: the form to revoke one app; POST (``renounce``): revoke it."""
    app = next((a for a in connected_apps(store, user) if str(a.acceptance_id) == acceptance_id), None)
    if app is None:
        return _page(store, '<div class="error"><p>The connected application could not be found.</p></div>')
    token = _token(store, user, app.acceptance_id)
    if req.posted and req.get("renounce") is not None:
        if not hmac.compare_digest(req.get("wpEditToken") or "", token) or req.get("wpacceptanceId") != acceptance_id:
            return _page(store, '<div class="error"><p>There seems to be a problem with your session.</p></div>')
        if app.oauth2:
            store.oauth2.revoke_grant(app.key, user.sub)
        else:
            store.revoke(app.key, user)
        return _page(store, "<p>The application's access to your account has been revoked.</p>")
    action = f"{store.urls.index}/{MANAGE_GRANTS}/revoke/{app.acceptance_id}"
    granted = "".join(f"<li>{esc(label)}</li>" for label in app.labels)
    body = (
        "<p>Use the form below to revoke access for an application to act on your behalf.</p>"
        f'<form id="mw-mwoauth-revoke-form" method="post" action="{esc(action)}"><fieldset>'
        f"<legend>Manage connected application</legend>"
        f"<p>Application name: {esc(app.name)} [1.0]</p><p>Publisher: {esc(app.owner)}</p>"
        f"<p>Application description: {esc(app.description)}</p><p>Allowed on project: All projects</p>"
        f"<p>Applicable grants allowed:</p><ul>{granted}</ul>"
        f'<input type="hidden" name="title" value="{MANAGE_GRANTS}/revoke/{app.acceptance_id}">'
        f'<input type="hidden" name="wpEditToken" value="{esc(token)}">'
        f'<input type="hidden" name="wpacceptanceId" value="{app.acceptance_id}">'
        '<button type="submit" name="renounce" value="Deauthorize" id="mw-mwoauth-renounce" class="progressive">'
        "Deauthorize</button></fieldset></form>"
    )
    return _page(store, body)


def handle(store: Store, req: Request, subpage: str) -> Response:
    """Special:OAuthManageMyGrants[/revoke/<id>] for the signed-in user."""
    user = session_user(store, req)
    if user is None:
        return redirect(login_url(store, f"{MANAGE_GRANTS}/{subpage}".rstrip("/")), headers=PAGE_CACHE)
    action, _, acceptance_id = subpage.partition("/")
    if action in ("revoke", "update") and acceptance_id:
        return revoke_page(store, req, user, acceptance_id.strip())
    return list_page(store, user)
