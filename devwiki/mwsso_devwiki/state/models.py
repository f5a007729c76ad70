"""Records kept by the devwiki store: consumers, users, tokens, pages."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import catalog

if TYPE_CHECKING:
    from ..versions import VersionTraits


def mw_timestamp(ts: float) -> str:
    """MediaWiki's TS_MW format, ``YYYYMMDDHHMMSS`` (UTC)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(ts))


def iso_timestamp(ts: float) -> str:
    """MediaWiki's TS_ISO_8601 format as the API prints it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def formatted_timestamp(ts: float) -> str:
    """A timestamp as the wiki shows it to people in English: ``19:03, 1 December 2026`` (UTC)."""
    t = time.gmtime(ts)
    return f"{time.strftime('%H:%M', t)}, {t.tm_mday} {time.strftime('%B %Y', t)}"


def parse_mw_timestamp(value: str) -> float:
    return float(calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")))


@dataclass
class Consumer:
    key: str
    secret: str
    name: str
    callback: str = "oob"
    callback_is_prefix: bool = False
    grants: list[str] = field(default_factory=lambda: ["basic"])
    approved: bool = True
    owner_only: bool = False
    owner: str = "Admin Sysop"
    description: str = ""

    @property
    def authonly(self) -> bool:
        return bool(self.grants) and all(g in catalog.AUTHONLY_GRANTS for g in self.grants)

    def stored_grants(self) -> list[tuple[int, str]]:
        """Grants with the array keys PHP keeps for them.

        Registration stores array_unique(array_merge(hidden grants, chosen grants)),
        and the form always sends "basic" too, so keys have gaps ({"0": "basic",
        "2": "editpage"}) -- which is why 1.39 sends ``grants`` as a JSON object.
        """
        if self.authonly:
            return list(enumerate(self.grants))
        merged = list(catalog.HIDDEN_GRANTS) + [g for g in self.grants]
        seen: set[str] = set()
        out: list[tuple[int, str]] = []
        for index, grant in enumerate(merged):
            if grant not in seen:
                seen.add(grant)
                out.append((index, grant))
        return out

    def grant_names(self) -> list[str]:
        return [g for _, g in self.stored_grants()]

    def public(self) -> dict[str, Any]:
        """Everything but the secret."""
        return {
            "key": self.key,
            "name": self.name,
            "callback": self.callback,
            "callback_is_prefix": self.callback_is_prefix,
            "grants": list(self.grants),
            "approved": self.approved,
            "owner_only": self.owner_only,
        }


@dataclass
class User:
    sub: int
    name: str
    groups: list[str] = field(default_factory=list)
    editcount: int = 0
    registered: str = "20200101000000"
    email: str = ""
    email_confirmed: bool = False
    realname: str = ""
    blocked: bool = False
    block_reason: str = ""
    hidden: bool = False
    password: str = field(default="devwiki", repr=False)  # for api.php's clientlogin (the login page has none)

    def effective_groups(self, now: float) -> list[str]:
        implicit = ["*", "user"]
        age = now - parse_mw_timestamp(self.registered)
        if age >= catalog.AUTOCONFIRM_AGE_SECONDS and self.editcount >= catalog.AUTOCONFIRM_EDITS:
            implicit.append("autoconfirmed")
        return implicit + [g for g in self.groups if g not in implicit]

    def rights(self, now: float, traits: VersionTraits) -> list[str]:
        return catalog.rights_for_groups(self.effective_groups(now), traits)

    def note(self, now: float) -> str:
        """Short remark shown next to the name on the authorize page."""
        notes = []
        if self.blocked:
            notes.append("blocked")
        if "autoconfirmed" not in self.effective_groups(now):
            notes.append("new account")
        if "sysop" in self.groups:
            notes.append("administrator")
        if self.hidden:
            notes.append("hidden")
        return ", ".join(notes)

    def public(self, now: float) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "name": self.name,
            "groups": self.effective_groups(now),
            "editcount": self.editcount,
            "registered": self.registered,
            "email": self.email,
            "email_confirmed": self.email_confirmed,
            "realname": self.realname,
            "blocked": self.blocked,
            "hidden": self.hidden,
        }


@dataclass
class RequestToken:
    key: str
    secret: str
    consumer_key: str
    callback: str | None  # consumed by the first authorization, like the wiki's cache entry
    expires: float
    verifier: str | None = None
    access_key: str | None = None
    used: bool = False


@dataclass
class AccessToken:
    key: str
    secret: str
    consumer_key: str
    sub: int
    grants: list[tuple[int, str]]
    revoked: bool = False


@dataclass
class Revision:
    revid: int
    timestamp: float
    user: str
    comment: str
    text: str


@dataclass
class Page:
    pageid: int
    title: str
    revisions: list[Revision] = field(default_factory=list)

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]
