"""The OAuth 2.0 server's settings: lifetimes and switches, as $wgOAuth2* names them.

Pure data: no I/O. What a MediaWiki version does differently is in versions.py.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..versions import VersionTraits

ACCESS_TOKEN_TTL = 3600  # $wgOAuth2GrantExpirationInterval PT1H, every version
CODE_TTL = 600  # league's authorization code lifetime, 10 minutes
REFRESH_TTL_1_39 = 60  # REL1_39's $wgOAuth2RefreshTokenTTL "PT1M" (a typo never backported)


def add_month(ts: float) -> float:
    """PHP's ``new DateTime + P1M`` in UTC (day overflow rolls into the next month, as PHP does)."""
    t = time.gmtime(ts)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    base = calendar.timegm((year, month, 1, t.tm_hour, t.tm_min, t.tm_sec))
    return base + (t.tm_mday - 1) * 86400 + (ts - int(ts))


class SettingsError(ValueError):
    """An OAuth 2.0 setting has an unusable value."""


@dataclass
class OAuth2Settings:
    """Lifetimes in seconds; ``refresh_token_ttl`` None means the version's default.

    ``use_prefixed_sub`` is ``$wgOAuth2UsePrefixedSub`` (after REL1_45, default false): access
    tokens of clients that are not owner-only then carry ``sub`` = ``mw:<central id scope>:<id>``.
    """

    access_token_ttl: int = ACCESS_TOKEN_TTL
    refresh_token_ttl: int | None = None
    code_ttl: int = CODE_TTL
    use_prefixed_sub: bool = False
    allow_plain_pkce: bool = False  # league 8 accepts "plain"; the local wiki refuses it unless this is on

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        for name in ("use_prefixed_sub", "allow_plain_pkce"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false")
        for name in ("access_token_ttl", "code_ttl", "refresh_token_ttl"):
            value = getattr(self, name)
            if value is None and name == "refresh_token_ttl":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise SettingsError(f"{name} must be a whole number of seconds, not {value!r}")

    def refresh_expiry(self, now: float, traits: VersionTraits) -> float:
        if self.refresh_token_ttl is not None:
            return now + self.refresh_token_ttl
        return add_month(now) if traits.refresh_month else now + REFRESH_TTL_1_39

    def update(self, **values: Any) -> None:
        unknown = set(values) - set(asdict(self))
        if unknown:
            raise SettingsError(f"unknown OAuth 2.0 settings: {', '.join(sorted(unknown))}")
        previous = asdict(self)
        for name, value in values.items():
            setattr(self, name, value)
        try:
            self.check()
        except SettingsError:
            for name, value in previous.items():
                setattr(self, name, value)
            raise

    def describe(self, traits: VersionTraits) -> dict[str, Any]:
        value = asdict(self)
        value["refresh_token_ttl_default"] = "P1M" if traits.refresh_month else f"PT{REFRESH_TTL_1_39 // 60}M"
        return value
