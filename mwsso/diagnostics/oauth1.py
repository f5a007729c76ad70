"""OAuth 1.0a checks: the consumer (key, secret, approval), the callback the site sends, the grants.

The only requests are consumer-only signed initiates (``oob`` and the site's real callback), which
leave nothing behind but an unused request token, and the public consumer page (``consumerpage``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from mwsso.protocol import oauth1
from mwsso.protocol.wikiurls import WikiURLs

from .consumerpage import ConsumerPage
from .results import Result, _, gettext_noop

AUTHONLY_GRANTS = {"mwoauth-authonly", "mwoauth-authonlyprivate"}
Outcome = oauth1.TokenPair | oauth1.OAuth1Error


def try_initiate(
    session: requests.Session, urls: WikiURLs, consumer: oauth1.Consumer, callback: str, **options: Any
) -> Outcome:
    """One signed initiate; the request token it may get is never used (it expires on the wiki in 10 minutes)."""
    try:
        return oauth1.initiate(session, urls.index, consumer, callback, **options)
    except oauth1.OAuth1Error as err:
        return err


def classify(err: oauth1.OAuth1Error) -> str:
    """What an initiate refusal means: unknown_consumer, bad_signature, clock, owner_only, callback, … or other."""
    if err.kind != "refused":
        return err.kind  # unavailable, bad_response
    message, code = err.message, err.wiki_code
    if "Invalid consumer" in message:
        return "unknown_consumer"
    if "Invalid signature" in message:
        return "bad_signature"
    if "Expired timestamp" in message:
        return "clock"
    return {
        "mwoauthserver-consumer-owner-only": "owner_only",
        "mwoauthserver-consumer-no-secret": "no_secret",
        "mwoauthdatastore-bad-source-ip": "source_ip",
        "mwoauth-callback-not-oob": "callback",
        "mwoauth-callback-not-oob-or-prefix": "callback",
    }.get(code, "other")


def consumer_result(outcome: Outcome, *, host_mismatch: bool = False) -> Result:
    """Is the key known and the secret right? From the answer to a consumer-only initiate with ``oob``."""
    check = "oauth1.consumer"
    if isinstance(outcome, oauth1.TokenPair):
        return Result(check, "pass", _("The consumer key is known and the secret is right (signed initiate accepted)."))
    kind = classify(outcome)
    said = {"wiki_code": outcome.wiki_code, "wiki_message": outcome.message}
    if kind == "unknown_consumer":
        return Result(
            check,
            "fail",
            _("Unknown consumer: the wiki has no consumer with this key."),
            _(
                "Set SOCIAL_AUTH_MEDIAWIKI_KEY to the consumer token shown when the consumer was registered on this "
                "wiki (or its central wiki), or register one: manage.py mwsso_check --register."
            ),
            said,
        )
    if kind == "bad_signature":
        if host_mismatch:
            return Result(
                check,
                "fail",
                _(
                    "Wrong host name: the wiki refuses the signature because the site reaches it under "
                    "another name than its own (see wiki.server)."
                ),
                _("Fix SOCIAL_AUTH_MEDIAWIKI_URL as wiki.server says, then run this again."),
                said,
            )
        return Result(
            check,
            "fail",
            _("Wrong secret or wrong host name: the key is known but the wiki refuses the signature."),
            _(
                "Set SOCIAL_AUTH_MEDIAWIKI_SECRET to the consumer secret shown at registration (a lost secret can be "
                "reset on Special:OAuthConsumerRegistration/list); the host name matches the wiki's own, so the "
                "secret is the likely cause."
            ),
            said,
        )
    if kind == "clock":
        return Result(
            check,
            "fail",
            _("The wiki refused the request's timestamp: the clocks differ by more than 300 s."),
            _("Synchronise this machine's clock (see wiki.clock)."),
            said,
        )
    if kind == "owner_only":
        return Result(
            check,
            "fail",
            _("This is an owner-only consumer: it cannot sign other users in."),
            _('Register a consumer without "owner-only": manage.py mwsso_check --register.'),
            said,
        )
    if kind == "source_ip":
        return Result(
            check,
            "fail",
            _("The consumer's IP restriction does not allow this machine's address."),
            _("Update the consumer's allowed IP ranges on Special:OAuthConsumerRegistration/list."),
            said,
        )
    if kind == "unavailable":
        return Result(
            check,
            "fail",
            _("The wiki did not answer the initiate request: %(error)s") % {"error": outcome.message},
            _("Try again later; check wiki.reachable."),
            said,
        )
    return Result(
        check,
        "fail",
        _("The wiki refused the consumer: %(message)s") % {"message": outcome.message},
        _("See the wiki's message above."),
        said,
    )


# Marked for translation here, translated when shown.
_STATUS_TEXT = {
    "proposed": gettext_noop("Not approved: the consumer is proposed and waits for an OAuth administrator."),
    "rejected": gettext_noop("Not approved: the consumer was rejected."),
    "disabled": gettext_noop("Not approved: the consumer was disabled."),
    "expired": gettext_noop("Not approved: the proposal expired before anyone approved it."),
}
_OTHER_STATUS = gettext_noop("Not approved: the consumer's status is %(status)s.")


def approved_result(page: ConsumerPage | None, consumer_known: bool, check: str = "oauth1.approved") -> Result:
    if not consumer_known:
        return Result(check, "skip", _("Not checked: the consumer itself is not usable (see the check above)."))
    if page is None:
        return Result(
            check,
            "skip",
            _(
                "The wiki does not show Special:OAuthListConsumers: approval cannot be checked "
                "without a user (an unapproved consumer is refused on the authorize page)."
            ),
        )
    if not page.known:
        return Result(
            check, "skip", _("This wiki does not list the consumer (it may be registered on a central wiki).")
        )
    if page.status == "approved":
        return Result(check, "pass", _("The consumer is approved."))
    text = _STATUS_TEXT.get(page.status or "")
    return Result(
        check,
        "fail",
        _(text) if text else _(_OTHER_STATUS) % {"status": page.status},
        _(
            "Until it is approved only its owner can authorize it. Ask an OAuth administrator "
            "(Special:OAuthManageConsumers; on Wikimedia wikis, meta.wikimedia.org) or register a new version."
        ),
        {"status": page.status},
    )


def callback_registration(expected_callback: str) -> str:
    return _(
        'Register a consumer (a callback cannot be changed once proposed) with OAuth "callback" URL '
        '%(callback)s and tick "Allow consumer to specify a callback in requests and use "callback" URL '
        'above as a required prefix".'
    ) % {"callback": expected_callback}


def callback_result(
    target_callback: str, expected_callback: str, outcome: Outcome | None, page: ConsumerPage | None
) -> Result:
    """Will the wiki accept the callback the site sends, and send the browser back to the site?"""
    check = "oauth1.callback"
    if not expected_callback:
        return Result(
            check,
            "skip",
            _("The site's URL is unknown, so its callback cannot be built."),
            _("Pass --site-url https://your.site, or set ALLOWED_HOSTS / the sites framework's domain."),
        )
    if target_callback == "oob":
        registered = page.callback if page and page.known else None
        if registered is None:
            return Result(
                check,
                "skip",
                _(
                    'The site sends "oob": the wiki uses the registered callback, which this '
                    "wiki does not show. It must be %(callback)s."
                )
                % {"callback": expected_callback},
            )
        if registered.rstrip("/") == expected_callback.rstrip("/"):
            return Result(
                check,
                "pass",
                _('The site sends "oob" and the registered callback is %(callback)s.') % {"callback": registered},
            )
        return Result(
            check,
            "fail",
            _(
                'The site sends "oob", so the wiki sends users to the registered callback %(registered)s, not to '
                "%(callback)s."
            )
            % {"registered": registered, "callback": expected_callback},
            callback_registration(expected_callback)
            + " "
            + _('Then set SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "%(path)s".') % {"path": _path(expected_callback)},
            {"registered": registered},
        )
    if isinstance(outcome, oauth1.TokenPair):
        return Result(check, "pass", _("The wiki accepts the callback %(callback)s.") % {"callback": target_callback})
    if outcome is None or classify(outcome) != "callback":
        return Result(check, "skip", _("Not checked: the consumer itself is not usable (see oauth1.consumer)."))
    details: dict[str, Any] = {"callback": target_callback, "wiki_code": outcome.wiki_code}
    if page and page.known:
        details.update(registered=page.callback, registered_is_prefix=page.callback_is_prefix)
    why = (
        _('the consumer was registered without "callback is a prefix", so it only takes "oob"')
        if outcome.wiki_code == "mwoauth-callback-not-oob"
        else _("the registered callback is not a prefix of it")
    )
    return Result(
        check,
        "fail",
        _("The wiki refuses the callback %(callback)s: %(why)s.") % {"callback": target_callback, "why": why},
        callback_registration(expected_callback),
        details,
    )


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def grants_result(
    page: ConsumerPage | None, required: tuple[str, ...], allowed_wikis: tuple[str, ...], check: str = "oauth1.grants"
) -> Result:
    """The grants the site needs against those the consumer was registered with (where the wiki shows them)."""
    needed = list(dict.fromkeys(required))
    wanted = ", ".join(needed) or _("none beyond identification")
    if page is None or not page.known or page.grants is None:
        return Result(
            check,
            "skip",
            _(
                "The consumer's grants cannot be checked without a user (this wiki does not "
                "show them). The site needs: %(grants)s."
            )
            % {"grants": wanted},
            details={"needed": needed},
        )
    registered = list(page.grants)
    details = {"needed": needed, "registered": registered, "all_wikis": page.all_wikis}
    authonly = set(registered) <= AUTHONLY_GRANTS
    missing = [g for g in needed if g not in registered]
    problems = []
    if missing:
        problems.append(_("the consumer lacks %(grants)s (MWSSO_REQUIRED_GRANTS)") % {"grants": ", ".join(missing)})
    if allowed_wikis and authonly:
        problems.append(_("MWSSO_ALLOWED_WIKIS lets the API client call wikis, but the consumer is identify-only"))
    if allowed_wikis and page.all_wikis is False:
        problems.append(_("MWSSO_ALLOWED_WIKIS names other wikis, but the consumer applies to one wiki only"))
    if problems:
        grants = ", ".join(["basic", *[g for g in needed if g != "basic"]])
        fix = _(
            'Register a consumer with "Request authorization for specific permissions" and the grants: %(grants)s'
        ) % {"grants": grants}
        if allowed_wikis:
            fix += " " + _('and "Applicable project" set to all projects (*)')
        return Result(check, "fail", _("Grants: %(problems)s.") % {"problems": "; ".join(problems)}, fix + ".", details)
    return Result(
        check,
        "pass",
        _("The consumer's grants (%(registered)s) cover what the site needs (%(needed)s).")
        % {"registered": ", ".join(registered), "needed": wanted},
        details=details,
    )
