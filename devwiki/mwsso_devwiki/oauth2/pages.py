"""HTML of the OAuth 2.0 side: the consent form (Special:OAuth/approve) and the error page.

The consent page does not carry the OAuth 1.0a pages' subtitle: it is not OAuth 1.0a.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..messages import Message
from ..messages import html_escape as esc
from ..state import catalog
from ..web.consent import consent_form
from ..web.skin import layout, main_page_link

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.models import User


def error_page(text: str, server: str) -> str:
    """OutputPage::showErrorPage('mwoauth-error', ...) as rest.php/oauth2/authorize shows it."""
    return layout("Application Connection Error", f"<p>{esc(text)}</p>" + main_page_link(server), server=server)


def _description(client: Client, scopes: list[str], greeting: str) -> str:
    hello = f"<p>Hi {esc(greeting)},</p>"
    name = f"<b>{esc(client.name)}</b>"
    groups = catalog.grant_groups(scopes)
    if not groups:
        return (
            f"{hello}<p>In order to complete your request, {name} needs permission to access information "
            f"on all projects of this site on your behalf. No changes will be made with your account.</p>"
        )
    items = "".join(
        f"<li>{esc(group)}<ul>{''.join(f'<li>{esc(g)}</li>' for g in labels)}</ul></li>" for group, labels in groups
    )
    return (
        f"{hello}<p>In order to complete your request, {name} needs permission to perform the following "
        f'actions on your behalf on all projects of this site:</p><ul class="grants">{items}</ul>'
    )


def approve_page(
    *,
    client: Client,
    scopes: list[str],
    user: User,
    hidden: dict[str, str],
    action: str,
    error: Message | None,
    server: str,
    switch_user_url: str,
) -> str:
    """The consent form: the same ``mw-mwoauth-authorize-form`` as OAuth 1.0a's, with OAuth 2.0's fields."""
    body = consent_form(
        action=action,
        user=user,
        description=_description(client, scopes, user.name),
        hidden=hidden,
        error=error,
        switch_user_url=switch_user_url,
        server=server,
    )
    return layout("OAuth", body, server=server)
