"""The OAuth 1.0a pages: the authorization dialog, the cancel page and the verifier page.

Field names and ids are the real form's, so that a browser test written against the local wiki
also reads a real one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..messages import Message
from ..messages import html_escape as esc
from ..state import catalog
from ..web.consent import consent_form, consent_hidden_fields
from ..web.skin import MANAGE_GRANTS, layout, main_page_link, manage_grants_url

if TYPE_CHECKING:
    from ..state.models import Consumer, User
    from ..wikiurls import WikiURLs

SUBTITLE = "Allows usage of OAuth 1.0a for API authorization"


def cancel_page(consumer: Consumer, server: str, back_url: str = "") -> str:
    """After Cancel: the message's text as the wiki prints it, with its two links working.

    "manage your connected apps" links to Special:OAuthManageMyGrants; "go back to" links to the site the
    person came from (the origin of the callback it started with), when there is one.
    """
    body = Message("mwoauth-acceptance-cancelled", consumer.name).html()
    # class devwiki-link: the real wiki (as recorded) prints both phrases as plain text; the links are ours.
    manage = (
        f'<a class="devwiki-link" href="{esc(manage_grants_url(server))}" title="{MANAGE_GRANTS}">'
        "manage your connected apps</a>"
    )
    body = body.replace("manage your connected apps", manage)
    if back_url:
        name = f'"{esc(consumer.name)}"'
        head, sep, tail = body.rpartition(f"go back to {name}")
        if sep:
            link = f'go back to "<a class="devwiki-link" href="{esc(back_url)}">{esc(consumer.name)}</a>"'
            body = head + link + tail
    return layout("OAuth", body + main_page_link(server), SUBTITLE, server)


def verified_page(verifier: str, server: str) -> str:
    body = Message("mwoauth-verified", verifier).html()
    return layout("OAuth", body, SUBTITLE, server)


def _description(consumer: Consumer, greeting: str) -> str:
    name = f"<b>{esc(consumer.name)}</b>"
    hello = f"<p>Hi {esc(greeting)},</p>"
    groups = catalog.grant_groups(consumer.grant_names())
    if groups:
        items = "".join(
            f"<li>{esc(group)}<ul>{''.join(f'<li>{esc(g)}</li>' for g in labels)}</ul></li>" for group, labels in groups
        )
        return (
            f"{hello}<p>In order to complete your request, {name} needs permission to "
            f"perform the following actions on your behalf on all projects of this site:"
            f'</p><ul class="grants">{items}</ul>'
        )
    private = any(g in catalog.PRIVATE_INFO_GRANTS for g in consumer.grants)
    extra = ", including your real name and email address" if private else ""
    return (
        f"{hello}<p>In order to complete your request, {name} needs permission to access "
        f"information on all projects of this site on your behalf{extra}. No changes will "
        f"be made with your account.</p>"
    )


def authorize_page(
    *,
    consumer: Consumer,
    user: User,
    subpage: str,
    consumer_key: str,
    request_token: str,
    edit_token: str,
    error: Message | None,
    urls: WikiURLs,
    display_field: bool,
    switch_user_url: str,
) -> str:
    """The authorization dialog; field names and ids are the real form's, and it posts to ``index.php/Special:OAuth/…``."""
    title = f"Special:OAuth/{subpage}"
    hidden = consent_hidden_fields(title, edit_token, display_field)
    hidden.update({"oauth_version": "1", "consumerKey": consumer_key, "requestToken": request_token})
    body = consent_form(
        action=f"{urls.index}/{title}",
        user=user,
        description=_description(consumer, user.name),
        hidden=hidden,
        error=error,
        switch_user_url=switch_user_url,
        server=urls.server,
    )
    return layout("OAuth", body, SUBTITLE, urls.server)
