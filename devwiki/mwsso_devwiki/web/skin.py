"""The local wiki's skin: the page layout every HTML answer uses, and the generic error page.

Every value that comes from a request or the config goes through ``esc``.
"""

from __future__ import annotations

from ..messages import Message
from ..messages import html_escape as esc

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
border:1px solid #eaecf0;padding:.8em}a.new{color:#d73333}.mw-revision{border:1px solid #a2a9b1;
background:#eaf3ff;padding:.4em .8em;margin-bottom:1em;font-size:.9em}
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


MANAGE_GRANTS = "Special:OAuthManageMyGrants"


def manage_grants_url(server: str) -> str:
    """Special:OAuthManageMyGrants by the article path, which every script path serves."""
    return f"{server}/wiki/{MANAGE_GRANTS}"
