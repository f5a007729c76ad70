"""Sign-in starts are rate-limited per client address and per session (local-memory cache; gunicorn + Redis in tests/production)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from mwsso import signals
from mwsso.ratelimit import InvalidRate, Rate, hit, parse_rate

SITE_HOST = "127.0.0.1:8000"


@pytest.mark.parametrize(
    ("text", "rate"),
    [("10/m", Rate(10, 60)), ("30/5m", Rate(30, 300)), ("100/h", Rate(100, 3600)), (" 3 / 2s ", Rate(3, 2))],
)
def test_rates_are_written_count_per_period(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "10", "10/x", "0/m", "ten/m", "10/0m"])
def test_bad_rates_are_refused(text):
    with pytest.raises(InvalidRate):
        parse_rate(text)


def test_a_fixed_window_counts_and_says_how_long_to_wait():
    rate = Rate(3, 60)
    start = 6_000_000.0  # a window boundary (a multiple of 60)
    assert [hit("default", "t", "a", rate, now=start + 10) for _ in range(3)] == [None, None, None]
    assert hit("default", "t", "a", rate, now=start + 10) == 50
    assert hit("default", "t", "b", rate, now=start + 10) is None  # another client has its own count
    assert hit("default", "t", "a", rate, now=start + 60) is None  # the next window starts afresh


def browser() -> Client:
    return Client(HTTP_HOST=SITE_HOST)


def start(client: Client, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login/mediawiki/", **extra)


@pytest.mark.django_db
def test_the_session_limit_gives_a_friendly_429_with_retry_after(wiki_settings, devwiki, caplog):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"session": "3/m"}
    client = browser()
    sent: list[dict] = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(kwargs)

    signals.login_rate_limited.connect(receiver)
    try:
        statuses = [start(client).status_code for _ in range(5)]
        refused = start(client)
    finally:
        signals.login_rate_limited.disconnect(receiver)
    # Every start counts, the first of a browser without a session too.
    assert statuses == [302, 302, 302, 429, 429]
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many sign-in attempts" in refused.content.decode() and "wait a minute" in refused.content.decode()
    # A refused start never reaches the wiki.
    assert devwiki.control("stats")["counters"]["initiate"] == 3
    assert [(s["backend"], s["scope"]) for s in sent] == [("mediawiki", "session")] * 3
    assert any(
        r.name == "mwsso.ratelimit" and r.levelno == logging.WARNING and "scope=session" in r.getMessage()
        for r in caplog.records
    )
    # Another browser is not affected.
    assert start(browser()).status_code == 302


@pytest.mark.django_db
def test_the_address_limit_counts_every_session_from_one_address(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "4/m"}
    statuses = [start(browser()).status_code for _ in range(6)]
    assert statuses == [302] * 4 + [429] * 2
    assert start(browser(), REMOTE_ADDR="192.0.2.7").status_code == 302


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_is_ignored_by_default(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "4/m"}
    statuses = [start(browser(), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(6)]
    assert statuses == [302] * 4 + [429] * 2


@pytest.mark.django_db
def test_behind_trusted_proxies_the_address_they_saw_counts(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "2/m"}
    wiki_settings.MWSSO_TRUSTED_PROXIES = 1
    # The client may put anything in front; our one proxy appends the address it saw last.
    forged = [start(browser(), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.5").status_code for n in range(3)]
    assert forged == [302, 302, 429]
    assert start(browser(), HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302


def client_ip_from_header(request):  # type: ignore[no-untyped-def]
    return request.META.get("HTTP_X_REAL_IP", "")


@pytest.mark.django_db
def test_the_site_may_say_how_to_read_the_address(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "1/m"}
    wiki_settings.MWSSO_CLIENT_IP = "tests.test_ratelimit.client_ip_from_header"
    assert start(browser(), HTTP_X_REAL_IP="203.0.113.1").status_code == 302
    assert start(browser(), HTTP_X_REAL_IP="203.0.113.1").status_code == 429
    assert start(browser(), HTTP_X_REAL_IP="203.0.113.2").status_code == 302


@pytest.mark.django_db
def test_every_backend_is_limited_together(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "2/m"}
    assert start(browser()).status_code == 302
    assert start(browser()).status_code == 302
    # Any backend's start goes through mwsso.views.signin.begin (the OAuth 2.0 one too), and shares the count.
    assert browser().post("/login/mediawiki-oauth2/").status_code == 429


@pytest.mark.django_db
def test_gets_are_not_counted_and_limits_can_be_turned_off(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "1/m"}
    assert [browser().get("/login/mediawiki/").status_code for _ in range(3)] == [200] * 3  # the page with the button
    assert start(browser()).status_code == 302
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {}
    assert [start(browser()).status_code for _ in range(3)] == [302] * 3


@pytest.mark.django_db
def test_the_defaults(wiki_settings):
    from mwsso.app_settings import app_settings

    assert app_settings.LOGIN_RATE_LIMITS == {"ip": "30/5m", "session": "10/m"}
    assert app_settings.TRUSTED_PROXIES == 0 and app_settings.CLIENT_IP is None
    client = browser()
    assert [start(client).status_code for _ in range(12)] == [302] * 10 + [429] * 2


def test_system_checks_of_the_rate_limit_settings(settings):
    from django.core import checks

    from mwsso.checks.config import check_rate_limit_settings

    assert check_rate_limit_settings() == []
    settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "lots", "browser": "1/m"}
    settings.MWSSO_RATE_LIMIT_CACHE = "nope"
    settings.MWSSO_TRUSTED_PROXIES = "1"
    hint = 'For example MWSSO_LOGIN_RATE_LIMITS = {"ip": "30/5m", "session": "10/m"}; None turns one limit off.'
    assert check_rate_limit_settings() == [
        checks.Error(
            "MWSSO_LOGIN_RATE_LIMITS: 'lots' is not a rate such as '10/m' or '30/5m'.", hint=hint, id="mwsso.E030"
        ),
        checks.Error(
            "MWSSO_LOGIN_RATE_LIMITS: unknown scope 'browser' (use 'ip' or 'session').", hint=hint, id="mwsso.E030"
        ),
        checks.Error(
            "MWSSO_RATE_LIMIT_CACHE 'nope' is not in CACHES.",
            hint="Name a CACHES alias; the default is 'default'.",
            id="mwsso.E031",
        ),
        checks.Error(
            "MWSSO_TRUSTED_PROXIES must be a whole number, 0 or more.",
            hint="The default, 0, trusts no X-Forwarded-For.",
            id="mwsso.E032",
        ),
    ]
    settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "30/5m"}
    settings.MWSSO_RATE_LIMIT_CACHE = "default"
    settings.MWSSO_TRUSTED_PROXIES = 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [m.id for m in check_rate_limit_settings()] == ["mwsso.W030"]


@pytest.mark.django_db
def test_a_bad_rate_or_a_cache_that_is_down_never_breaks_sign_in(wiki_settings, caplog):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "lots", "session": "1/m"}
    client = browser()
    assert [start(client).status_code for _ in range(3)] == [302, 429, 429]  # the good limit still holds
    assert "MWSSO_LOGIN_RATE_LIMITS['ip'] ignored" in caplog.text
    wiki_settings.CACHES = {
        **wiki_settings.CACHES,
        "down": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    wiki_settings.MWSSO_RATE_LIMIT_CACHE = "down"
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "1/m"}
    assert [start(browser()).status_code for _ in range(2)] == [302, 302]
    assert "login start not counted: the rate-limit cache failed (ConnectionError)" in caplog.text


def test_client_ip_reading(rf, settings):
    from mwsso.ratelimit import client_ip

    request = rf.post("/login/mediawiki/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2, 3.3.3.3")
    assert client_ip(request) == "10.0.0.1"
    settings.MWSSO_TRUSTED_PROXIES = 2
    assert client_ip(request) == "2.2.2.2"
    settings.MWSSO_TRUSTED_PROXIES = 4  # a request that did not pass every proxy: the header is not believed
    assert client_ip(request) == "10.0.0.1"
    settings.MWSSO_CLIENT_IP = lambda request: "192.0.2.1"
    assert client_ip(request) == "192.0.2.1"


# -- one client, however its address is spelled ----------------------------------------------
IPV6_SPELLINGS = [
    "2001:db8:1:2::7", "2001:DB8:1:2::7", "2001:0db8:0001:0002:0000:0000:0000:0007", "2001:db8:1:2:0:0:0:7",
    "[2001:db8:1:2::7]", "[2001:db8:1:2::7]:443", " 2001:db8:1:2::7 ", "2001:db8:1:2::7%eth0",
]  # fmt: skip
IPV4_FORMS = [
    "203.0.113.7", "::ffff:203.0.113.7", "::FFFF:203.0.113.7", "::ffff:cb00:7107", "0:0:0:0:0:ffff:cb00:7107",
    "[::ffff:203.0.113.7]", "203.0.113.7:51234",
]  # fmt: skip


@pytest.fixture
def behind_one_proxy(wiki_settings):  # type: ignore[no-untyped-def]
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "5/m"}
    wiki_settings.MWSSO_TRUSTED_PROXIES = 1
    return wiki_settings


def starts_from(addresses: list[str]) -> list[int]:
    return [start(browser(), HTTP_X_FORWARDED_FOR=address).status_code for address in addresses]


@pytest.mark.django_db
@pytest.mark.parametrize("spellings", [IPV6_SPELLINGS, IPV4_FORMS], ids=["ipv6 spellings", "ipv4 forms"])
def test_one_address_in_any_spelling_is_one_client(behind_one_proxy, spellings):
    assert starts_from(spellings) == [302] * 5 + [429] * (len(spellings) - 5)


@pytest.mark.django_db
def test_an_ipv6_64_is_one_client(behind_one_proxy):
    assert starts_from([f"2001:db8:1:2::{n:x}" for n in range(1, 15)]) == [302] * 5 + [429] * 9
    assert starts_from(["2001:db8:1:3::1"]) == [302]  # the next /64 is another client
    behind_one_proxy.MWSSO_RATE_LIMIT_IPV6_PREFIX = 128
    assert starts_from([f"2001:db8:9:9::{n:x}" for n in range(1, 8)]) == [302] * 7


@pytest.mark.django_db
def test_what_is_not_an_address_shares_one_count(behind_one_proxy):
    assert starts_from([f"not-an-address-{n}" for n in range(7)]) == [302] * 5 + [429] * 2
    assert starts_from(["198.51.100.1"]) == [302]


@pytest.mark.django_db
def test_the_first_start_of_a_browser_counts_for_its_session(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"session": "10/m"}
    client = browser()
    assert [start(client).status_code for _ in range(11)] == [302] * 10 + [429]
    # A refused start of a browser without a session writes no session (nothing to note it in).
    from django.contrib.sessions.models import Session

    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "1/m", "session": "10/m"}
    sessions = Session.objects.count()
    assert start(browser(), REMOTE_ADDR="192.0.2.99").status_code == 302
    assert start(browser(), REMOTE_ADDR="192.0.2.99").status_code == 429
    assert Session.objects.count() == sessions + 1


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"), ("[::1]:8000", "::1"),
        ("2001:0DB8::0001", "2001:db8::1"), ("fe80::1%eth0", "fe80::1"), ("203.0.113.7:80", "203.0.113.7"),
        ("0203.0.113.7", None), ("", None), ("example.org", None), ("1.2.3.4.5", None),
    ],
)  # fmt: skip
def test_addresses_are_read_in_one_spelling(text, normal):
    from mwsso.ratelimit import normalise_address

    assert normalise_address(text) == normal


def test_the_ipv6_prefix_setting_is_checked(settings):
    from mwsso.checks.config import check_rate_limit_settings

    for bad in (129, -1, "64", True):
        settings.MWSSO_RATE_LIMIT_IPV6_PREFIX = bad
        assert [m.id for m in check_rate_limit_settings()] == ["mwsso.E033"]
    settings.MWSSO_RATE_LIMIT_IPV6_PREFIX = 56
    assert check_rate_limit_settings() == []
