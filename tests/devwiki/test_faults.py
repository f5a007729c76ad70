"""Step faults (error, http500, html, drop, slow, garbage) on every step, and their counts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests

from .conftest import (
    TEST,
    api,
    authorize_url,
    authorized_request_token,
    browser,
    handshake,
    identify,
    initiate,
    signed,
    token_step,
)

STEPS = ["initiate", "token", "identify", "api", "authorize"]


def prepare(wiki, step: str, timeout: float = 5) -> Callable[[], requests.Response]:
    """Do what the step needs beforehand; return a call that performs the step itself."""
    if step == "initiate":
        return lambda: initiate(wiki)
    if step == "token":
        key, secret, verifier = authorized_request_token(wiki)
        return lambda: token_step(wiki, key, secret, verifier)
    if step == "identify":
        access = handshake(wiki)
        return lambda: identify(wiki, TEST, access)
    if step == "api":
        auth = signed(TEST, handshake(wiki))
        return lambda: api(wiki, {"action": "query", "meta": "userinfo"}, auth)
    key = initiate(wiki).json()["key"]
    alice = browser(wiki)  # signed in: an anonymous visitor would be sent to log in
    return lambda: alice.get(authorize_url(wiki, key), timeout=timeout)


def looks_normal(step: str, answer: requests.Response) -> bool:
    if step in ("initiate", "token"):
        return "key" in answer.json()
    if step == "identify":
        return answer.text.count(".") == 2 and answer.text.startswith("eyJ")
    if step == "api":
        return answer.json()["query"]["userinfo"]["name"] == "Alice"
    return 'id="mw-mwoauth-authorize-form"' in answer.text


@pytest.mark.parametrize("step", STEPS)
def test_error_is_the_wikis_own_error_format(wiki, step):
    call = prepare(wiki, step)
    wiki.control("set_fault", step=step, kind="error")
    answer = call()
    assert answer.status_code == 200
    if step == "api":
        assert answer.headers["MediaWiki-API-Error"] == "readonly"
        assert answer.json()["error"]["code"] == "readonly"
    elif step == "authorize":
        assert "Application Connection Error" in answer.text and "temporarily locked" in answer.text
    else:
        assert answer.json() == {
            "error": "mwoauth-db-readonly",
            "message": "The OAuth database is temporarily locked. Please try again in a few minutes.",
        }


@pytest.mark.parametrize("step", STEPS)
def test_http500_and_html_pages(wiki, step):
    call = prepare(wiki, step)
    wiki.control("set_fault", step=step, kind="http500", count=1)
    answer = call()
    assert (answer.status_code, answer.headers["Content-Type"]) == (500, "text/html; charset=UTF-8")
    wiki.control("set_fault", step=step, kind="html", count=1)
    maintenance = call()
    assert maintenance.status_code == 503 and "under maintenance" in maintenance.text
    wiki.control("set_fault", step=step, kind="html", status=200, count=1)
    assert call().status_code == 200


@pytest.mark.parametrize("step", STEPS)
def test_drop_closes_the_connection_without_an_answer(wiki, step):
    call = prepare(wiki, step)
    wiki.control("set_fault", step=step, kind="drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        call()
    assert looks_normal(step, call())


@pytest.mark.parametrize("step", STEPS)
def test_garbage(wiki, step):
    call = prepare(wiki, step)
    wiki.control("set_fault", step=step, kind="garbage", count=1)
    answer = call()
    assert answer.status_code == 200
    if step == "authorize":
        assert "mw-mwoauth-authorize-form" not in answer.text
    elif step == "identify":
        assert answer.text.count(".") != 2
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.text)
        assert "oauth_token=" not in answer.text
    assert looks_normal(step, call())


@pytest.mark.parametrize("step", STEPS)
def test_slow_really_sleeps(wiki, step):
    call = prepare(wiki, step)
    wiki.control("set_fault", step=step, kind="slow", seconds=0.4, count=1)
    if step == "api":
        with pytest.raises(requests.exceptions.ReadTimeout):
            api(wiki, {"action": "query", "meta": "userinfo"}, timeout=0.15)
        return
    started = time.monotonic()
    answer = call()
    assert time.monotonic() - started >= 0.4
    assert looks_normal(step, answer)


def test_count_applies_to_the_next_requests_only(wiki):
    wiki.control("set_fault", step="initiate", kind="error", count=2)
    answers = [initiate(wiki).json() for _ in range(3)]
    assert ["error" in a for a in answers] == [True, True, False]


def test_fault_without_count_stays_until_cleared(wiki):
    wiki.control("set_fault", step="initiate", kind="http500")
    assert [initiate(wiki).status_code for _ in range(3)] == [500, 500, 500]
    wiki.control("set_fault", step="initiate", kind=None)
    assert initiate(wiki).status_code == 200


def test_error_fault_with_a_chosen_code(wiki):
    wiki.control("set_fault", step="initiate", kind="error", code="mwoauthserver-consumer-no-secret")
    assert initiate(wiki).json()["error"] == "mwoauthserver-consumer-no-secret"
