"""mwsso's own HMAC-SHA1 signer (mwsso.protocol.signature) against two independent references.

- oauthlib (what requests-oauthlib users sign with, and what mwsso signed with before): for the same nonce
  and timestamp every ``oauth_*`` parameter, the signature included, must be identical;
- Extension:OAuth's rules as the local wiki ports them from the PHP (tests/php_oauth.py): the wiki accepts
  the signature, and refuses it under another secret.

The requests are generated (a fixed seed: the same cases every run) over what an API call or a handshake can
send: Unicode, reserved characters, MediaWiki's U+001F separator, repeated and empty values, form bodies,
default and other ports, upper-case hosts, IPv6 addresses.
"""

from __future__ import annotations

import io
import random
import string
import tracemalloc
from urllib.parse import unquote

import pytest
import requests
from requests_oauthlib import OAuth1

from mwsso.protocol import signature
from mwsso.protocol.oauth1 import Consumer, TokenPair, signing_auth
from tests import php_oauth

ALPHABET = string.ascii_letters + string.digits + " -._~!*'();:@&=+$,/?#[]%|\x1f\u00e9\u00fc\u4e2d\U0001f600\n"
URLS = (
    "http://127.0.0.1:8001/w/api.php",
    "https://Example.ORG:443/w/api.php",
    "HTTP://wiki.example:80/api.php",
    "https://wiki.example:8443/mediawiki/api.php",
    "https://[::1]:8443/w/api.php",
    "https://[::1]/w/api.php",
    "https://meta.wikimedia.org/w/index.php?title=Special:OAuth/initiate&format=json",
)
NONCE, TIMESTAMP = "4572616e48616d6d65724c61686176", 1700000000


def _text(rnd: random.Random, longest: int) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, longest)))


def _case(number: int, *, api_names: bool = False) -> tuple[requests.PreparedRequest, signature.HmacSha1Auth]:
    """Request ``number`` and its auth. ``api_names``: parameter names as MediaWiki's API has them (PHP's
    ``$_GET`` renames "." and " " in names and keeps only the last of a repeated name, so other names are
    no request a wiki could verify, with any client)."""
    rnd = random.Random(number)
    if api_names:
        names = rnd.sample(("action", "meta", "titles", "text", "summary", "tags", "token", "prop", "list"), 5)
        params = [(name, _text(rnd, 14)) for name in names[: rnd.randint(0, 5)]]
    else:
        params = [(_text(rnd, 6) or "p", _text(rnd, 14)) for _ in range(rnd.randint(0, 7))]
        if params and rnd.random() < 0.3:
            params.append((params[0][0], _text(rnd, 5)))  # a repeated name: sorted by value too
    method = rnd.choice(("GET", "POST"))
    url = rnd.choice(URLS)
    prepared = requests.Request(
        method, url, params=params if method == "GET" else None, data=params if method == "POST" else None
    ).prepare()
    token = rnd.random() < 0.8
    auth = signature.HmacSha1Auth(
        "ck" + _text(rnd, 8),
        _text(rnd, 12),
        "tk" + _text(rnd, 8) if token else None,
        _text(rnd, 12) if token else None,
        callback=rnd.choice((None, "oob", "http://127.0.0.1:8000/complete/mediawiki/?a=b c")),
        verifier=rnd.choice((None, "v" + _text(rnd, 6))),
        nonce=NONCE,
        clock=lambda: TIMESTAMP,
    )
    return prepared, auth


def _oauth_params(header: str | bytes) -> dict[str, str]:
    text = header.decode() if isinstance(header, bytes) else header
    assert text.startswith("OAuth ")
    pairs = (item.split("=", 1) for item in text[len("OAuth ") :].split(", "))
    return {unquote(name): unquote(value.strip('"')) for name, value in pairs}


CASES = range(400)


@pytest.mark.parametrize("number", CASES[::50])
def test_a_case_is_what_it_says(number: int) -> None:
    # The generator itself: a case signs, and carries the parameters it was built with.
    prepared, auth = _case(number)
    signed = auth(prepared.copy())
    assert _oauth_params(signed.headers["Authorization"])["oauth_consumer_key"] == auth.consumer_key


def test_every_generated_request_signs_exactly_as_oauthlib_does() -> None:
    differing = []
    for number in CASES:
        prepared, auth = _case(number)
        ours = _oauth_params(auth(prepared.copy()).headers["Authorization"])
        reference = OAuth1(
            auth.consumer_key, auth.consumer_secret, auth.token_key, auth.token_secret,
            callback_uri=auth.callback, verifier=auth.verifier, nonce=NONCE, timestamp=str(TIMESTAMP),
            signature_type="AUTH_HEADER",
        )  # fmt: skip
        theirs = _oauth_params(reference(prepared.copy()).headers["Authorization"])
        if ours != theirs:
            differing.append((number, prepared.method, prepared.url))
    assert differing == []


def test_every_generated_request_passes_the_extensions_signature_check_and_fails_under_another_secret() -> None:
    refused, accepted_forged = [], []
    for number in CASES:
        prepared, auth = _case(number, api_names=True)
        signed = auth(prepared.copy())
        # Extension:OAuth builds the base string URI from $wgServer and the request path.
        server = signed.url.split("/")[0] + "//" + signed.url.split("/")[2]  # type: ignore[union-attr]
        token_secret = auth.token_secret or ""
        if not php_oauth.signature_is_valid(server, signed, auth.consumer_secret, token_secret):
            refused.append(number)
        if php_oauth.signature_is_valid(server, signed, auth.consumer_secret + "x", token_secret):
            accepted_forged.append(number)
    assert refused == [] and accepted_forged == []


def test_rfc_5849_base_string_example() -> None:
    # RFC 5849 section 3.4.1.1: a form body, an encoded query with an empty value, a name that needs encoding.
    prepared = requests.Request(
        "POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", data="c2&a3=2+q",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).prepare()  # fmt: skip
    oauth = [
        ("oauth_consumer_key", "9djdj82h48djs9d2"), ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131201"), ("oauth_nonce", "7d8f3e4a"),
    ]  # fmt: skip
    parameters = signature.request_parameters(prepared.url or "", prepared.body, "application/x-www-form-urlencoded")
    assert signature.signature_base_string("post", prepared.url or "", [*parameters, *oauth]) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D"
        "%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1"
        "%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_rfc_5849_signature_example() -> None:
    # RFC 5849 section 1.2: the printer's GET of a photo (its parameters carry no oauth_version).
    oauth = [
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"), ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131202"), ("oauth_nonce", "chapoH"),
    ]  # fmt: skip
    url = "http://photos.example.net/photos?file=vacation.jpg&size=original"
    base = signature.signature_base_string("GET", url, [*signature.request_parameters(url, None, ""), *oauth])
    assert signature.hmac_sha1(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == "MdpQcU8iPSUjWoN/UDMsK2sui9I="


def test_base_string_uri_follows_section_3_4_1_2() -> None:
    assert signature.base_string_uri("HTTP://Example.COM:80/r%20v/X?id=123") == "http://example.com/r%20v/X"
    assert signature.base_string_uri("https://www.example.net:8080/?q=1") == "https://www.example.net:8080/"
    assert signature.base_string_uri("https://www.example.net:443") == "https://www.example.net/"
    assert signature.base_string_uri("https://user@[::1]:443/w/api.php") == "https://[::1]/w/api.php"
    assert signature.base_string_uri("http://[::1]:443/w/api.php") == "http://[::1]:443/w/api.php"


def test_a_multipart_body_is_not_signed_and_a_form_body_is() -> None:
    auth = signature.HmacSha1Auth("ck", "cs", "tk", "ts", nonce=NONCE, clock=lambda: TIMESTAMP)
    url = "https://wiki.example/w/api.php"
    form = requests.Request("POST", url, data={"action": "upload", "filename": "a.png"}).prepare()
    multipart = requests.Request(
        "POST", url, data={"action": "upload", "filename": "a.png"}, files={"file": ("a.png", b"\x89PNG")}
    ).prepare()
    bare = requests.Request("POST", url).prepare()
    signed = {name: _oauth_params(auth(r.copy()).headers["Authorization"])["oauth_signature"] for name, r in
              (("form", form), ("multipart", multipart), ("bare", bare))}  # fmt: skip
    # Section 3.4.1.3.1: only an application/x-www-form-urlencoded body's parameters are signed.
    assert signed["multipart"] == signed["bare"] != signed["form"]


def test_each_request_gets_its_own_nonce_and_timestamp_and_the_auth_keeps_no_state() -> None:
    now = [1700000000.0]
    auth = signing_auth(Consumer("ck", "cs"), TokenPair("tk", "ts"))
    auth.clock = lambda: now[0]
    request = requests.Request("GET", "https://wiki.example/w/api.php", params={"action": "query"}).prepare()
    first = _oauth_params(auth(request.copy()).headers["Authorization"])
    now[0] += 61
    second = _oauth_params(auth(request.copy()).headers["Authorization"])
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert (first["oauth_timestamp"], second["oauth_timestamp"]) == ("1700000000", "1700000061")
    assert len(first["oauth_nonce"]) == 32 and first["oauth_signature"] != second["oauth_signature"]


def test_the_repr_shows_no_secret() -> None:
    auth = signing_auth(Consumer("ck", "consumer-secret"), TokenPair("token-key", "token-secret"), verifier="vvv")
    shown = repr(auth)
    assert "ck" in shown
    assert not any(secret in shown for secret in ("consumer-secret", "token-key", "token-secret", "vvv"))


def test_signing_keeps_no_copy_of_what_it_signed() -> None:
    # Values (edit texts, CSRF tokens, nonces) are never cached: a worker keeps nothing of the requests it
    # signed. (With every value cached, 30 edits of 100 KB kept 14.6 MB, and up to about 400 MB per worker.)
    auth = signature.HmacSha1Auth("ck", "cs", "tk", "ts")
    rnd = random.Random(1)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(30):
            text = "".join(rnd.choice(string.ascii_letters + " []|=\n") for _ in range(100_000))
            data = {"action": "edit", "title": f"Page {number}", "text": text, "token": "abc+\\"}
            auth(requests.Request("POST", "https://wiki.example/w/api.php", data=data).prepare())
            del text, data
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 1_000_000, f"{retained / 1e6:.1f} MB retained after signing 30 edits of 100 KB"


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded; charset=UTF-8", "Application/x-www-form-urlencoded", "text/plain"],
)
def test_a_body_is_signed_exactly_when_extension_oauth_reads_it(content_type: str) -> None:
    # MWOAuthRequest::fromRequest reads a POST body only when its Content-Type starts with the form type as
    # spelled; the signature covers the body's parameters exactly then (tests/php_oauth.py ports that rule).
    prepared = requests.Request(
        "POST", "https://wiki.example/w/api.php", data="a=1&b=2", headers={"Content-Type": content_type}
    ).prepare()
    signed = signature.HmacSha1Auth("ck", "cs", "tk", "ts")(prepared)
    assert php_oauth.signature_is_valid("https://wiki.example", signed, "cs", "ts")


def test_a_form_body_that_cannot_be_read_is_refused_not_signed_without_its_parameters() -> None:
    prepared = requests.Request(
        "POST", "https://wiki.example/w/api.php", headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).prepare()
    prepared.body = io.BytesIO(b"a=1&b=2")  # type: ignore[assignment]  # a stream, as requests sends a file
    with pytest.raises(TypeError, match="str or bytes"):
        signature.HmacSha1Auth("ck", "cs", "tk", "ts")(prepared)
