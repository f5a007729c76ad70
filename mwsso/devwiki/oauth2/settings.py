"""OAuth 2.0 settings of the devwiki and what each MediaWiki version does differently.

Pure data: no I/O, so the version table can be read (and tested) on its own.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import asdict, dataclass, field
from typing import Any

VERSIONS = ("1.43", "1.39")  # the first is the default: the current LTS
DEFAULT_VERSION = VERSIONS[0]
SUB_FORMATS = ("bare", "central")  # access-token sub: "3" or "mw:CentralAuth::3"

ACCESS_TOKEN_TTL = 3600  # $wgOAuth2GrantExpirationInterval PT1H, both versions
CODE_TTL = 600  # league's authorization code lifetime, 10 minutes
REFRESH_TTL_1_39 = 60  # REL1_39's $wgOAuth2RefreshTokenTTL "PT1M" (a typo never backported)


@dataclass(frozen=True)
class VersionTraits:
    """What a MediaWiki version's Extension:OAuth does that the other does not (recorded)."""

    profile_content_type: str
    profile_email_verified: bool
    profile_without_header_is_500: bool  # 1.39 crashes; 1.43 answers 401 access_denied
    authorize_error_statuses: bool  # 1.43: 400/401 error pages; 1.39: 200
    token_form_only: bool  # 1.43: anything but form encoding gets 415
    refresh_month: bool  # refresh token lifetime P1M (1.43) or PT1M (1.39)
    consent_display_field: bool  # 1.43's consent form has a hidden "display" field
    dropped_rights: tuple[str, ...]  # core rights gone from this version's rights lists


TRAITS: dict[str, VersionTraits] = {
    "1.39": VersionTraits(
        profile_content_type="text/html",
        profile_email_verified=False,
        profile_without_header_is_500=True,
        authorize_error_statuses=False,
        token_form_only=False,
        refresh_month=False,
        consent_display_field=False,
        dropped_rights=(),
    ),
    "1.43": VersionTraits(
        profile_content_type="application/json",
        profile_email_verified=True,
        profile_without_header_is_500=False,
        authorize_error_statuses=True,
        token_form_only=True,
        refresh_month=True,
        consent_display_field=True,
        dropped_rights=("writeapi", "purge"),
    ),
}


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
    """Lifetimes in seconds; ``refresh_token_ttl`` None means the version's default."""

    mw_version: str = DEFAULT_VERSION
    access_token_ttl: int = ACCESS_TOKEN_TTL
    refresh_token_ttl: int | None = None
    code_ttl: int = CODE_TTL
    sub_format: str = "bare"
    allow_plain_pkce: bool = False  # league 8 accepts "plain"; the devwiki refuses it unless this is on
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if self.mw_version not in VERSIONS:
            raise SettingsError(f"mw_version {self.mw_version!r} unknown; choose one of: {', '.join(VERSIONS)}")
        if self.sub_format not in SUB_FORMATS:
            raise SettingsError(f"sub_format {self.sub_format!r} unknown; choose one of: {', '.join(SUB_FORMATS)}")
        if not isinstance(self.allow_plain_pkce, bool):
            raise SettingsError("allow_plain_pkce must be true or false")
        for name in ("access_token_ttl", "code_ttl", "refresh_token_ttl"):
            value = getattr(self, name)
            if value is None and name == "refresh_token_ttl":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise SettingsError(f"{name} must be a whole number of seconds, not {value!r}")

    @property
    def traits(self) -> VersionTraits:
        return TRAITS[self.mw_version]

    def refresh_expiry(self, now: float) -> float:
        if self.refresh_token_ttl is not None:
            return now + self.refresh_token_ttl
        return add_month(now) if self.traits.refresh_month else now + REFRESH_TTL_1_39

    def update(self, **values: Any) -> None:
        unknown = set(values) - {
            "mw_version",
            "access_token_ttl",
            "refresh_token_ttl",
            "code_ttl",
            "sub_format",
            "allow_plain_pkce",
        }
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

    def describe(self) -> dict[str, Any]:
        value = asdict(self)
        value.pop("extra")
        value["refresh_token_ttl_default"] = "P1M" if self.traits.refresh_month else f"PT{REFRESH_TTL_1_39 // 60}M"
        return value
