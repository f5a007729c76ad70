"""Playing a person at the wiki with a real HTTP client: log in, then Allow (or Cancel) on a consent page.

The wiki is driven only through its pages, as a browser would drive it (forms, redirects,
cookies), so that what the helpers do is what a person can do. ``authorize`` handles OAuth 1.0a's
Special:OAuth/authorize and /authenticate, ``authorize_oauth2`` rest.php/oauth2/authorize; both
log in as ``user`` when the wiki asks (Special:UserLogin), or when it is signed in as someone else.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

LOGIN_TITLE = "title=Special:UserLogin"


class _Forms(HTMLParser):
    """The forms of a page: action, hidden inputs, and the user radios (``wpUser``) with their names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, object]] = {}
        self._current: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": attr.get("action", ""),
                "fields": {},
                "users": {},
                "as": (attr.get("data-username"), attr.get("data-sub")),
            }
            self.forms[attr.get("id", "")] = self._current
        elif tag == "input" and self._current is not None:
            if attr.get("type") == "hidden" and "name" in attr:
                self._current["fields"][attr["name"]] = attr.get("value", "")  # type: ignore[index]
            elif attr.get("name") == "wpUser":
                self._current["users"][attr.get("data-username", "")] = attr.get("value", "")  # type: ignore[index]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(page: requests.Response) -> dict[str, dict[str, object]]:
    parser = _Forms()
    parser.feed(page.text)
    return parser.forms


def _pick(offered: dict[str, str], user: str | int, where: str) -> str:
    if str(user).isdigit():
        return str(user)
    if str(user) not in offered:
        raise LookupError(f"{user!r} is not offered on {where} (offered: {', '.join(offered)})")
    return offered[str(user)]


def log_in(http: requests.Session, login_page_url: str, user: str | int, timeout: float = 10) -> requests.Response:
    """Open Special:UserLogin at ``login_page_url``, pick ``user`` and log in; the unfollowed answer (302 to returnto)."""
    page = http.get(login_page_url, timeout=timeout)
    form = forms(page).get("userloginForm")
    if form is None:
        raise LookupError(f"no login form at {login_page_url} ({page.status_code})")
    data = {**form["fields"], "wpUser": _pick(form["users"], user, "the login page")}  # type: ignore[dict-item]
    return http.post(urljoin(page.url, str(form["action"])), data=data, allow_redirects=False, timeout=timeout)


def _is_wiki_page(url: str) -> bool:
    """A wiki's own page (index.php, rest.php or the article path), not a client's callback.

    Judged by the path, not the host: the wiki redirects to its canonical server ($wgServer), which
    need not be the address the authorize URL used (a proxy in front of it, a loopback alias).
    """
    path = urlsplit(url).path
    return path.endswith("/index.php") or "/index.php/" in path or "/rest.php/" in path or path.startswith("/wiki/")


def _is_login(response: requests.Response) -> bool:
    return response.is_redirect and LOGIN_TITLE in response.headers.get("Location", "")


def _follow_on_wiki(http: requests.Session, response: requests.Response, timeout: float) -> requests.Response:
    """Follow redirects while they stay on the wiki (and are not its login page): stop where it answers or leaves."""
    for _ in range(10):
        if not response.is_redirect or _is_login(response):
            return response
        location = urljoin(response.url, response.headers["Location"])
        if not _is_wiki_page(location):
            return response
        response = http.get(location, allow_redirects=False, timeout=timeout)
    return response


def consent_page(
    http: requests.Session, url: str, user: str | int, timeout: float = 10
) -> tuple[requests.Response, dict[str, object] | None]:
    """Open ``url`` (an authorize URL) as ``user``: logged in first if needed; the page and its consent form."""
    page = _follow_on_wiki(http, http.get(url, allow_redirects=False, timeout=timeout), timeout)
    for _attempt in range(2):
        if _is_login(page):
            page = log_in(http, urljoin(page.url, page.headers["Location"]), user, timeout)
            page = _follow_on_wiki(http, page, timeout)
        form = forms(page).get("mw-mwoauth-authorize-form") if page.status_code == 200 else None
        if form is None or str(user) in form["as"]:  # type: ignore[operator]
            return page, form
        # Signed in as someone else: log in as ``user`` from the dialog's own link, as a person would.
        page = log_in(http, _switch_link(page), user, timeout)
        page = _follow_on_wiki(http, page, timeout)
    return page, forms(page).get("mw-mwoauth-authorize-form")


def _switch_link(page: requests.Response) -> str:
    marker = 'class="devwiki-link" href="'
    start = page.text.index(marker) + len(marker)
    return urljoin(page.url, page.text[start : page.text.index('"', start)].replace("&amp;", "&"))


def press(
    http: requests.Session, page: requests.Response, form: dict[str, object], action: str, timeout: float = 10
) -> requests.Response:
    """Press Allow (``action="accept"``) or Cancel on a consent form; the unfollowed answer."""
    if action not in ("accept", "cancel"):
        raise ValueError("action must be 'accept' or 'cancel'")
    data = dict(form["fields"])  # type: ignore[call-overload]
    data["accept" if action == "accept" else "cancel"] = "Allow" if action == "accept" else "Cancel"
    return http.post(urljoin(page.url, str(form["action"])), data=data, allow_redirects=False, timeout=timeout)


def authorize(
    session: requests.Session | None,
    authorize_url: str,
    user: str | int = "Alice",
    action: str = "accept",
    endpoint_follow: bool = False,
    timeout: float = 10,
) -> requests.Response:
    """Open OAuth 1.0a's dialog at ``authorize_url`` as ``user`` (logging in as needed) and press Allow or Cancel.

    Returns the unfollowed answer to the POST: on Allow a 302 to the consumer's callback with
    ``oauth_verifier`` and ``oauth_token``; on Cancel the 200 cancel page. If the dialog is not
    shown (an error page, or /authenticate redirecting straight back) that answer is returned
    instead. With ``endpoint_follow`` the callback redirect is then followed with the same
    session and its response returned (when the session is also a client of the consumer site).
    """
    if action not in ("accept", "cancel"):
        raise ValueError("action must be 'accept' or 'cancel'")
    http = session or requests.Session()
    page, form = consent_page(http, authorize_url, user, timeout)
    response = page if form is None else press(http, page, form, action, timeout)
    if endpoint_follow and response.is_redirect:
        return http.get(response.headers["Location"], timeout=timeout)
    return response


def authorize_oauth2(
    session: requests.Session | None,
    authorize_url: str,
    user: str | int = "Alice",
    action: str = "accept",
    timeout: float = 10,
) -> requests.Response:
    """Open ``rest.php/oauth2/authorize?...`` as ``user`` (logging in as needed) and press Allow or Cancel.

    Returns the unfollowed answer that points back at the client: on Allow a 302 to the
    redirect URI with ``code`` and ``state``; on Cancel a 302 with ``error=unauthorized_client``.
    If the wiki answers something else first (an error page), that response is returned.
    """
    http = session or requests.Session()
    page, form = consent_page(http, authorize_url, user, timeout)
    if form is None:
        return page
    answer = press(http, page, form, action, timeout)
    # back to authorize with approval_pass=1 (or approval_cancel=1), which answers the client
    return _follow_on_wiki(http, answer, timeout)
