"""How a local answer is held against a recorded one: status, content type, cache headers, Location, body shape.

"Shape" is what a client can depend on: for JSON the keys (in order) and the value types, all the way
down, with errors compared whole (their codes and texts are what clients read); identify's JWT by its
header and its claims' names and types; plain-text OAuth 1.0a answers by their keys, or whole when
they are errors; an HTML page (recorded as its title and text) by its title, and by its text when it
is an error page, whose words are the wiki's. Recorded values that belong to one run (tokens, codes,
verifiers, the server) are swapped for the local run's before anything is compared (``Swaps``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

# Pages whose words are compared as well as their title: the wiki's errors and confirmations.
TEXT_PAGES = ("Application Connection Error",)


@dataclass
class Swaps:
    """Recorded run's values → local run's values (learned as answers are paired), longest first when applied."""

    pairs: dict[str, str] = field(default_factory=dict)

    def learn(self, recorded: str | None, local: str | None) -> None:
        if recorded and local and recorded != local and len(recorded) >= 6 and "REDACTED" not in recorded:
            self.pairs[recorded] = local

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        for old in sorted(self.pairs, key=len, reverse=True):
            text = text.replace(old, self.pairs[old])
        return text


def _type(value: Any) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


# What a version changes and a client reads: compared whole, not by shape (the mirror has the same users and grants).
EXACT = ("groups", "rights", "grants", "scopes", "token_type", "expires_in")


def shape_problems(recorded: Any, local: Any, where: str = "") -> list[str]:
    """Where ``local`` differs from ``recorded`` in keys (and their order) or value types, or in an EXACT value."""
    if _type(recorded) != _type(local):
        return [f"{where or 'body'}: {_type(local)} where the wiki sent {_type(recorded)}"]
    if isinstance(recorded, dict):
        if list(recorded) != list(local):
            return [f"{where or 'body'}: keys {list(local)} where the wiki sent {list(recorded)}"]
        exact = [f"{where}.{key}: {local[key]!r} where the wiki sent {recorded[key]!r}"
                 for key in EXACT if key in recorded and recorded[key] != local[key]]  # fmt: skip
        return exact + [p for key in recorded for p in shape_problems(recorded[key], local[key], f"{where}.{key}")]
    if isinstance(recorded, list) and recorded and local:
        return shape_problems(recorded[0], local[0], f"{where}[0]")
    return []


def _jwt_parts(token: str) -> tuple[Any, Any] | None:
    try:
        header, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in token.split(".")[:2])
    except (ValueError, IndexError):
        return None
    return header, payload


class _PageText(HTMLParser):
    """The title (without the site name) and #mw-content-text's words, skipping the local wiki's own additions."""

    SKIP = ("devwiki-switch-user",)

    def __init__(self) -> None:
        super().__init__()
        self.title: list[str] = []
        self.text: list[str] = []
        self._in_title = False
        self._depth = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "title":
            self._in_title = True
        if self._depth and tag not in ("input", "br", "meta"):
            self._depth += 1
            if self._skip or attr.get("class") in self.SKIP:
                self._skip += 1
        elif attr.get("id") == "mw-content-text":
            self._depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._depth:
            self._depth -= 1
            if self._skip:
                self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif self._depth and not self._skip:
            self.text.append(data)


def page_title_and_text(html: str) -> tuple[str, str]:
    """Text pieces joined with a space, as the recordings were; a link the local wiki adds to words the real
    wiki prints plain (class devwiki-link) read as those plain words."""
    parser = _PageText()
    parser.feed(re.sub(r'<a class="devwiki-link"[^>]*>(.*?)</a>', r"\1", html))
    title = " ".join("".join(parser.title).split()).rsplit(" - ", 1)[0]
    return title, " ".join(" ".join(parser.text).split())


def recorded_page_text(body: dict[str, Any]) -> str:
    """The recorded page's words: given (1.45), or read from the start of #mw-content-text's HTML (1.43)."""
    if "page_text" in body:
        return str(body["page_text"])
    excerpt = str(body["content_text_excerpt"]).split('<div class="printfooter"', 1)[0]
    return page_title_and_text(f"<div {excerpt}</div>")[1]


def _form_keys(text: str) -> list[str]:
    return [key for key, _ in parse_qsl(text, keep_blank_values=True)]


def body_problems(recorded: Any, local: requests.Response, swaps: Swaps) -> list[str]:
    text = local.text
    if isinstance(recorded, dict):  # an HTML page, recorded by its title and text
        want_title = recorded["title"].rsplit(" - ", 1)[0]
        title, words = page_title_and_text(text)
        if title != want_title:
            return [f"page title {title!r} where the wiki's was {want_title!r}"]
        if want_title in TEXT_PAGES and words != recorded_page_text(recorded):
            return [f"page text {words!r} where the wiki's was {recorded_page_text(recorded)!r}"]
        return []
    recorded = swaps(recorded) or ""
    if recorded.startswith("eyJ"):  # identify's JWT
        theirs, ours = _jwt_parts(recorded), _jwt_parts(text)
        if ours is None or theirs is None:
            return ["not a JWT"]
        if ours[0] != theirs[0]:
            return [f"JWT header {ours[0]} where the wiki's was {theirs[0]}"]
        return shape_problems(theirs[1], ours[1], "claims")
    if recorded.startswith("{"):
        theirs, ours = json.loads(recorded), _json(text)
        if ours is None:
            return [f"not JSON: {text[:100]!r}"]
        if "error" in theirs or "errorKey" in theirs or "exception" in theirs:
            return _written_error_problems(recorded, text)
        return shape_problems(theirs, ours)
    if recorded.startswith("oauth_token="):
        return (
            [] if _form_keys(text) == _form_keys(recorded) else [f"form {text[:80]!r} where the wiki sent {recorded!r}"]
        )
    return [] if text == recorded else [f"body {text[:200]!r} where the wiki sent {recorded[:200]!r}"]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _written_error_problems(recorded: str, local: str) -> list[str]:
    """An error answer, whole: what it says, and written the same to the byte (but for a crash's ids and paths)."""
    theirs = json.loads(recorded)
    problems = _error_problems(theirs, _json(local))
    if problems or "exception" in theirs or local == recorded:
        return problems
    return [f"error {local[:300]!r} reads the same, but is written otherwise than {recorded[:300]!r}"]


def _error_problems(theirs: Any, ours: Any) -> list[str]:
    """An error answer: the same, but for what differs per run (exception ids, paths on the server)."""
    if "exception" in theirs:  # REL1_39's crash: its id and file paths are the server's own
        return shape_problems(theirs, ours) or ([] if ours["message"] == theirs["message"] else ["message differs"])
    return [] if ours == theirs else [f"error {json.dumps(ours)[:300]} where the wiki sent {json.dumps(theirs)[:300]}"]


def location_problems(recorded: str | None, local: str | None, swaps: Swaps) -> list[str]:
    if recorded is None or local is None:
        return [] if recorded == local else [f"Location {local!r} where the wiki sent {recorded!r}"]
    wanted = swaps(recorded)
    return [] if wanted == local else [f"Location {local!r} where the wiki sent (swapped) {wanted!r}"]


def learn_location(recorded: str | None, local: str | None, swaps: Swaps) -> None:
    """The values a redirect hands over (a verifier, a code): recorded run's → local run's."""
    if not recorded or not local:
        return
    theirs = dict(parse_qsl(urlsplit(recorded).query))
    ours = dict(parse_qsl(urlsplit(local).query))
    for key in ("oauth_verifier", "oauth_token", "code"):
        swaps.learn(theirs.get(key), ours.get(key))


def learn_body(recorded: Any, local: requests.Response, swaps: Swaps) -> dict[str, str]:
    """The tokens an answer hands over, recorded → local; returns the local ones by name."""
    if not isinstance(recorded, str):
        return {}
    found: dict[str, str] = {}
    if recorded.startswith("oauth_token="):
        theirs, ours = dict(parse_qsl(recorded)), dict(parse_qsl(local.text))
        found = {k: v for k, v in ours.items() if k in ("oauth_token", "oauth_token_secret")}
        swaps.learn(theirs.get("oauth_token"), ours.get("oauth_token"))
    elif recorded.startswith("{"):
        theirs, ours = json.loads(recorded), _json(local.text) or {}
        for key in ("key", "secret", "access_token", "refresh_token"):
            if isinstance(ours, dict) and key in ours:
                found[key] = str(ours[key])
                if isinstance(theirs, dict):
                    swaps.learn(str(theirs.get(key) or ""), str(ours[key]))
        for kind in ("logintoken", "csrftoken"):
            theirs_token = re.search(rf'"{kind}":"([^"]+)"', recorded)
            ours_token = re.search(rf'"{kind}":"([^"]+)"', local.text)
            if theirs_token and ours_token:
                # "<hex>+\\": the hex part, which reads the same in a form body ("%2B%5C") and in JSON
                swaps.learn(_unjson(theirs_token[1]).removesuffix("+\\"), _unjson(ours_token[1]).removesuffix("+\\"))
                found[kind] = _unjson(ours_token[1])
    return found


def _unjson(value: str) -> str:
    return json.loads(f'"{value}"')


def _normalized(text: str) -> str:
    """A 1.39 case's text without what belongs to one run: keys and tokens, codes, nonces and timestamps."""
    text = re.sub(r"def50200[0-9a-f]+", "<code>", text)
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", "<key>", text)
    return re.sub(r"\d{9,}", "<n>", text)


def _cut(text: str) -> str:
    """A normalized text the recording cut short, without the key it may have cut in two (no longer <key>)."""
    return re.sub(r"[0-9a-f]{6,}$", "", text)


def case_problems(recorded: dict[str, Any], local: requests.Response | dict[str, Any], swaps: Swaps,
                  truncated: bool) -> list[str]:  # fmt: skip
    """A recorded 1.39 case (status, content type, body, maybe Location) against the local answer.

    ``truncated``: the recording kept only the start of bodies and Locations, so those are prefixes.
    """
    if isinstance(local, dict):  # a whole flow's outcome, recorded as such
        return [] if local == recorded else [f"{local} where the wiki's flow gave {recorded}"]
    problems = []
    if local.status_code != int(recorded["status"]):
        problems.append(f"status {local.status_code} where the wiki answered {recorded['status']}")
    content_type = recorded.get("content_type") or recorded.get("ctype")
    if content_type and local.headers.get("Content-Type") != content_type:
        problems.append(f"Content-Type {local.headers.get('Content-Type')!r}, not {content_type!r}")
    if (
        recorded.get("MediaWiki-API-Error")
        and local.headers.get("MediaWiki-API-Error") != recorded["MediaWiki-API-Error"]
    ):
        problems.append(f"MediaWiki-API-Error {local.headers.get('MediaWiki-API-Error')!r}")
    location = recorded.get("Location", recorded.get("location"))
    if location is not None:
        theirs, ours = _normalized(swaps(location) or ""), _normalized(local.headers.get("Location", ""))
        if not (ours.startswith(_cut(theirs)) if truncated and theirs else ours == theirs):
            problems.append(f"Location {ours!r} where the wiki sent {theirs!r}")
    return problems + _case_body_problems(str(recorded["body"]), local, swaps, truncated)


def _case_body_problems(recorded: str, local: requests.Response, swaps: Swaps, truncated: bool) -> list[str]:
    recorded = swaps(recorded) or ""
    if recorded.startswith("[HTML page] "):
        title, _, words = recorded.removeprefix("[HTML page] ").partition(" :: ")
        ours = page_title_and_text(local.text)
        return [] if ours == (title, words) else [f"page {ours} where the wiki showed {(title, words)}"]
    if recorded.lower().startswith("<!doctype html>\n<html"):  # a whole page, cut: its title
        want = page_title_and_text(recorded)[0]
        ours = page_title_and_text(local.text)[0]
        return [] if ours == want else [f"page title {ours!r} where the wiki's was {want!r}"]
    crash = re.match(r'\{"message":"([^"]+)"', recorded)
    if crash and "exception" in recorded:  # REL1_39's crash: the message; its id and paths are the server's
        ours_crash = re.match(r'\{"message":"([^"]+)"', local.text)
        return (
            [] if ours_crash and ours_crash[1] == crash[1] else [f"body {local.text[:200]!r}: not the recorded crash"]
        )
    theirs = _json(recorded)
    if theirs is not None and not recorded.startswith("eyJ"):
        if "error" in theirs or "exception" in theirs:
            return _written_error_problems(_normalized(recorded), _normalized(local.text))
        return shape_problems(theirs, _json(local.text))
    if recorded.startswith("eyJ") and _jwt_parts(recorded) is None:  # identify's JWT, cut short
        return _cut_jwt_problems(recorded, local.text)
    if recorded.startswith("{") and theirs is None:  # JSON cut short
        return _cut_json_problems(recorded, _json(local.text))
    if recorded.startswith(("eyJ", "oauth_token=")):
        return body_problems(recorded, local, swaps)
    ours, want = _normalized(local.text), _normalized(recorded)
    if ours == want or ours.startswith(_cut(want)):  # the 1.39 recordings cut long bodies short
        return []
    return [f"body {ours[:200]!r} where the wiki sent {want[:200]!r}"]


# -- bodies the 1.39 recordings cut short ----------------------------------------------------------------

_JSON_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(-?\d[\d.eE+-]*|true|false|null)|([{}\[\],:]))')


def _json_events(text: str) -> list[tuple[str, str, Any]]:
    """JSON text, whole or cut short, as what a reader meets in order: (path, type, value) for each object,
    array and value whole in the text (a number or literal the text ends in may be cut: left out), the
    value given only under an EXACT key."""
    events: list[tuple[str, str, Any]] = []
    stack: list[list[Any]] = []  # [kind, key or index, expecting a key]
    pos = 0
    while match := _JSON_TOKEN.match(text, pos):
        pos = match.end()
        string, scalar, punctuation = match.groups()
        top = stack[-1] if stack else None
        if punctuation in (":", None) and string and top and top[0] == "{" and top[2]:
            top[1], top[2] = json.loads(string), False
            continue
        if punctuation == ",":
            if top and top[0] == "{":
                top[2] = True
            elif top:
                top[1] += 1
            continue
        if punctuation in ("}", "]"):
            stack.pop()
            continue
        if punctuation == ":":
            continue
        path = [str(entry[1]) for entry in stack]
        value = json.loads(string or scalar) if punctuation is None else None
        kind = {"{": "dict", "[": "list"}.get(punctuation or "", _type(value))
        events.append((".".join(path), kind, value if any(p in EXACT for p in path) else None))
        if punctuation:
            stack.append([punctuation, None if punctuation == "{" else 0, punctuation == "{"])
        elif scalar and pos == len(text):
            events.pop()
    return events


def _cut_json_problems(recorded: str, local: Any) -> list[str]:
    """A JSON body the recording cut short: the local one must read the same as far as the recorded one goes;
    an access token (a JWT) the recording cut, by as much of it as was kept."""
    theirs = _json_events(recorded)
    ours = _json_events(json.dumps(local))[: len(theirs)]
    if ours != theirs:
        return [f"body reads {ours} where the wiki's (cut short) read {theirs}"]
    token = re.search(r'"access_token":"(eyJ[^"]*)$', recorded)
    return _cut_jwt_problems(token[1], str(local.get("access_token"))) if token and isinstance(local, dict) else []


def _cut_jwt_problems(recorded: str, local: str) -> list[str]:
    """Identify's JWT, cut short: the same header, and claims that read the same as far as the recorded ones go."""
    ours = _jwt_parts(local)
    if ours is None:
        return ["not a JWT"]
    header, _, payload = recorded.partition(".")
    payload = payload.split(".", 1)[0]
    theirs_header = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    if ours[0] != theirs_header:
        return [f"JWT header {ours[0]} where the wiki's was {theirs_header}"]
    claims = base64.urlsafe_b64decode(payload[: len(payload) // 4 * 4]).decode("utf-8", "ignore")
    return _cut_json_problems(claims, ours[1])
