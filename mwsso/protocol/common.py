"""What ``mwsso.protocol.oauth1`` and ``mwsso.protocol.oauth2`` share: the wiki's words made safe to show, and a request that got no answer.

Pure (no Django). ``transport_errors`` raises the calling protocol's own ``ProtocolError`` subclass (``mwsso.protocol.errors``).

Wiki text on its way to a page, a log, an exception or a terminal: the secrets are redacted from the
raw text first (plain, percent-encoded and HTML-escaped, and a secret's start that a cut left at the
end), and only then is the text unescaped, stripped and cut, so that no cut can hide a secret from
the redaction (``clean``).
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote, quote_plus

import requests

REDACTED = "[redacted]"
# How much of the wiki's text is shown or logged; a wiki's code (its error key) is shorter.
MAX_TEXT = 500
MAX_CODE = 100
# A secret's start this long or longer at the very end of a text is redacted too: what a cut (the
# wiki's or ours) leaves of a secret. Shorter starts are too common in ordinary words to tell apart.
MIN_SECRET_PREFIX = 6

# Control characters (C0 but tab and newlines, DEL, C1), lone surrogates ("\ud800" is valid JSON) and the
# bidirectional overrides and isolates that reorder what a terminal or page shows: never text to show.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def _spellings(secret: str) -> set[str]:
    """The forms a secret may take in a wiki's answer: as sent, percent-encoded (form or URL) and HTML-escaped."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    # Percent-encoding with lower-case hex digits is the same bytes to a server.
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), form) for form in list(forms)}
    return {form for form in forms if form}


def redact(text: str, hidden: Iterable[str]) -> str:
    """``text`` with each of ``hidden`` replaced, in every spelling, and a secret's start left at its end.

    The wiki's words are shown and logged, and a wiki may echo a secret (whole, encoded, or cut short).
    """
    secrets = [s for s in hidden if s]
    forms = sorted({form for secret in secrets for form in _spellings(secret)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, REDACTED)
    return _redact_cut_end(text, forms)


def _redact_cut_end(text: str, forms: Iterable[str]) -> str:
    """``text`` whose end is the start of one of ``forms`` (at least ``MIN_SECRET_PREFIX`` long) ends in ``[redacted]``."""
    for form in forms:
        for length in range(len(form) - 1, MIN_SECRET_PREFIX - 1, -1):
            if text.endswith(form[:length]):
                return text[:-length] + REDACTED
    return text


def printable(text: str) -> str:
    """``text`` as one line a page, a log or a terminal shows as written: no control or reordering characters."""
    return _SPACES.sub(" ", _UNPRINTABLE.sub("", text)).strip()


def clean(message: str, hidden: Iterable[str] = (), limit: int = MAX_TEXT) -> str:
    """The wiki's message as plain text: secrets redacted first, then unescaped (its error texts carry escaped HTML),
    stripped of tags and control characters, and cut to ``limit`` characters (with any secret cut at the end redacted).
    """
    secrets = [s for s in hidden if s]
    text = redact(message, secrets)
    # Each step may spell a secret out again (an entity per character, a tag inside it): redact after each.
    text = redact(html.unescape(html.unescape(text)), secrets)
    text = printable(redact(_TAG.sub("", text), secrets))
    if len(text) <= limit:
        return text
    return redact(_cut(text, limit), secrets)


def _cut(text: str, limit: int) -> str:
    """The first ``limit`` characters; a ``[redacted]`` the cut would split is dropped whole."""
    cut = text[:limit]
    start = cut.rfind("[", max(0, limit - len(REDACTED)))
    if start != -1 and text.startswith(REDACTED, start) and start + len(REDACTED) > limit:
        cut = cut[:start]
    return cut


@contextlib.contextmanager
def redacting(error: type[Exception], hidden: Iterable[str]) -> Iterator[None]:
    """An ``error`` (a protocol's ``ProtocolError`` subclass) raised inside, with ``hidden`` redacted from every text it carries.

    The last line of defence: a message built from the wiki's answer (a repr of an odd value) may hold a secret.
    """
    try:
        yield
    except error as err:
        for name in ("message", "wiki_code", "hint"):
            value = getattr(err, name, None)
            if isinstance(value, str):
                setattr(err, name, redact(value, hidden))
        err.args = (getattr(err, "message", ""),)
        raise


@contextlib.contextmanager
def transport_errors(error: Callable[[str, str, str], Exception], step: str) -> Iterator[None]:
    """A request that failed before the wiki answered, as ``error(kind, step, message)`` (unavailable or bad_response)."""
    try:
        yield
    except requests.Timeout as err:
        raise error("unavailable", step, "the wiki did not answer in time") from err
    except requests.exceptions.ContentDecodingError as err:
        # A body that cannot be decompressed, or larger than mwsso reads (mwsso.http.AnswerTooLarge).
        raise error("bad_response", step, f"the answer could not be read ({type(err).__name__})") from err
    except requests.RequestException as err:
        raise error("unavailable", step, f"the wiki could not be reached ({type(err).__name__})") from err
