"""HTML pages of the devwiki: a small wiki skin, the authorize dialog, cancel and error pages.

Every value that comes from a request or the config goes through ``esc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import catalog
from .messages import Message
from .messages import html_escape as esc

if TYPE_CHECKING:
    from .models import Consumer, Page, User
    from .oauth2.models import Client

SUBTITLE = "Allows usage of OAuth 1.0a for API authorization"

_CSS = """
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;
color:#202122;background:#f8f9fa}a{color:#36c;text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;align-items:center;gap:.75em;padding:.6em 1.5em;background:#fff;
border-bottom:1px solid #a2a9b1}header .logo{font-family:Georgia,serif;font-size:1.4em;color:#202122}
header .tag{font-size:.8em;color:#72777d}main{max-width:52em;margin:1.5em auto;background:#fff;
border:1px solid #c8ccd1;padding:1.2em 2em 2em}h1{font-family:Georgia,"Linux Libertine",serif;
font-weight:normal;border-bottom:1px solid #a2a9b1;margin:0 0 .2em;padding-bottom:.1em}
.subtitle{color:#54595d;font-size:.9em;margin-bottom:1em}.error{border:1px solid #d33;
background:#fee7e6;padding:.6em 1em;margin:1em 0}.mw-mwoautherror-details{color:#54595d;font-size:.9em}
fieldset{border:1px solid #c8ccd1;padding:.6em 1em;margin:1em 0}legend{font-weight:bold}
.users label{display:block;padding:.25em 0}.note{color:#72777d;font-size:.9em}
.grants li{margin:.2em 0}.buttons{margin-top:1.2em;display:flex;gap:.6em}
button{font:inherit;padding:.45em 1.2em;border-radius:2px;border:1px solid #a2a9b1;background:#f8f9fa;
cursor:pointer}button.progressive{background:#36c;border-color:#36c;color:#fff;font-weight:bold}
footer{font-size:.8em;color:#72777d;margin-top:1.5em}pre{white-space:pre-wrap;background:#f8f9fa;
border:1px solid #eaecf0;padding:.8em}
"""


def layout(title: str, body: str, subtitle: str = "", server: str = "") -> str:
    sub = f'<div class="subtitle">{esc(subtitle)}</div>' if subtitle else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="UTF-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} - devwiki</title><style>{_CSS}</style></head><body>"
        f'<header><a class="logo" href="{esc(server)}/wiki/Main_Page">devwiki</a>'
        f'<span class="tag">local MediaWiki OAuth provider (mwsso)</span></header>'
        f'<main><h1 id="firstHeading">{esc(title)}</h1>{sub}<div id="mw-content-text">{body}</div>'
        f"</main></body></html>"
    )


def main_page_link(server: str) -> str:
    return f'<p>Return to <a href="{esc(server)}/wiki/Main_Page">Main Page</a>.</p>'


def error_page(message: Message, server: str) -> str:
    """OutputPage::showErrorPage('mwoauth-error', ...)."""
    return layout("Application Connection Error", message.html() + main_page_link(server), server=server)


def cancel_page(consumer: Consumer, server: str) -> str:
    body = Message("mwoauth-acceptance-cancelled", consumer.name).html()
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
    users: list[User],
    selected: User | None,
    subpage: str,
    consumer_key: str,
    request_token: str,
    edit_token: str,
    error: Message | None,
    server: str,
    now: float,
) -> str:
    """The authorization dialog; field names and ids are the real form's.

    Laid out like HTMLForm does it (header text, errors, fields, buttons); the
    "Log in as" user picker is the devwiki's own addition.
    """
    error_html = f'<div class="error">{error.html()}</div>' if error else ""
    radios = []
    for user in users:
        note = user.note(now)
        checked = " checked" if selected and user.sub == selected.sub else ""
        radios.append(
            f'<label for="wpUser-{user.sub}"><input type="radio" name="wpUser" '
            f'value="{user.sub}" id="wpUser-{user.sub}" data-username="{esc(user.name)}"'
            f"{checked}> {esc(user.name)}" + (f' <span class="note">({esc(note)})</span>' if note else "") + "</label>"
        )
    hidden = {
        "title": f"Special:OAuth/{subpage}",
        "wpEditToken": edit_token,
        "wpaction": "accept",
        "consumerKey": consumer_key,
        "requestToken": request_token,
        "oauth_version": "1",
    }
    hidden_html = "".join(f'<input type="hidden" name="{k}" value="{esc(v)}">' for k, v in hidden.items())
    body = (
        f'<form id="mw-mwoauth-authorize-form" method="post" '
        f'action="{esc(server)}/w/index.php?title=Special:OAuth/{subpage}">'
        f'<div id="mw-mwoauth-authorize-dialog">'
        f"{_description(consumer, selected.name if selected else 'there')}</div>{error_html}"
        f'<fieldset class="users"><legend>Log in as</legend>{"".join(radios)}</fieldset>{hidden_html}'
        f'<div class="buttons"><button type="submit" name="accept" value="Allow" '
        f'id="mw-mwoauth-accept" class="progressive">Allow</button>'
        f'<button type="submit" name="cancel" value="Cancel" id="mw-mwoauth-cancel">Cancel'
        f'</button></div></form><footer><a href="{esc(server)}/wiki/Project:Privacy_policy">'
        f"Privacy policy</a></footer>"
    )
    return layout("OAuth", body, SUBTITLE, server)


def article_page(page: Page, server: str) -> str:
    body = f"<pre>{esc(page.latest.text)}</pre>"
    return layout(page.title, body, server=server)


def missing_page(title: str, server: str) -> str:
    return layout(title, "<p>There is currently no text in this page.</p>", server=server)


def home_body(server: str, consumers: list[Consumer], oauth2_clients: list[Client] | None = None) -> str:
    rows = "".join(
        f"<li><b>{esc(c.name)}</b>: <code>{esc(c.key)}</code>{'' if c.approved else ' (not approved)'}</li>"
        for c in consumers
    )
    oauth2_rows = "".join(
        f"<li><b>{esc(c.name)}</b>: <code>{esc(c.client_id)}</code> "
        f"({'confidential' if c.confidential else 'public, PKCE'}; redirect URI <code>{esc(c.redirect_uri)}</code>)</li>"
        for c in oauth2_clients or []
    )
    return (
        "<p>This is <b>devwiki</b>, a local stand-in for a MediaWiki wiki with "
        "Extension:OAuth. Point your site at it with:</p>"
        f'<pre>SOCIAL_AUTH_MEDIAWIKI_URL = "{esc(server)}/w/index.php"</pre>'
        f"<p>Consumers:</p><ul>{rows}</ul>"
        + (f"<p>OAuth 2.0 clients (<code>rest.php/oauth2/*</code>):</p><ul>{oauth2_rows}</ul>" if oauth2_rows else "")
        + f'<p>Action API: <a href="{esc(server)}/w/api.php">{esc(server)}/w/api.php</a></p>'
    )
