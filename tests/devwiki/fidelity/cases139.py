"""Every recorded MediaWiki 1.39 case (mediawiki-1.39-oauth-responses.json and -more-responses.json),
rebuilt from its name as a request to the local wiki mirroring that wiki (``wiki139``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jwt as pyjwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .wiki139 import CALLBACK, CLIENT, CLIENT2, CONSUMER, PUBLIC, REDIRECT2, Wiki139

Case = Callable[[Wiki139], Any]
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
EVIL = "http://evil.example/complete/mediawiki/"
OTHER = "http://127.0.0.1:8000/complete/other/"


def _reused_token(w: Wiki139, fmt: str | None) -> requests.Response:
    key, secret, verifier = w.authorized()
    w.token(key, secret, verifier)
    return w.token(key, secret, verifier, fmt)


def _wrong_verifier(w: Wiki139, fmt: str | None) -> requests.Response:
    key, secret, _verifier = w.authorized()
    return w.token(key, secret, "0" * 32, fmt)


def _right_after_wrong(w: Wiki139) -> requests.Response:
    key, secret, verifier = w.authorized()
    w.token(key, secret, "0" * 32)
    return w.token(key, secret, verifier)


def _never_authorized(w: Wiki139) -> requests.Response:
    answer = w.initiate().json()
    return w.token(answer["key"], answer["secret"], "0" * 32)


def _cancel(w: Wiki139) -> requests.Response:
    key = w.initiate().json()["key"]
    alice = w.browser()
    page = alice.get(w.authorize_url(key), timeout=5)
    fields = dict(HIDDEN.findall(page.text))
    return alice.post(f"{w.index}/Special:OAuth/authorize", data={**fields, "cancel": "Cancel"}, timeout=5)


def _allow_prefixed(w: Wiki139) -> requests.Response:
    key = w.initiate(CALLBACK + "?next=/foo").json()["key"]
    return _press(w, w.browser(), w.authorize_url(key))


def _press(w: Wiki139, session: requests.Session, url: str) -> requests.Response:
    page = session.get(url, timeout=5)
    fields = dict(HIDDEN.findall(page.text))
    return session.post(f"{w.index}/Special:OAuth/authorize", data={**fields, "accept": "Allow"}, allow_redirects=False,
                        timeout=5)  # fmt: skip


def _replayed_userinfo(w: Wiki139) -> requests.Response:
    access = w.handshake()
    timestamp, nonce = str(int(time.time())), "165809012570911760521795893976"
    w.userinfo(w.signed(access, nonce=nonce, timestamp=timestamp))
    return w.userinfo(w.signed(access, nonce=nonce, timestamp=timestamp))


def _replayed_identify(w: Wiki139) -> requests.Response:
    access = w.handshake()
    timestamp, nonce = str(int(time.time())), "80059526760555082451795893976"
    w.identify(access, nonce=nonce, timestamp=timestamp)
    return w.identify(access, nonce=nonce, timestamp=timestamp)


def _revoked(w: Wiki139, identify: bool) -> requests.Response:
    access = w.handshake()
    w.wiki.control("revoke", consumer_key=CONSUMER[0], user="Alice")
    return w.identify(access) if identify else w.userinfo(w.signed(access))


def _oauth2_revoked(w: Wiki139, profile: bool) -> requests.Response:
    tokens = w.tokens()
    w.wiki.control("oauth2_revoke", client_id=CLIENT[0], user="Alice")
    if profile:
        return w.profile(tokens["access_token"])
    return w.userinfo(headers={"Authorization": f"Bearer {tokens['access_token']}"})


def _cancel_oauth2(w: Wiki139) -> requests.Response:
    from mwsso_devwiki.testing import authorize_oauth2

    return authorize_oauth2(None, w.o2_url(redirect_uri=CALLBACK, state="st"), user="Alice", action="cancel")


def _foreign_key(w: Wiki139) -> requests.Response:
    token = w.tokens()["access_token"]
    claims = pyjwt.decode(token, options={"verify_signature": False})
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return w.profile(pyjwt.encode(claims, foreign, algorithm="RS256", headers={"typ": "JWT"}))


def _tampered(w: Wiki139) -> requests.Response:
    header, claims, signature = w.tokens()["access_token"].split(".")
    return w.profile(f"{header}.{claims}.{signature[:-4]}+/+/")


def _after_refresh(w: Wiki139, reuse: bool) -> requests.Response:
    tokens = w.tokens()
    w.refresh(tokens["refresh_token"])
    return w.refresh(tokens["refresh_token"]) if reuse else w.profile(tokens["access_token"])


def _refresh_after_70s(w: Wiki139) -> requests.Response:
    tokens = w.tokens()
    w.wiki.control("set_clock", offset=70)
    try:
        return w.refresh(tokens["refresh_token"])
    finally:
        w.wiki.control("set_clock", offset=0)


def _blocked(w: Wiki139, oauth2: bool) -> dict[str, Any]:
    if oauth2:
        blocked = w.profile(w.tokens("Mallory")["access_token"]).json()["blocked"]
    else:
        blocked = pyjwt.decode(w.identify(w.handshake("Mallory")).text, options={"verify_signature": False})["blocked"]
    return {"result": "completed", "blocked": blocked}


def _signed_in(w: Wiki139, url: str) -> requests.Response:
    return w.browser().get(url, allow_redirects=False, timeout=5)


CASES: dict[str, Case] = {
    "1a initiate, wrong consumer secret (bad signature), format=json": lambda w: w.initiate(secret="wrong"),
    "1b initiate, wrong consumer secret (bad signature), no format": lambda w: w.initiate(secret="wrong", fmt=None),
    "1c initiate, unknown consumer key, format=json": lambda w: w.initiate(key="f" * 32),
    "1d initiate, callback not matching registered prefix, format=json": lambda w: w.initiate(OTHER),
    "1e initiate OK, no format (raw body)": lambda w: w.initiate(fmt=None),
    "1f initiate OK with prefix-extended callback, format=json": lambda w: w.initiate(CALLBACK + "?next=/foo"),
    "1g authorize Allow with prefix-extended callback -> redirect": _allow_prefixed,
    "1h initiate via http://localhost:8080 (host differs from $wgServer)": lambda w: w.initiate(
        url=w.special("initiate").replace("127.0.0.1", "localhost")
    ),
    "2a token, REUSED request token (already exchanged), format=json": lambda w: _reused_token(w, "json"),
    "2b token, REUSED request token, no format": lambda w: _reused_token(w, None),
    "2c token, unknown request token, format=json": lambda w: w.token("0" * 32, "0" * 32, "0" * 32),
    "3a token, WRONG verifier, format=json": lambda w: _wrong_verifier(w, "json"),
    "3b token, wrong verifier, no format": lambda w: _wrong_verifier(w, None),
    "3c token, then CORRECT verifier after a wrong one (is the request token burned?)": _right_after_wrong,
    "3d token, request token never authorized (no verifier issued)": lambda w: _never_authorized(w),
    "3e token, correct verifier but wrong request-token secret (bad signature)": lambda w: (
        lambda key, _secret, verifier: w.token(key, "0" * 32, verifier)
    )(*w.authorized()),
    "4a authorize: user presses Cancel": _cancel,
    "4b authorize page with unknown oauth_token": lambda w: w.browser().get(w.authorize_url("0" * 32), timeout=5),
    "4c authorize page, not logged in": lambda w: requests.get(
        w.authorize_url(w.initiate().json()["key"]), allow_redirects=False, timeout=5
    ),
    "4d authorize: press Allow on unknown oauth_token": lambda w: _press(w, w.browser(), w.authorize_url("0" * 32)),
    "4e authorize page with wrong oauth_consumer_key": lambda w: w.browser().get(
        w.authorize_url("0" * 32, "e" * 32), timeout=5
    ),
    "5a identify OK (valid token) [raw JWT body]": lambda w: w.identify(w.handshake()),
    "5b api userinfo, BOGUS access token": lambda w: w.userinfo(w.signed(("0" * 32, "0" * 40))),
    "5c identify, BOGUS access token": lambda w: w.identify(("0" * 32, "0" * 40)),
    "5d api userinfo, valid token key but WRONG token secret (bad signature)": lambda w: w.userinfo(
        w.signed((w.handshake()[0], "0" * 40))
    ),
    "5e identify, valid token but WRONG consumer secret": lambda w: w.identify(w.handshake(), secret="wrong"),
    "5f api userinfo, REPLAYED request (same nonce+timestamp)": _replayed_userinfo,
    "5g api userinfo, timestamp 1 hour old": lambda w: w.userinfo(
        w.signed(w.handshake(), timestamp=str(int(time.time()) - 3600))
    ),
    "5h identify, REPLAYED request (same nonce)": _replayed_identify,
    "6a identify with REVOKED access token": lambda w: _revoked(w, identify=True),
    "6b api userinfo with REVOKED access token": lambda w: _revoked(w, identify=False),
    "7a oauth2 authorize, WRONG redirect_uri": lambda w: _signed_in(w, w.o2_url(redirect_uri=OTHER, state="st")),
    "7b oauth2 authorize, unknown client_id": lambda w: _signed_in(w, w.o2_url("0" * 32, redirect_uri=CALLBACK)),
    "7c oauth2 authorize, not logged in": lambda w: requests.get(
        w.o2_url(redirect_uri=CALLBACK, state="st123"), allow_redirects=False, timeout=5
    ),
    "8a access_token OK": lambda w: w.redeem(w.code()),
    "8b access_token, REUSED code": lambda w: (lambda code: (w.redeem(code), w.redeem(code))[1])(w.code()),
    "8c access_token, BOGUS code": lambda w: w.redeem("bogus"),
    "8d access_token, WRONG client_secret": lambda w: w.redeem(w.code(), client_secret="wrong"),
    "8e access_token, WRONG redirect_uri": lambda w: w.redeem(w.code(), redirect_uri=OTHER),
    "8f access_token, no client_secret (confidential client)": lambda w: w.redeem(w.code(), client_secret=None),
    "8g access_token via HTTP Basic client auth": lambda w: w.token_request(
        {"grant_type": "authorization_code", "code": w.code(), "redirect_uri": CALLBACK}, headers=w.basic(CLIENT)
    ),
    "9a resource/profile, BOGUS bearer token": lambda w: w.profile("bogus"),
    "9b resource/profile, no Authorization header": lambda w: w.profile(None),
    "9c api userinfo, BOGUS bearer token": lambda w: w.userinfo(headers={"Authorization": "Bearer bogus"}),
    "10a oauth2 approve page: user presses Cancel": _cancel_oauth2,
    "10b oauth2 refresh_token REUSED": lambda w: _after_refresh(w, reuse=True),
    "10c resource/profile, tampered JWT signature": _tampered,
    "10d resource/profile with REVOKED oauth2 access token": lambda w: _oauth2_revoked(w, profile=True),
    "10e api userinfo with REVOKED oauth2 access token": lambda w: _oauth2_revoked(w, profile=False),
    "10f resource/profile, JWT re-signed with a foreign RSA key (bad signature)": _foreign_key,
    "11a authorize page as a BLOCKED user": lambda w: w.browser("Mallory").get(
        w.authorize_url(w.initiate().json()["key"]), timeout=5
    ),
    "12a oauth2 resource/profile with OLD access token after a refresh_token grant": lambda w: _after_refresh(
        w, reuse=False
    ),
    "12b oauth2 refresh_token grant 70 s after issue (default $wgOAuth2RefreshTokenTTL = PT1M)": _refresh_after_70s,
}


def _o2_authorize(w: Wiki139, client: tuple[str, str] = CLIENT2, **params: str | None) -> requests.Response:
    """As these cases were recorded: client_id last; a parameter given as None left out."""
    defaults: dict[str, str | None] = {"redirect_uri": REDIRECT2, "state": "st", "scope": "basic editpage"}
    sent = {k: v for k, v in {**defaults, **params}.items() if v is not None}
    return _signed_in(
        w, f"{w.rest}/oauth2/authorize?{urlencode({'response_type': 'code', **sent, 'client_id': client[0]})}"
    )


MORE_CASES: dict[str, Case] = {
    "initiate callback=http://127.0.0.1:8000/complete/other/": lambda w: w.initiate(OTHER, fmt=None),
    "initiate callback=http://evil.example/complete/mediawiki/": lambda w: w.initiate(EVIL, fmt=None),
    "initiate callback=oob": lambda w: w.initiate("oob", fmt=None),
    "initiate callback=http://127.0.0.1:8000/complete/mediawiki/?next=%2Fhome": lambda w: w.initiate(
        CALLBACK + "?next=%2Fhome", fmt=None
    ),
    "initiate bad callback format=json": lambda w: w.initiate(EVIL),
    "initiate good callback format=json": lambda w: w.initiate(),
    "initiate wrong secret": lambda w: w.initiate(secret="wrong", fmt=None),
    "identify bogus token": lambda w: w.identify(("0" * 32, "0" * 40)),
    "blocked user oauth1": lambda w: _blocked(w, oauth2=False),
    "blocked user oauth2": lambda w: _blocked(w, oauth2=True),
    "oauth2 authorize: public client without code_challenge": lambda w: _o2_authorize(w, PUBLIC),
    "oauth2 authorize: confidential, wrong redirect_uri": lambda w: _o2_authorize(w, redirect_uri=OTHER),
    "oauth2 authorize: confidential, redirect_uri with extra path": lambda w: _o2_authorize(
        w, redirect_uri=REDIRECT2 + "sub?x=1"
    ),
    "oauth2 authorize: confidential, no redirect_uri": lambda w: _o2_authorize(w, redirect_uri=None),
    "oauth2 authorize: confidential, no scope": lambda w: _o2_authorize(w, scope=None),
    "oauth2 authorize: confidential, scope not granted (highvolume)": lambda w: _o2_authorize(
        w, scope="basic highvolume"
    ),
    "oauth2 authorize: unknown client": lambda w: _o2_authorize(w, ("0" * 32, "")),
    "oauth2 token bogus code": lambda w: w.redeem("bogus"),
    "oauth2 token wrong secret": lambda w: w.redeem("bogus", client_secret="wrong"),
    "oauth2 client_credentials (not allowed for client)": lambda w: w.token_request(
        {"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
    ),
    "oauth2 profile bogus bearer": lambda w: w.profile("bogus"),
    "oauth2 profile no bearer": lambda w: w.profile(None),
}
