"""``mwsso_check``'s checks: a deployment diagnosed against the live wiki, without any user.

``run(target, session)`` makes the requests (each one a consumer may make, leaving nothing behind
but unused request tokens) and returns one ``Result`` per check; the pure functions in ``wiki``,
``oauth1``, ``oauth2`` and ``consumerpage`` turn each answer into a verdict. ``site.target_from_settings``
builds the ``Target`` from Django's settings; the command only formats.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from mwsso.protocol.oauth1 import Consumer
from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls

from . import consumerpage, oauth1, oauth2, wiki
from .results import Result, _, exit_status
from .target import OAuth2Client, Target

__all__ = ["OAuth2Client", "Result", "Target", "exit_status", "run"]


def run(target: Target, session: requests.Session, *, default_user_agent: str = "", **options: Any) -> list[Result]:
    """Every check, in an order where each can say what an earlier one found."""
    results = [wiki.user_agent_result(target.user_agent, default_user_agent)]
    try:
        urls = wiki_urls(target.wiki_url)
    except InvalidWikiURL as err:
        return [*results, Result("wiki.reachable", "fail", str(err), _("Set SOCIAL_AUTH_MEDIAWIKI_URL."))]
    try:
        index = wiki.probe_index(session, urls, **options)
    except requests.RequestException as err:
        results.append(wiki.reachable_result(urls, None, type(err).__name__))
        return results
    reachable = wiki.reachable_result(urls, index)
    results.append(reachable)
    results.append(wiki.https_result(urls))
    if reachable.status == "fail":
        return results
    results.append(wiki.clock_result(wiki.wiki_clock_offset(index.headers.get("Date"), time.time())))
    server = _siteinfo_server(session, urls, **options)
    server_check = wiki.server_result(urls, server, target.identify_issuer)
    results.append(server_check)
    host_mismatch = bool(server_check.details.get("host_mismatch"))
    if target.consumer_key:
        results += _oauth1(target, session, urls, host_mismatch, **options)
    if target.oauth2 is not None:
        results += _oauth2(target, target.oauth2, session, **options)
    if not target.consumer_key and target.oauth2 is None:
        results.append(
            Result(
                "oauth1.consumer",
                "fail",
                _("No consumer is configured (SOCIAL_AUTH_MEDIAWIKI_KEY is empty)."),
                _(
                    "Register one (manage.py mwsso_check --register says what to enter) and set SOCIAL_AUTH_MEDIAWIKI_KEY "
                    "and SOCIAL_AUTH_MEDIAWIKI_SECRET."
                ),
            )
        )
    return results


def _oauth2(target: Target, client: OAuth2Client, session: requests.Session, **options: Any) -> list[Result]:
    try:
        page = consumer_page(session, wiki_urls(client.wiki_url), client.client_id, **options)
    except InvalidWikiURL:
        page = None
    # The page tells what the token endpoint does not: an unknown id from a wrong secret, the registered redirect URI.
    results = oauth2.run(client, session, page, **options)
    known = results[0].status == "pass" or bool(page and page.known)
    return results + oauth2.registration_results(page, known, target.required_grants, target.allowed_wikis)


def _siteinfo_server(session: requests.Session, urls: Any, **options: Any) -> str | None:
    try:
        response = wiki.probe_siteinfo(session, urls, **options)
        return wiki.wiki_server(response.json(), urls.server.split("://")[0]) if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def _oauth1(target: Target, session: requests.Session, urls: Any, host_mismatch: bool, **options: Any) -> list[Result]:
    consumer = Consumer(target.consumer_key, target.consumer_secret)
    outcome = oauth1.try_initiate(session, urls, consumer, "oob", **options)
    consumer_check = oauth1.consumer_result(outcome, host_mismatch=host_mismatch)
    usable = consumer_check.status == "pass"
    page = consumer_page(session, urls, target.consumer_key, **options)
    callback_outcome = None
    if usable and target.callback and target.callback != "oob":
        callback_outcome = oauth1.try_initiate(session, urls, consumer, target.callback, **options)
    return [
        consumer_check,
        # The page speaks for itself even when the signature failed: a proposed consumer is worth knowing about.
        oauth1.approved_result(page, usable or bool(page and page.known)),
        oauth1.callback_result(target.callback, target.expected_callback, callback_outcome if usable else None, page),
        oauth1.grants_result(page, target.required_grants, target.allowed_wikis),
    ]


def consumer_page(session: requests.Session, urls: Any, key: str, **options: Any) -> consumerpage.ConsumerPage | None:
    try:
        response = consumerpage.probe(session, urls, key, **options)
    except requests.RequestException:
        return None
    return consumerpage.parse(response.text) if response.status_code == 200 else None
