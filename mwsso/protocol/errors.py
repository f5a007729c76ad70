"""The root of every mwsso exception, the one a wiki protocol step raises, and the configuration one (pure, no Django).

``MwssoError`` lives here, in the lowest layer, so that the pure protocol code can raise errors of the
one tree without importing Django; ``mwsso.exceptions`` re-exports it, and that is the name to use.
"""

from __future__ import annotations


class MwssoError(Exception):
    """Base of every exception mwsso raises: ``except mwsso.exceptions.MwssoError`` catches them all."""


class ConfigurationError(MwssoError):
    """The site's own settings are wrong: trying again cannot help, the operator must fix them."""


class ProtocolError(MwssoError):
    """A step of a wiki protocol failed; ``kind`` is ``unavailable``, ``refused`` or ``bad_response``.

    ``step`` names the protocol step (``initiate``, ``token``, ``identify``, ``refresh``…); ``wiki_code``
    is the wiki's own error code when it sent one. Each protocol raises its own subclass
    (``mwsso.protocol.oauth1.OAuth1Error``, ``mwsso.protocol.oauth2.OAuth2Error``). Every text is
    cleaned and redacted before it gets here.
    """

    def __init__(self, kind: str, step: str, message: str, *, wiki_code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.step = step
        self.message = message
        self.wiki_code = wiki_code

    def __str__(self) -> str:
        code = f" ({self.wiki_code})" if self.wiki_code else ""
        return f"{self.step}: {self.kind}{code}: {self.message}"
