"""Whether the wiki accepts this site's own OAuth set-up: one consumer-only signed request tells.

An "Invalid signature" (or "Expired timestamp") answer does not say whose fault it is. Special:OAuth/initiate
with ``oob`` is signed with the consumer alone, at the same wiki URL: if the wiki refuses that too, the
consumer secret, the wiki URL (a host that is not ``$wgServer``, a wrong script path) or the clock is
wrong, and no user's token is to blame. The answer is kept for ``MWSSO_SITE_CHECK_CACHE`` seconds per
process, wiki URL and consumer, and one probe runs at a time per key: a hundred calls failing together
make one probe, not a hundred. Each cause is logged once per process (again after the wiki has
accepted the site in between), not once per call.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from mwsso import http
from mwsso.app_settings import app_settings
from mwsso.protocol import oauth1
from mwsso.protocol.grants import is_clock_refusal

logger = logging.getLogger("mwsso.sitecheck")  # the logger keeps its name: sites configure it

CAUSE_SIGNATURE = "signature"
CAUSE_CLOCK = "clock"
CAUSE_CONSUMER = "consumer"
CAUSE_URL = "url"
CAUSE_UNREACHABLE = "unreachable"
CAUSE_REFUSED = "refused"

_CONSUMER_MARKERS = ("invalid consumer", "consumer-key", "bad-consumer", "not-approved", "owner-only", "no-secret")


@dataclass(frozen=True)
class SiteCheck:
    """The outcome of one probe. ``message`` names what to fix; it never holds a secret."""

    ok: bool
    cause: str = ""
    message: str = ""
    wiki_text: str = ""

    @property
    def conclusive(self) -> bool:
        """False when the probe itself could not reach the wiki: nothing is known then."""
        return self.cause != CAUSE_UNREACHABLE


def likely_causes(index_url: str, consumer_key: str) -> str:
    """The usual suspects when the wiki refuses every signature of this site."""
    return (
        f"check SOCIAL_AUTH_MEDIAWIKI_SECRET (the secret of consumer {consumer_key}), that "
        f"SOCIAL_AUTH_MEDIAWIKI_URL ({index_url}) uses the wiki's own $wgServer host and scheme and its "
        "script path, and that this server's clock is right (NTP)"
    )


def probe(index_url: str, consumer: oauth1.Consumer) -> SiteCheck:
    """Sign Special:OAuth/initiate (``oob``) with the consumer alone and read the answer (no cache)."""
    try:
        oauth1.initiate(http.get_session(), index_url, consumer, "oob", **http.request_options())
    except oauth1.OAuth1Error as err:
        return _diagnose(index_url, consumer.key, err)
    return SiteCheck(ok=True)


def _diagnose(index_url: str, consumer_key: str, err: oauth1.OAuth1Error) -> SiteCheck:
    # err.message is already scrubbed of the consumer secret (oauth1._redacted).
    text = f"{err.wiki_code}: {err.message}" if err.wiki_code else err.message
    if err.kind == "unavailable":
        return SiteCheck(False, CAUSE_UNREACHABLE, f"the wiki at {index_url} could not be reached to check", text)
    if err.kind == "bad_response":
        return SiteCheck(False, CAUSE_URL, f"{index_url} does not answer as the wiki's index.php ({err.message})", text)
    lowered = text.lower()
    if is_clock_refusal(lowered):
        message = f"the wiki's clock and this server's differ by more than 5 minutes ({err.message}); fix the clock"
        return SiteCheck(False, CAUSE_CLOCK, message, text)
    if "invalid signature" in lowered:
        message = f"the wiki refuses this site's own consumer signature: {likely_causes(index_url, consumer_key)}"
        return SiteCheck(False, CAUSE_SIGNATURE, message, text)
    if any(marker in lowered for marker in _CONSUMER_MARKERS):
        message = (
            f"the wiki does not accept consumer {consumer_key} ({err.message}): check SOCIAL_AUTH_MEDIAWIKI_KEY "
            "and that the consumer is approved on the wiki"
        )
        return SiteCheck(False, CAUSE_CONSUMER, message, text)
    message = f"the wiki refuses this site's consumer-signed request ({err.message}): {likely_causes(index_url, consumer_key)}"
    return SiteCheck(False, CAUSE_REFUSED, message, text)


# -- per process: cache, one probe at a time, log once --------------------------------------------
_lock = threading.Lock()
_key_locks: dict[tuple[str, str, str], threading.Lock] = {}
_cache: dict[tuple[str, str, str], tuple[float, SiteCheck]] = {}
_logged: set[tuple[str, str]] = set()


def _key(index_url: str, consumer: oauth1.Consumer) -> tuple[str, str, str]:
    # A digest of the secret, so that putting the right secret back is checked afresh at once.
    digest = hashlib.sha256(b"mwsso-sitecheck:" + consumer.secret.encode()).hexdigest()[:16]
    return (index_url, consumer.key, digest)


def check_site(index_url: str, consumer: oauth1.Consumer) -> SiteCheck:
    """``probe``, cached briefly; a refusal is logged once per process, wiki URL and cause."""
    key = _key(index_url, consumer)
    with _lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:  # concurrent callers wait for the one probe and share its answer
        now = time.monotonic()
        cached = _cache.get(key)
        if cached is not None and now - cached[0] < app_settings.SITE_CHECK_CACHE:
            return cached[1]
        result = probe(index_url, consumer)
        _cache[key] = (time.monotonic(), result)
    report(index_url, result)
    return result


def report(index_url: str, result: SiteCheck) -> None:
    """Log a refusal of the site once per process, wiki URL and cause; an accepted site re-arms the log."""
    with _lock:
        if result.ok:
            first = False
            for entry in [e for e in _logged if e[0] == index_url]:
                _logged.discard(entry)
        elif result.conclusive:
            first = (index_url, result.cause) not in _logged
            _logged.add((index_url, result.cause))
        else:
            first = False
    if first:
        logger.error(
            "mwsso: the site's OAuth set-up is refused by %s (%s): %s. Access tokens are left as they are; "
            "this is logged once per process until the wiki accepts the site again.",
            index_url, result.cause, result.message,
        )  # fmt: skip


def clear() -> None:
    """Forget cached probes and logged causes (tests; after changing settings at run time)."""
    with _lock:
        _cache.clear()
        _logged.clear()
