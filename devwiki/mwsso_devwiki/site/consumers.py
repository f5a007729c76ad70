"""Special:OAuthListConsumers/view/<consumer key>: the public page that shows a consumer's registration.

Mirrors src/Frontend/SpecialPages/SpecialMWOAuthListConsumers.php (showConsumerInfo): anyone,
logged in or not, sees a consumer's status, callback, "callback is a prefix" and grants. With
``uselang=qqx`` MediaWiki prints every interface message as its key in brackets
(``(mwoauthlistconsumers-status-approved)``, ``(grant-editpage)``), which is how a client can
read the page without depending on its wording; the devwiki does the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..messages import html_escape as esc
from ..state import catalog
from ..web.skin import layout

if TYPE_CHECKING:
    from ..state.store import Store

_ENGLISH = {
    "mwoauthlistconsumers-name": "Application name",
    "mwoauth-oauth-version": "OAuth protocol version",
    "mwoauthlistconsumers-user": "Publisher",
    "mwoauthlistconsumers-status": "Status",
    "mwoauthlistconsumers-description": "Description",
    "mwoauthlistconsumers-callbackurl": 'OAuth "callback URL"',
    "mwoauthlistconsumers-callbackisprefix": "Callback URL is a prefix",
    "mwoauthlistconsumers-grants": "Applicable grants",
    "mwoauthlistconsumers-status-approved": "approved",
    "mwoauthlistconsumers-status-proposed": "proposed",
    "mwoauthlistconsumers-basicgrantsonly": "(basic access only)",
    "mwoauth-invalid-consumer-key": "No consumer exists with the given key.",
    "mwoauth-oauth-version-1": "OAuth 1.0a",
    "mwoauth-oauth-version-2": "OAuth 2.0",
    "mwoauthlistconsumers-wiki": "Applicable project",
    "mwoauth-consumer-allwikis": "All projects on this site",
    "htmlform-yes": "Yes",
    "htmlform-no": "No",
}


def _message(key: str, qqx: bool) -> str:
    return f"({key})" if qqx else _ENGLISH.get(key, key)


def _grants_text(grants: list[str], qqx: bool) -> str:
    if grants in (["mwoauth-authonly"], ["mwoauth-authonlyprivate"]):
        return esc(_message(f"grant-{grants[0]}", qqx) if qqx else catalog.GRANTS[grants[0]][1])
    visible = [g for g in grants if g not in catalog.HIDDEN_GRANTS]
    if not visible:
        return esc(_message("mwoauthlistconsumers-basicgrantsonly", qqx))
    items = []
    for grant in visible:
        group, label = catalog.GRANTS.get(grant, ("other", grant))
        group_text = f"(grant-group-{group})" if qqx else catalog.GRANT_GROUP_LABELS.get(group, group)
        items.append(f"<li>{esc(group_text)}: {esc(f'(grant-{grant})' if qqx else label)}</li>")
    return f"<ul>{''.join(items)}</ul>"


def view_page(store: Store, consumer_key: str, qqx: bool) -> str:
    """The consumer's info table (or the unknown-key message), as showConsumerInfo prints it."""
    title = _message("oauthlistconsumers", qqx) if qqx else "Connected applications"
    consumer = store.consumer(consumer_key)
    client = None if consumer is not None else store.oauth2.client(consumer_key)
    if consumer is not None:
        fields = (
            consumer.name,
            "1",
            consumer.owner,
            consumer.approved,
            consumer.description,
            consumer.callback,
            consumer.callback_is_prefix,
            list(consumer.grants),
        )
    elif client is not None:
        # OAuth 2.0 clients are listed by the same page; their redirect URI is exact (never a prefix).
        fields = (
            client.name,
            "2",
            "Admin Sysop",
            client.approved,
            client.description,
            client.redirect_uri,
            False,
            list(client.grants),
        )
    else:
        return layout(title, f"<p>{esc(_message('mwoauth-invalid-consumer-key', qqx))}</p>", server=store.server)
    name, version, owner, approved, description, callback, prefix, grants = fields
    stage = "approved" if approved else "proposed"
    rows = [
        ("mwoauthlistconsumers-name", esc(name)),
        ("mwoauth-oauth-version", esc(_message(f"mwoauth-oauth-version-{version}", qqx))),
        ("mwoauthlistconsumers-user", esc(owner)),
        ("mwoauthlistconsumers-status", esc(_message(f"mwoauthlistconsumers-status-{stage}", qqx))),
        ("mwoauthlistconsumers-description", esc(description)),
        ("mwoauthlistconsumers-wiki", esc(_message("mwoauth-consumer-allwikis", qqx))),
        ("mwoauthlistconsumers-callbackurl", esc(callback)),
        ("mwoauthlistconsumers-callbackisprefix", esc(_message("htmlform-yes" if prefix else "htmlform-no", qqx))),
        ("mwoauthlistconsumers-grants", _grants_text(grants, qqx)),
    ]
    table = "".join(f"<tr><th>{esc(_message(label, qqx))}</th><td>{value}</td></tr>" for label, value in rows)
    return layout(title, f'<table class="mw-mwoauth-consumer-info">{table}</table>', server=store.server)
