"""Real HTTP clients standing in for people's browsers: one ``requests.Session`` (cookie jar) each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import requests
from mwsso_devwiki.testing import authorize

from tests.production.processes import BROWSER_HEADER

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WIKI_USERNAME = re.compile(r'<span id="wiki-username">([^<]*)</span>')
TIMEOUT = 30


@dataclass
class Outcome:
    """How one sign-in ended: ``ok`` with the profile's name, or the page it failed on."""

    browser: str
    ok: bool
    step: str
    status: int
    username: str | None = None
    body: str = ""

    @property
    def clean_failure(self) -> bool:
        """A refused or failed sign-in shown as mwsso's friendly page, never a server error."""
        return not self.ok and self.status in (400, 403, 502) and "Sign-in failed" in self.body


class Browser:
    """One person's browser on the demo site (and on the wiki, which shares 127.0.0.1's cookies)."""

    def __init__(self, site_url: str, name: str) -> None:
        self.site_url, self.name = site_url, name
        self.http = requests.Session()
        # Names this browser in gunicorn's access log (see deploy.ACCESS_LOG_FORMAT).
        self.http.headers[BROWSER_HEADER] = name

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.site_url + path, allow_redirects=False, timeout=TIMEOUT)

    def _csrf(self, page: requests.Response) -> str:
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF field on {page.url} ({page.status_code})"
        return match.group(1)

    def begin(self) -> requests.Response:
        """Open the home page and press "Sign in with Wikipedia": a 302 to the wiki, or an error page."""
        home = self.http.get(self.site_url + "/", timeout=TIMEOUT)
        return self.http.post(
            self.site_url + "/login/mediawiki/", data={"csrfmiddlewaretoken": self._csrf(home)},
            allow_redirects=False, timeout=TIMEOUT,
        )  # fmt: skip

    def allow(self, authorize_url: str, user: str | int) -> str:
        """Pick ``user`` on the wiki's authorize page and press Allow; returns the callback URL."""
        answer = authorize(self.http, authorize_url, user=user, action="accept", timeout=TIMEOUT)
        assert answer.status_code == 302, (
            f"the wiki did not send {self.name} back: {answer.status_code} {answer.text[:300]}"
        )
        return answer.headers["Location"]

    def complete(self, callback_url: str) -> requests.Response:
        assert callback_url.startswith(self.site_url + "/complete/mediawiki/"), callback_url
        return self.http.get(callback_url, allow_redirects=False, timeout=TIMEOUT)

    def signed_in_as(self) -> str | None:
        """The name the profile page shows, or None when the site does not know this browser."""
        page = self.get("/profile/")
        if page.status_code != 200:
            return None
        match = WIKI_USERNAME.search(page.text)
        return unescape(match.group(1)) if match else None

    def finish(self, callback_url: str) -> Outcome:
        """The callback and, when it succeeded, the profile page."""
        done = self.complete(callback_url)
        if done.status_code == 302 and done.headers.get("Location") == "/profile/":
            return Outcome(self.name, True, "complete", done.status_code, self.signed_in_as())
        return Outcome(self.name, False, "complete", done.status_code, body=done.text)

    def login(self, user: str | int) -> Outcome:
        """The whole sign-in as ``user`` (a name or a central id)."""
        started = self.begin()
        if started.status_code != 302:
            return Outcome(self.name, False, "begin", started.status_code, body=started.text)
        return self.finish(self.allow(started.headers["Location"], user))

    def logout(self) -> None:
        page = self.http.get(self.site_url + "/profile/", timeout=TIMEOUT)
        self.http.post(self.site_url + "/logout/", data={"csrfmiddlewaretoken": self._csrf(page)}, timeout=TIMEOUT)
