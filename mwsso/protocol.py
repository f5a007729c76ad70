"""What ``mwsso.oauth1`` and ``mwsso.oauth2`` share: the wiki's words made safe to show, and a request that got no answer.

Pure (no Django). ``transport_errors`` raises the calling protocol's own ``ProtocolError`` class.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Iterable, Iterator

import requests

REDACTED = "[redacted]"


def redact(text: str, hidden: Iterable[str]) -> str:
    """``text`` with each of ``hidden`` replaced: the wiki's words are shown and logged, and a wiki may echo a secret."""
    for secret in sorted((s for s in hidden if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def clean(message: str) -> str:
    """The wiki's message as plain text: its error texts carry (escaped) HTML."""
    text = html.unescape(html.unescape(message))
    text = re.sub(r"<[^>]+>", "", text)
    # Control characters and lone surrogates ("\ud800" is valid JSON) cannot be shown or logged as text.
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", "", text)
    return re.sub(r"\s+", " ", text).strip()[:500]


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
