"""Which credentials a recorded request was sent with: its Authorization header was redacted ("OAuth ...").

The recorder named every step after what it did ("oauth1 mwsso-test Alice: identify", "extras: api.php
userinfo, right token, WRONG consumer secret", "oauth2 confidential: old access token after refresh"),
so the step's name says which consumer, token and secret signed it; these rules read them. The tokens
themselves are the local run's, learned as the replay goes (``Flows``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from requests_oauthlib import OAuth1

from .mirror import CALLBACK, UNKNOWN_KEYS, Mirror

BOGUS_TOKEN = ("0" * 32, "0" * 40)
WRONG_SECRET = "wrong-secret"


@dataclass
class OAuth1Flow:
    """One handshake's local tokens: the request token, the verifier Allow gave, the access token."""

    request: tuple[str, str] | None = None
    verifier: str | None = None
    access: tuple[str, str] | None = None
    token_calls: int = 0


@dataclass
class Flows:
    """The local run's tokens by flow (a step name up to its colon), OAuth 1.0a and 2.0."""

    oauth1: dict[str, OAuth1Flow] = field(default_factory=dict)
    bearers: dict[str, list[str]] = field(default_factory=dict)  # flow → access tokens, oldest first
    registration_token: str = ""  # the owner-only OAuth 2.0 client's, shown at registration

    def flow(self, step: str) -> OAuth1Flow:
        return self.oauth1.setdefault(oauth1_flow(step), OAuth1Flow())


def oauth1_flow(step: str) -> str:
    """``oauth1 mwsso-test Alice: identify`` → ``oauth1 mwsso-test Alice``; an "extras" step is its own flow."""
    head, colon, _rest = step.partition(": ")
    return step if head == "extras" or not colon else head


def oauth2_flow(step: str) -> str:
    """The OAuth 2.0 sign-in a step continues (the refresh and reuse steps name it differently)."""
    head = step.partition(": ")[0]
    return {
        "oauth2 confidential": "oauth2 mwsso-oauth2 Alice",
        "oauth2 public": "oauth2 mwsso-oauth2-public Alice",
        "owner-only": "owner-only",
    }.get(head, head)


def _consumer(mirror: Mirror, step: str) -> dict[str, str]:
    names = sorted(mirror.consumers, key=len, reverse=True)
    if "identify-only consumer" in step:
        return next(mirror.consumers[n] for n in names if n in ("mwsso-identify", "mwsso-authonly"))
    named = next((n for n in names if f" {n} " in f" {step} "), "mwsso-test")
    return mirror.consumers[named]


def oauth1_auth(mirror: Mirror, flows: Flows, step: str, url: str) -> OAuth1:
    """The OAuth 1.0a signature the recorder made for ``step`` (a request to ``url``)."""
    spec = _consumer(mirror, step)
    key, secret = spec["key"], spec["secret"]
    if "unknown consumer key" in step:
        key = UNKNOWN_KEYS[0]
    if re.search(r"wrong secret|WRONG consumer secret", step):
        secret = WRONG_SECRET
    flow = flows.flow(step)
    if "Special%3AOAuth%2Finitiate" in url or "Special:OAuth/initiate" in url:
        callback = re.search(r"callback=(\S+)", step)
        chosen = (
            callback[1]
            if callback
            else ("http://evil.example/complete/mediawiki/" if "bad callback" in step else CALLBACK)
        )
        return OAuth1(key, secret, callback_uri=chosen)
    if "Special%3AOAuth%2Ftoken" in url or "Special:OAuth/token" in url:
        assert flow.request is not None, f"{step}: no request token in this flow"
        flow.token_calls += 1
        verifier = "wrong" if "wrong verifier" in step and flow.token_calls == 1 else flow.verifier
        return OAuth1(key, secret, *flow.request, verifier=verifier)
    return OAuth1(key, secret, *_access_token(flows, step, flow))


def _access_token(flows: Flows, step: str, flow: OAuth1Flow) -> tuple[str, str]:
    if "bogus" in step.lower():
        return BOGUS_TOKEN
    if step.startswith("revocation") or "right token" in step:
        flow = flows.oauth1["oauth1 mwsso-test Alice"]
    elif "identify-only consumer" in step:
        flow = next(f for name, f in flows.oauth1.items() if "mwsso-identify" in name or "mwsso-authonly" in name)
    assert flow.access is not None, f"{step}: no access token in this flow"
    return flow.access


def bearer(flows: Flows, step: str) -> str:
    """The access token (or bogus value) a recorded "Bearer ..." request carried."""
    if "bogus" in step:
        return "bogus"
    if 'empty "Bearer "' in step:
        return ""
    if "the token shown at registration" in step:
        return flows.registration_token
    tokens = flows.bearers.get(oauth2_flow(step), [])
    if "reauthorize: first" in step:
        return tokens[0]
    if "reauthorize: second access token" in step:
        return tokens[1]
    if "old access token" in step:
        return tokens[-2]
    return tokens[-1]


def basic(mirror: Mirror) -> str:
    """HTTP Basic client authentication: the recorder used it with the confidential client."""
    spec = mirror.clients["mwsso-oauth2"]
    return "Basic " + base64.b64encode(f"{spec['client_id']}:{spec['secret']}".encode()).decode()
