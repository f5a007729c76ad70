"""Replaying a recorded session, request by request, against the local wiki mirroring the recorded one.

Each recorded request is sent again as it was (method, path, query, body, content type), with what
belonged to the recorded run swapped for the local run's: the server, the tokens, codes and verifiers
the wiki handed out (learned from the answers as they come), the redacted passwords and client
secrets, the form's edit token (the recorded page was truncated), an acceptance id (by the
application's name the recorded page shows), and the redacted Authorization header (credentials.py).
A browser's cookies go with the requests a browser makes, never with a signed or Bearer request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import requests
from mwsso_devwiki.testing import DevWiki

from . import credentials
from .compare import Swaps, body_problems, learn_body, learn_location, location_problems
from .mirror import Mirror

ACCESS_TOKEN_PATH = "/rest.php/oauth2/access_token"


@dataclass
class Outcome:
    """One recorded request, replayed: what differs from the recorded answer (nothing, when it matches)."""

    n: int
    step: str
    problems: list[str] = field(default_factory=list)


class _HiddenFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "input" and attr.get("type") == "hidden" and "name" in attr:
            self.fields[attr["name"]] = attr.get("value", "")


class Replay:
    def __init__(self, wiki: DevWiki, mirror: Mirror) -> None:
        self.wiki, self.mirror = wiki, mirror
        self.swaps = Swaps()
        recorded_port = mirror.server.rsplit(":", 1)[1]
        local_port = wiki.server_url.rsplit(":", 1)[1]
        self.swaps.pairs[mirror.server] = wiki.store.server
        self.swaps.pairs[f"localhost:{recorded_port}"] = f"localhost:{local_port}"
        self.flows = credentials.Flows()
        self.browser = requests.Session()
        self.browser_user = ""
        self.page_fields: dict[str, str] = {}  # the hidden fields of the last form the browser was shown

    def setup(self) -> None:
        """What the recorded wiki already had: earlier grants, the owner-only registrations' tokens."""
        for consumer, user in self.mirror.prior_grants:
            self.wiki.control("issue_token", consumer_key=self.mirror.consumers[consumer]["key"], user=user)
        for spec in self.mirror.consumers.values():
            if spec.get("owner_only"):
                self.wiki.control("issue_token", consumer_key=spec["key"], user=spec["owner"])
        for spec in self.mirror.clients.values():
            if spec.get("owner_only"):
                issued = self.wiki.control("oauth2_issue_token", client_id=spec["client_id"], user=spec["owner"])
                self.flows.registration_token = issued["access_token"]

    def run(self, entries: list[dict[str, Any]]) -> list[Outcome]:
        self.setup()
        return [self.replay(entry) for entry in entries]

    def replay(self, entry: dict[str, Any]) -> Outcome:
        step, request = entry["step"], entry["request"]
        if step.startswith("refresh-lifetime"):  # the recorder waited 72 s before these
            self.wiki.control("set_clock", offset=72)
        url = self._url(entry)
        body = self._body(entry, url)
        headers = {"Content-Type": request["content_type"]} if request["content_type"] else {}
        auth = None
        kind = (request["authorization"] or "").split(" ")[0]
        if kind == "OAuth":
            auth = credentials.oauth1_auth(self.mirror, self.flows, step, url)
        elif kind == "Bearer":
            headers["Authorization"] = f"Bearer {credentials.bearer(self.flows, step)}"
        elif kind == "Basic":
            headers["Authorization"] = credentials.basic(self.mirror)
        http = self._client(step, kind, url)
        data = body.encode() if body is not None else None
        answer = http.request(request["method"], url, data=data, headers=headers, auth=auth, allow_redirects=False,
                              timeout=10)  # fmt: skip
        self._learn(entry, answer)
        return Outcome(entry["n"], step, self._problems(entry, answer))

    def _client(self, step: str, kind: str, url: str) -> requests.Session:
        """The browser's cookie jar for what a browser did; a cookie-less client for signed and token requests."""
        anonymous = "(anonymous)" in step or "not logged in" in step
        if kind or anonymous or ACCESS_TOKEN_PATH in url or "/oauth2/resource/" in url:
            return requests.Session()
        return self.browser

    def _url(self, entry: dict[str, Any]) -> str:
        url = self.swaps(entry["request"]["url"]) or ""
        revoke = re.search(r"OAuthManageMyGrants/revoke/(\d+)", url)
        if revoke and isinstance(entry["body"], dict):
            name = re.search(r"Application name: (\S+) \[", entry["body"]["page_text"])
            if name:  # acceptance ids are the recorded database's: take the local one of that application
                self.acceptance = (revoke[1], str(self._acceptance_id(name[1])))
        if revoke and getattr(self, "acceptance", (None,))[0] == revoke[1]:
            url = url.replace(f"revoke/{revoke[1]}", f"revoke/{self.acceptance[1]}")
        return url

    def _acceptance_id(self, name: str) -> int:
        store = self.wiki.store
        key = next(
            spec.get("key") or spec.get("client_id")
            for spec in (*self.mirror.consumers.values(), *self.mirror.clients.values())
            if spec["name"] == name
        )
        return store.acceptance_id(str(key), store.user(self.browser_user).sub)

    def _body(self, entry: dict[str, Any], url: str) -> str | None:
        body = self.swaps(entry["request"]["body"])
        if body is None:
            return None
        step = entry["step"]
        body = re.sub(r"password=(REDACTED|\[redacted\])", "password=devwiki", body)
        client = re.search(r"client_id=([0-9a-f]{32})", body)
        secret = (
            credentials.WRONG_SECRET if "wrong secret" in step else self.mirror.secret_of(client[1] if client else "")
        )
        body = body.replace("client_secret=REDACTED", f"client_secret={secret}")
        body = body.replace('"client_secret": "REDACTED"', f'"client_secret": "{secret}"')
        if "wpEditToken=" in body and "wpEditToken" in self.page_fields:
            body = re.sub(r"wpEditToken=[^&]*", "wpEditToken=" + quote(self.page_fields["wpEditToken"], safe=""), body)
        if "wpacceptanceId=" in body and hasattr(self, "acceptance"):
            recorded_id, local_id = self.acceptance
            body = body.replace(f"wpacceptanceId={recorded_id}", f"wpacceptanceId={local_id}")
            body = body.replace(f"revoke%2F{recorded_id}", f"revoke%2F{local_id}")
        login = re.search(r"action=clientlogin&username=([^&]+)", body)
        if login:
            self.browser_user = requests.utils.unquote(login[1].replace("+", " "))
        return body

    def _learn(self, entry: dict[str, Any], answer: requests.Response) -> None:
        step = entry["step"]
        learn_location(entry["location"], answer.headers.get("Location"), self.swaps)
        verifier = re.search(r"[?&]oauth_verifier=([0-9a-f]+)", answer.headers.get("Location", ""))
        if verifier:
            self.flows.flow(step).verifier = verifier[1]
        found = learn_body(entry["body"], answer, self.swaps)
        flow = self.flows.flow(step)
        token = found.get("oauth_token") or found.get("key")
        secret = found.get("oauth_token_secret") or found.get("secret")
        if token and secret:
            if "Finitiate" in entry["request"]["url"]:
                flow.request = (token, secret)
            else:
                flow.access = (token, secret)
        if "access_token" in found:
            self.flows.bearers.setdefault(credentials.oauth2_flow(step), []).append(found["access_token"])
        if "text/html" in answer.headers.get("Content-Type", "") and "<form" in answer.text:
            parser = _HiddenFields()
            parser.feed(answer.text)
            self.page_fields = parser.fields

    def _problems(self, entry: dict[str, Any], answer: requests.Response) -> list[str]:
        problems = []
        if answer.status_code != entry["status"]:
            problems.append(f"status {answer.status_code} where the wiki answered {entry['status']}")
        if answer.headers.get("Content-Type") != entry["content_type"]:
            problems.append(f"Content-Type {answer.headers.get('Content-Type')!r}, not {entry['content_type']!r}")
        if answer.headers.get("Cache-Control") != entry["cache_control"]:
            problems.append(f"Cache-Control {answer.headers.get('Cache-Control')!r}, not {entry['cache_control']!r}")
        problems += location_problems(entry["location"], answer.headers.get("Location"), self.swaps)
        problems += body_problems(entry["body"], answer, self.swaps)
        return problems
