"""The consent form OAuth 1.0a's Special:OAuth/authorize and OAuth 2.0's Special:OAuth/approve share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..messages import Message
from ..messages import html_escape as esc

if TYPE_CHECKING:
    from ..state.models import User


def consent_hidden_fields(title: str, edit_token: str, display_field: bool) -> dict[str, str]:
    """The hidden fields both consent forms (OAuth 1.0a and 2.0) start with, in the recorded order."""
    fields = {"title": title, "wpEditToken": edit_token}
    if display_field:
        fields["display"] = ""
    fields.update({"wpaction": "accept", "wpconfirmUpdate": "1"})
    return fields


def consent_form(
    *,
    action: str,
    user: User,
    description: str,
    hidden: dict[str, str],
    error: Message | None,
    switch_user_url: str,
    server: str,
) -> str:
    """The consent form both protocols share (``mw-mwoauth-authorize-form``), for the signed-in ``user``.

    Laid out like HTMLForm does it (header text, errors, fields, buttons). The "Not you?" link
    (class devwiki-link) is the local wiki's own: its login page is where another user is picked.
    """
    error_html = f'<div class="error">{error.html()}</div>' if error else ""
    hidden_html = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in hidden.items())
    switch = (
        f'<p class="devwiki-switch-user">Not {esc(user.name)}? <a class="devwiki-link" href="{esc(switch_user_url)}">'
        "Log in as someone else</a>.</p>"
    )
    return (
        f'<form id="mw-mwoauth-authorize-form" method="post" action="{esc(action)}" data-username="{esc(user.name)}" '
        f'data-sub="{user.sub}">'
        f'<div id="mw-mwoauth-authorize-dialog">{description}</div>{error_html}{hidden_html}'
        f'<div class="buttons"><button type="submit" name="accept" value="Allow" '
        f'id="mw-mwoauth-accept" class="progressive">Allow</button>'
        f'<button type="submit" name="cancel" value="Cancel" id="mw-mwoauth-cancel">Cancel'
        f'</button></div></form>{switch}<footer><a href="{esc(server)}/wiki/Project:Privacy_policy">'
        f"Privacy policy</a></footer>"
    )
