"""Reading Special:OAuthListConsumers/view/<key>, the one page that shows a consumer's registration to anyone.

Asked for with ``uselang=qqx``, MediaWiki prints each interface message as its key in brackets, so the
page reads the same on every wiki and in every language: ``(mwoauthlistconsumers-status-approved)``,
``(grant-editpage)``, ``(htmlform-yes)``. Pure: takes the HTML, returns what it says.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import requests

from mwsso.protocol.wikiurls import WikiURLs

_STATUS = re.compile(r"\(mwoauthlistconsumers-status-([a-z]+)\)")
_GRANT = re.compile(r"\(grant-(?!group-)([a-z0-9-]+)\)")


@dataclass(frozen=True)
class ConsumerPage:
    """What the page shows; ``None`` for what it does not show."""

    known: bool
    status: str | None = None
    grants: tuple[str, ...] | None = None
    callback: str | None = None
    callback_is_prefix: bool | None = None
    all_wikis: bool | None = None


def probe(session: requests.Session, urls: WikiURLs, consumer_key: str, **options: Any) -> requests.Response:
    params = {"title": f"Special:OAuthListConsumers/view/{consumer_key}", "uselang": "qqx"}
    return session.get(urls.index, params=params, allow_redirects=False, **options)


def _after(label: str, text: str, window: int = 2000) -> str:
    at = text.find(f"({label})")
    return "" if at < 0 else text[at + len(label) + 2 : at + len(label) + 2 + window]


def parse(page: str) -> ConsumerPage | None:
    """The consumer's registration as the page shows it, or None when this is not that page."""
    text = html.unescape(page)
    if "(mwoauth-invalid-consumer-key)" in text:
        return ConsumerPage(known=False)
    status = _STATUS.search(text)
    if status is None:
        return None
    grants: tuple[str, ...] | None = None
    grants_part = _after("mwoauthlistconsumers-grants", text)
    if "(mwoauthlistconsumers-basicgrantsonly)" in grants_part:
        grants = ("basic",)
    elif grants_part:
        found = list(dict.fromkeys(_GRANT.findall(grants_part)))
        if found:
            # "basic" is hidden on the page but every consumer that is not identify-only has it.
            authonly = set(found) <= {"mwoauth-authonly", "mwoauth-authonlyprivate"}
            grants = tuple(found if authonly else ["basic", *found])
    callback = re.search(
        r"https?://[^\s<>\"']+|\boob\b", re.sub(r"<[^>]+>", " ", _after("mwoauthlistconsumers-callbackurl", text, 600))
    )
    prefix_part = _after("mwoauthlistconsumers-callbackisprefix", text, 600)
    yes, no = prefix_part.find("(htmlform-yes)"), prefix_part.find("(htmlform-no)")
    prefix = None if yes < 0 and no < 0 else (yes >= 0 and (no < 0 or yes < no))
    wiki_part = _after("mwoauthlistconsumers-wiki", text, 600)
    all_wikis = None if not wiki_part else "(mwoauth-consumer-allwikis)" in wiki_part[:300]
    return ConsumerPage(
        known=True,
        status=status.group(1),
        grants=grants,
        callback=callback.group(0) if callback else None,
        callback_is_prefix=prefix,
        all_wikis=all_wikis,
    )
