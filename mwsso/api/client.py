"""``Client``: the MediaWiki Action API, called as one user with their stored token.

Every request goes through the process's pooled session (``mwsso.http``) with
mwsso's timeout and User-Agent, carries ``format=json``, ``formatversion=2``,
``assert=user`` and ``maxlag``, is signed afresh on each attempt, and sends
writes as POST bodies so nothing secret lands in a URL. A client is cheap; make
one per request or task (it caches a CSRF token, so do not share it between
threads).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from mwsso import http, site_probe
from mwsso.api import tokens, wikis
from mwsso.api.errors import (
    APIError,
    BadResponse,
    BadToken,
    MaxLagExceeded,
    NotAllowedWiki,
    RateLimited,
    SignatureRejected,
    SiteMisconfigured,
    TokenInvalid,
    WikiUnavailable,
    error_class,
)
from mwsso.api.signing import Signer
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken
from mwsso.protocol import grants
from mwsso.protocol.common import printable
from mwsso.protocol.common import redact as scrub
from mwsso.protocol.identity import wiki_key
from mwsso.protocol.wikiurls import wiki_urls
from mwsso.tokens import verify

logger = logging.getLogger("mwsso.api")

RETRY_STATUSES = (429, 503)
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _BearerRefused(Exception):
    """The wiki refused an OAuth 2.0 access token: refresh once and retry before believing it."""


@dataclass(init=False, eq=False)
class Client:
    """Action API calls to ``api_url`` signed by ``signer``; ``token`` (if any) gets ``last_used`` and status updates.

    A dataclass for its repr only (the constructor is written out: ``sleep`` is a keyword, kept private): the
    signer and the token show their own reprs (fingerprints), the session's CSRF token is ``repr=False``.
    """

    api_url: str
    signer: Signer
    token: AccessToken | None
    _sleep: Callable[[float], None] = field(repr=False)
    _csrf: str | None = field(repr=False)
    _refreshed: bool = field(repr=False)

    def __init__(
        self,
        api_url: str,
        signer: Signer,
        *,
        token: AccessToken | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url
        self.signer = signer
        self.token = token
        self._sleep = sleep
        self._csrf: str | None = None
        self._refreshed = False

    @property
    def index_url(self) -> str:
        """The wiki's index.php beside ``api_url``, for links such as ``?oldid=<revid>``."""
        return wiki_urls(self.api_url).index

    # -- calls ------------------------------------------------------------
    def get(self, **params: Any) -> dict[str, Any]:
        """A read (``action=query``, ``parse``, …); parameters go in the URL."""
        return self.request("GET", params)

    def post(self, **params: Any) -> dict[str, Any]:
        """A write; parameters go in the form body.

        Pass ``token=client.csrf_token()``: if the wiki answers ``badtoken``, the client fetches a
        fresh CSRF token and retries once.
        """
        return self.request("POST", params)

    def request(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One API call with the defaults, retries and error mapping; returns the decoded JSON.

        With an OAuth 2.0 token the wiki answers an expired (or revoked) access token with
        ``mwoauth-invalid-authorization`` "Invalid access token": the token is refreshed once
        (``mwsso.tokens.refresh``) and the call made again.
        """
        try:
            return self._request(method, params)
        except _BearerRefused:
            self._refresh()
            return self._request(method, params)

    def _refresh(self) -> None:
        from mwsso.tokens.refresh import refresh_token

        assert self.token is not None
        self.token = refresh_token(self.token, seen_fingerprint=self.token.fingerprint, force=True)
        self.signer = tokens.signer_for(self.token)
        self._refreshed = True

    def _request(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._call(method, params)
        except BadToken:
            if self._csrf is None or params.get("token") != self._csrf:
                raise
            logger.info("badtoken from %s; fetching a fresh CSRF token and retrying once", self.api_url)
            self._csrf = None
            return self._call(method, {**params, "token": self.csrf_token()})

    def csrf_token(self) -> str:
        """The user's CSRF token on this wiki, fetched once per client."""
        if self._csrf is None:
            data = self.get(action="query", meta="tokens", type="csrf")
            token = ((data.get("query") or {}).get("tokens") or {}).get("csrftoken")
            if not isinstance(token, str) or token in ("", "+\\"):
                # "+\" is the anonymous token: the wiki did not see the user.
                raise BadResponse("mwsso-no-csrf-token", "the wiki sent no CSRF token for this user")
            self._csrf = token
        return self._csrf

    def edit(self, title: str, text: str, summary: str, **kw: Any) -> int | None:
        """Save ``text`` as ``title``; returns the new revision id (None when the text was already that).

        ``kw`` are further action=edit parameters (``baserevid``, ``minor``, ``createonly``, …);
        ``EditConflict`` is raised when ``baserevid``/``starttimestamp`` is stale.
        """
        data = self.post(action="edit", title=title, text=text, summary=summary, **kw, token=self.csrf_token())
        result = data.get("edit")
        if not isinstance(result, dict) or result.get("result") != "Success":
            # Captchas, abuse filters and spam blacklists answer "Failure" without an error.
            detail = result.get("result") if isinstance(result, dict) else "no edit result"
            raise APIError("mwsso-edit-failed", self._scrub(f"the wiki did not save the edit ({detail})"))
        if result.get("nochange"):
            return None
        try:
            return int(result["newrevid"])
        except (KeyError, TypeError, ValueError) as err:
            raise BadResponse("mwsso-bad-response", "the edit result has no newrevid") from err

    def query(self, **params: Any) -> Iterator[dict[str, Any]]:
        """``action=query`` following ``continue``: yields each response, fetching the next only when asked."""
        continuation: dict[str, Any] = {}
        seen: set[str] = set()
        while True:
            data = self.get(**{**params, **continuation, "action": "query"})
            yield data
            following = data.get("continue")
            if not isinstance(following, dict) or not following:
                return
            # Any repeat, not only the last one: a wiki alternating A, B, A, B would never end.
            key = json.dumps(following, sort_keys=True, default=str)
            if key in seen:
                raise BadResponse("mwsso-bad-continue", "the wiki sent a continuation it had sent before")
            seen.add(key)
            continuation = following

    # -- one call, with retries -------------------------------------------
    def _call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {
            "format": "json",
            "formatversion": 2,
            "assert": "user",
            "maxlag": app_settings.API_MAXLAG,
        }
        merged.update(params)
        encoded = encode_params(merged)
        action = encoded.get("action", "?")
        max_retries = max(0, app_settings.API_MAX_RETRIES)
        for attempt in range(max_retries + 1):
            response = self._send(method, encoded)
            status = response.status_code
            if status in RETRY_STATUSES:
                data, error, retry_why = {}, None, f"HTTP {status}"
            else:
                data = self._decode(response)
                error = _error_of(data)
                retry_why = "maxlag" if error is not None and error[0] == "maxlag" else ""
            if retry_why and attempt < max_retries:
                wait = retry_wait(response, attempt, app_settings.API_MAX_RETRY_WAIT)
                logger.warning(
                    "%s %s action=%s: %s, retry %d/%d in %.1f s",
                    method, self.api_url, action, retry_why, attempt + 1, max_retries, wait,
                )  # fmt: skip
                self._sleep(wait)
                continue
            if status in RETRY_STATUSES:
                cls = RateLimited if status == 429 else WikiUnavailable
                info = f"the wiki answered HTTP {status} after {attempt + 1} attempts"
                raise cls(f"http-{status}", info, http_status=status)
            if error is not None:
                raise self._error(error[0], error[1], data, status)
            if self.token is not None:
                tokens.touch(self.token)
            logger.debug("%s %s action=%s: ok", method, self.api_url, action)
            return data
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send(self, method: str, encoded: dict[str, str]) -> requests.Response:
        try:
            # The signer's auth signs each attempt afresh: a new nonce and timestamp for every request.
            return http.send_fields(method, self.api_url, encoded, auth=self.signer.auth())
        except requests.Timeout as err:
            raise WikiUnavailable("mwsso-timeout", f"{self.api_url} did not answer in time") from err
        except requests.exceptions.ContentDecodingError as err:
            # A body that cannot be decompressed, or larger than mwsso reads (mwsso.http.AnswerTooLarge).
            raise BadResponse("mwsso-bad-response", f"the answer could not be read ({type(err).__name__})") from err
        except requests.RequestException as err:
            raise WikiUnavailable(
                "mwsso-unreachable", f"{self.api_url} could not be reached ({type(err).__name__})"
            ) from err

    def _decode(self, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        try:
            # Strict UTF-8 (requests would guess another charset for bytes that are not); bounded nesting.
            data = json.loads(response.content)
            if _LONE_SURROGATE_ESCAPE.search(response.content):
                # "\ud800" is valid JSON but no page or database can encode it: refuse it here, not in a 500.
                json.dumps(data, ensure_ascii=False).encode()
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and (_error_of(data) is not None or 200 <= status < 300):
            return data
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        detail = f"HTTP {status}, {kind}, {len(response.content)} bytes"
        if status >= 500:
            raise WikiUnavailable(f"http-{status}", f"the wiki answered {detail}", http_status=status)
        if 300 <= status < 400:
            raise BadResponse("mwsso-redirect", f"the wiki redirected the API call ({detail})", http_status=status)
        raise BadResponse("mwsso-bad-response", f"the answer is not the API's JSON ({detail})", http_status=status)

    def _error(self, code: str, info: str, data: dict[str, Any], status: int) -> APIError:
        # The wiki's words go to exceptions, logs, a token's status reason and terminals: one line, no control characters.
        code, info = printable(self._scrub(code)), printable(self._scrub(info))
        if code == "mwoauth-invalid-authorization-wrong-wiki":
            # The consumer is limited to other wikis: nothing is wrong with the token.
            return NotAllowedWiki(code, info, http_status=status)
        if code.startswith("mwoauth-invalid-authorization"):
            return self._oauth_refusal(code, info, status)
        if code == "maxlag":
            error = data.get("error")
            return MaxLagExceeded(
                code, info, lag=error.get("lag") if isinstance(error, dict) else None, http_status=status
            )
        return error_class(code)(code, info, http_status=status)

    def _oauth_refusal(self, code: str, info: str, status: int) -> APIError:
        """What an OAuth refusal of api.php means; only the wiki's word on the grant changes the token."""
        kind = grants.classify(code, info)
        if kind != grants.REVOKED and not self._calls_tokens_own_wiki():
            # Another wiki of the farm: no local account there, a local block, or a host name
            # that is not that wiki's $wgServer. The token still works on its own wiki; only a
            # revocation (the farm's shared grant is gone) is news about the token itself.
            return NotAllowedWiki(code, info, http_status=status)
        if self.token is not None and self.token.oauth_version == 2 and not self._refreshed:
            # An OAuth 2.0 access token the wiki no longer takes (expired early, rotated by another
            # machine's refresh): refresh once and retry before believing the refusal.
            raise _BearerRefused(code)
        new_status: str  # a Status value (TextChoices are str) or what tokens.invalidate wrote
        if kind in (grants.REVOKED, grants.USER):
            if self.token is None:
                new_status = AccessToken.Status.REVOKED if kind == grants.REVOKED else AccessToken.Status.INVALID
            else:
                new_status = tokens.invalidate(self.token, code, info)
            return TokenInvalid(code, info, status=new_status, http_status=status)
        consumer = getattr(self.signer, "consumer", None)
        if consumer is None:
            # OAuth 2: a bearer token is not signed; "Invalid access token" is the wiki's word on it.
            new_status = tokens.invalidate(self.token, code, info) if self.token is not None else "invalid"
            return TokenInvalid(code, info, status=new_status, http_status=status)
        index_url = self.index_url
        if self.token is None:
            check = site_probe.check_site(index_url, consumer)
            if not check.ok and check.conclusive:
                return SiteMisconfigured(
                    code, self._scrub(f"{info}; {check.message}"), cause=check.cause, http_status=status
                )
            return SignatureRejected(code, info, http_status=status)
        # The same decision as mwsso_tokens verify: the site first, then the wiki's word on the token (identify).
        new_status, reason, site_cause = verify.judge_refusal(index_url, consumer, code, info)
        if site_cause:
            return SiteMisconfigured(code, self._scrub(reason), cause=site_cause, http_status=status)
        if new_status == AccessToken.Status.ERROR:
            # A timestamp or nonce refusal while the site's own request passes: not the token's fault.
            return SignatureRejected(code, info, http_status=status)
        judged = verify.verify_token(self.token)  # identify: the wiki's word on the token itself
        if judged.site_fault:
            return SiteMisconfigured(code, self._scrub(judged.reason), cause=judged.site_cause, http_status=status)
        if judged.status in (AccessToken.Status.REVOKED, AccessToken.Status.INVALID):
            logger.warning(
                "access token %s of user %s on %s refused by the wiki (%s); marked %s",
                self.token.fingerprint, self.token.user_id, self.token.wiki, code, judged.status,
            )  # fmt: skip
            return TokenInvalid(code, info, status=judged.status, http_status=status)
        if judged.status != AccessToken.Status.VALID:
            return SignatureRejected(code, self._scrub(f"{info}; the token could not be checked: {judged.reason}"))
        # identify accepts the token and the consumer: this request's URL or signing was wrong, not the token.
        detail = f"{info}; the wiki accepts this site's consumer and this token at {index_url}, so the API URL or signing is wrong"
        return SignatureRejected(code, self._scrub(detail), http_status=status)

    def _scrub(self, text: str) -> str:
        return scrub(text, (*self.signer.secrets, self._csrf or ""))

    def _calls_tokens_own_wiki(self) -> bool:
        """Whether ``api_url`` is the wiki that issued ``token``: the same key (server and script path), from its
        URL or its stored key. A URL of ours built wrong (``http://host//api.php``) still names that wiki."""
        token = self.token
        if token is None:
            return True
        try:
            target = wiki_key(wikis.endpoint(self.api_url).api_url)
            home = {wiki_key(token.wiki_url)}
        except (wikis.InvalidWiki, ValueError):
            return True
        try:
            home.add(wiki_key(wikis.resolve(token.wiki, token.wiki_url).api_url))
        except (wikis.InvalidWiki, ValueError):
            pass
        return target in home


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Python values as the API reads them: lists joined with ``|``, True as ``1``, False and None left out."""
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None or value is False:
            continue  # the API treats any present boolean parameter as true
        if value is True:
            encoded[name] = "1"
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = [str(item) for item in value]
            # MediaWiki's alternative separator for values that contain "|" (U+001F prefix).
            encoded[name] = "\x1f" + "\x1f".join(items) if any("|" in item for item in items) else "|".join(items)
        else:
            encoded[name] = str(value)
    return encoded


def _error_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """(code, info) of an API error in the default or the ``errorformat=…`` shape, or None."""
    error = data.get("error")
    if isinstance(error, dict) and error.get("code"):
        return str(error["code"]), str(error.get("info") or "")
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("code"):
        first = errors[0]
        return str(first["code"]), str(first.get("text") or first.get("html") or first.get("*") or "")
    return None


def retry_wait(response: requests.Response, attempt: int, cap: float) -> float:
    """Seconds to wait before retrying: the wiki's ``Retry-After`` (seconds or HTTP date), else 1, 2, 4 …; at most ``cap``."""
    seconds = _retry_after(response.headers.get("Retry-After") or "")
    if seconds is None:
        seconds = float(2**attempt)
    return max(0.0, min(seconds, cap))


def _retry_after(header: str) -> float | None:
    try:
        return float(header)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, OverflowError):  # a date with a 20-digit year or offset overflows
        return None
    return when.timestamp() - time.time()
