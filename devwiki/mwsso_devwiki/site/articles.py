"""Wiki pages: an article (any revision), the missing-page answers, and what the Main Page adds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..messages import html_escape as esc
from ..state.pages import normalize_title
from ..web import wikitext
from ..web.skin import layout, main_page_link
from ..web.wsgi import Response

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.models import Consumer, Page, Revision
    from ..state.store import Store


def revision_info(page: Page, revision: Revision, server: str) -> str:
    """The box above an old revision (``index.php?oldid=``), as the wiki shows it."""
    when = time.strftime("%H:%M, %d %B %Y", time.gmtime(revision.timestamp)).replace(", 0", ", ")
    latest = revision.revid == page.latest.revid
    which = "Latest revision" if latest else "Revision"
    current = "" if latest else f' (<a href="{esc(wikitext.article_url(server, page.title))}">current revision</a>)'
    return (
        f'<div id="mw-revision-info" class="mw-revision">{which} as of {esc(when)} by {esc(revision.user)}'
        f"{current}</div>"
    )


def article_page(
    page: Page, server: str, revision: Revision | None = None, exists: Callable[[str], bool] | None = None
) -> str:
    """A page (its latest revision, or ``revision``), its wikitext rendered as HTML."""
    shown = revision or page.latest
    info = revision_info(page, shown, server) if revision is not None else ""
    body = f'{info}<div class="mw-parser-output">{wikitext.to_html(shown.text, server, exists)}</div>'
    return layout(page.title, body, server=server)


def missing_revision_page(revid: str, server: str) -> str:
    body = f'<div class="error"><p>The revision #{esc(revid)} of the page does not exist.</p></div>' + main_page_link(
        server
    )
    return layout("Error", body, server=server)


def missing_page(title: str, server: str) -> str:
    return layout(title, "<p>There is currently no text in this page.</p>", server=server)


def home_body(
    index_url: str, api_url: str, consumers: list[Consumer], oauth2_clients: list[Client] | None = None
) -> str:
    rows = "".join(
        f"<li><b>{esc(c.name)}</b>: <code>{esc(c.key)}</code>{'' if c.approved else ' (not approved)'}</li>"
        for c in consumers
    )
    oauth2_rows = "".join(
        f"<li><b>{esc(c.name)}</b>: <code>{esc(c.client_id)}</code> "
        f"({'confidential' if c.confidential else 'public, PKCE'}; redirect URI <code>{esc(c.redirect_uri)}</code>"
        f"{', on any port of its host (a local-wiki convenience)' if c.any_loopback_port else ''})</li>"
        for c in oauth2_clients or []
    )
    return (
        "<p>This is <b>devwiki</b>, a local stand-in for a MediaWiki wiki with "
        "Extension:OAuth. Point your site at it with:</p>"
        f'<pre>SOCIAL_AUTH_MEDIAWIKI_URL = "{esc(index_url)}"</pre>'
        f"<p>Consumers:</p><ul>{rows}</ul>"
        + (f"<p>OAuth 2.0 clients (<code>rest.php/oauth2/*</code>):</p><ul>{oauth2_rows}</ul>" if oauth2_rows else "")
        + f'<p>Action API: <a href="{esc(api_url)}">{esc(api_url)}</a></p>'
    )


def _exists(store: Store) -> Callable[[str], bool]:
    return lambda title: store.pages.get(normalize_title(title) or "") is not None


def old_revision(store: Store, oldid: str) -> Response:
    """``index.php?oldid=N``: that revision of its page, whatever ``title`` says (as MediaWiki does)."""
    found = store.pages.revision(int(oldid)) if oldid.isdigit() else None
    if found is None:
        return Response(missing_revision_page(oldid, store.server), status=404)
    page, revision = found
    return Response(article_page(page, store.server, revision, _exists(store)))


def article(store: Store, title: str) -> Response:
    """A page by title (the Main Page also lists the consumers and clients); 404 when there is none."""
    name = normalize_title(title) or "Main Page"
    page = store.pages.get(name)
    if page is None:
        return Response(missing_page(name, store.server), status=404)
    html = article_page(page, store.server, exists=_exists(store))
    if name == "Main Page":
        home = home_body(store.urls.index, store.urls.api, store.consumers(), store.oauth2.clients())
        html = html.replace("</main>", home + "</main>")
    return Response(html)
