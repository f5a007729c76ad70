"""What the devwiki plays for mwsso_check: a clock that is off, and the public consumer page."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
import requests
from mwsso_devwiki.state import seed
from mwsso_devwiki.state.config import ConfigError, load_config

from .conftest import TEST, UNAPPROVED, initiate


def _date_offset(response: requests.Response) -> float:
    return parsedate_to_datetime(response.headers["Date"]).timestamp() - time.time()


def test_the_date_header_tells_the_wiki_clock(wiki):
    assert abs(_date_offset(requests.get(wiki.api_url, timeout=5))) < 3
    wiki.control("set_clock", offset=-600)
    assert -603 < _date_offset(requests.get(wiki.api_url, timeout=5)) < -597


def test_a_wiki_clock_ten_minutes_off_refuses_fresh_timestamps(wiki):
    assert initiate(wiki, TEST).json().get("key")
    wiki.control("set_clock", offset=600)
    answer = initiate(wiki, TEST).json()
    assert answer["error"] == "mwoauth-oauth-exception"
    assert "Expired timestamp, yours" in answer["message"]


def test_a_wiki_clock_two_minutes_off_still_signs(wiki):
    wiki.control("set_clock", offset=120)
    assert initiate(wiki, TEST).json().get("key")


def test_reset_brings_the_configured_clock_back(wiki):
    wiki.control("set_clock", offset=999)
    wiki.reset()
    assert wiki.store.clock_offset == 0


def test_the_clock_offset_in_the_config_must_be_a_number():
    assert load_config({"clock_offset": 90})["clock_offset"] == 90.0
    with pytest.raises(ConfigError, match="clock_offset"):
        load_config({"clock_offset": "ten"})


def _view(wiki, key: str, **params: str) -> str:
    response = requests.get(
        wiki.index_url, params={"title": f"Special:OAuthListConsumers/view/{key}", **params}, timeout=5
    )
    assert response.status_code == 200
    return response.text


def test_the_consumer_page_shows_status_and_grants_as_message_keys(wiki):
    text = _view(wiki, TEST[0], uselang="qqx")
    assert "(mwoauthlistconsumers-status-approved)" in text
    assert "(grant-editpage)" in text and "(grant-createeditmovepage)" in text
    assert "(grant-basic)" not in text  # hidden, as on the real page
    assert "(mwoauthlistconsumers-status-proposed)" in _view(wiki, UNAPPROVED[0], uselang="qqx")


def test_the_consumer_page_in_english_and_for_an_unknown_key(wiki):
    assert "Edit existing pages" in _view(wiki, TEST[0])
    assert "(mwoauth-invalid-consumer-key)" in _view(wiki, "0" * 32, uselang="qqx")
    assert "(grant-mwoauth-authonlyprivate)" in _view(wiki, seed.PRIVATE_CONSUMER_KEY, uselang="qqx")


def test_the_consumer_page_lists_oauth2_clients_too(wiki):
    text = _view(wiki, seed.TEST_OAUTH2_CLIENT_ID, uselang="qqx")
    assert "(mwoauth-oauth-version-2)" in text and "(mwoauthlistconsumers-status-approved)" in text
    assert seed.TEST_OAUTH2_REDIRECT_URI in text
