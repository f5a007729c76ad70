"""HTML of the OAuth 2.0 side: the consent form (Special:OAuth/approve) and the error page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import catalog
from ..messages import Message
from ..messages import html_escape as esc
from ..pages import SUBTITLE, layout, main_page_link

if TYPE_CHECKING:
    from ..models import User
    from .models import Client


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
    users: list[User],
    selected: User | None,
    hidden: dict[str, str],
    action: str,
    error: Message | None,
    server: str,
    now: float,
) -> str:
    """The consent form: the same ``mw-mwoauth-authorize-form`` as OAuth 1.0a's, with OAuth 2.0's fields.

    The "Log in as" picker stands in for the wiki's login, as on the OAuth 1.0a dialog.
    """
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
    hidden_html = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in hidden.items())
    error_html = f'<div class="error">{error.html()}</div>' if error else ""
    body = (
        f'<form id="mw-mwoauth-authorize-form" method="post" action="{esc(action)}">'
        f'<div id="mw-mwoauth-authorize-dialog">{_description(client, scopes, selected.name if selected else "there")}'
        f'</div>{error_html}<fieldset class="users"><legend>Log in as</legend>{"".join(radios)}</fieldset>'
        f'{hidden_html}<div class="buttons"><button type="submit" name="accept" value="Allow" '
        f'id="mw-mwoauth-accept" class="progressive">Allow</button><button type="submit" name="cancel" '
        f'value="Cancel" id="mw-mwoauth-cancel">Cancel</button></div></form>'
        f'<footer><a href="{esc(server)}/wiki/Project:Privacy_policy">Privacy policy</a></footer>'
    )
    return layout("OAuth", body, SUBTITLE, server)
